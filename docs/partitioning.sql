-- Regional segments of the registry: persons and policies list-partitioned by region, one partition
-- per row of `regions` (85 for the whole country), like the real registry's regional segments.
--
-- Run on PostgreSQL after `flask --app webapp db upgrade`, once `regions` is filled:
--     psql "postgresql://…/oms" -f docs/partitioning.sql
-- The partitioned tables copy the columns, defaults and checks of `persons` and `policies`, with the
-- region code in front. docs/scaling.md explains the layout; tests/webapp/test_partitioning.py runs
-- this script on 1,000,000 generated persons and checks that a look-up by region and ЕНП reads one
-- partition.
--
-- Keys carry the region: PostgreSQL enforces a unique key on a partitioned table only together with
-- the partition key, so ЕНП is unique within its region here (see docs/scaling.md for the country-wide
-- ЕНП index).

CREATE TABLE regional_persons (
    region_code varchar(2) NOT NULL,
    LIKE persons INCLUDING DEFAULTS INCLUDING CONSTRAINTS
) PARTITION BY LIST (region_code);

CREATE TABLE regional_policies (
    region_code varchar(2) NOT NULL,
    LIKE policies INCLUDING DEFAULTS INCLUDING CONSTRAINTS
) PARTITION BY LIST (region_code);

DO $$
DECLARE
    region text;
BEGIN
    FOR region IN SELECT code FROM regions ORDER BY code LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF regional_persons FOR VALUES IN (%L)',
                       'regional_persons_' || region, region);
        EXECUTE format('CREATE TABLE %I PARTITION OF regional_policies FOR VALUES IN (%L)',
                       'regional_policies_' || region, region);
    END LOOP;
END
$$;

-- KEYS
-- A bulk load (moving a region's rows in) goes before this point, as pg_dump orders it:
-- building the indexes once is far cheaper than growing them row by row, and the foreign key is
-- checked in one pass.

ALTER TABLE regional_persons
    ADD PRIMARY KEY (region_code, id),
    ADD UNIQUE (region_code, enp);

ALTER TABLE regional_policies
    ADD PRIMARY KEY (region_code, id),
    ADD FOREIGN KEY (region_code, person_id) REFERENCES regional_persons (region_code, id);

-- One open policy per person, as uq_policies_one_open_per_person does for the plain table.
CREATE UNIQUE INDEX regional_policies_one_open_per_person
    ON regional_policies (region_code, person_id) WHERE status <> 'closed';
