"""region partitions: persons, policies, issued codes, revocation events and clinic checks by region

Every one of the five tables gets `region_code`: the region of the person's insurer for a person and every
row of theirs (policies, codes, the codes' events), so one person's rows always lie in one region and move
together; the clinic's region for a clinic check; "" when the insurer or clinic has no region. The
country-wide directory `enp_directory` (ЕНП → region, person id) keeps ЕНП unique and gives a number
look-up its region; a trigger on persons keeps it (docs/scaling.md, "PostgreSQL, partitioned by region").

On PostgreSQL the five become `PARTITION BY LIST (region_code)` tables, one partition per row of
`regions` and a DEFAULT one, the rows moved in place (a new partitioned table filled by INSERT … SELECT,
the old one dropped, the id sequences kept); `organisations.create_region` adds the partitions of a new
region (webapp/db/partitions.py). A unique key on a partitioned table must hold the region, so the
primary keys are (region_code, id), the tables that reference persons reference `enp_directory.person_id`
instead, and the references between the five carry the region and follow a move (ON UPDATE CASCADE:
PostgreSQL moves each row to its new partition). SQLite keeps its flat tables and gets the column, the
directory and the triggers.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PARTITIONED = ("persons", "policies", "issued_codes", "revocation_events", "clinic_checks")

#: Each table's rows with their region in front, in the order the references need them filled.
_WITH_REGION = {
    "persons": "SELECT coalesce(r.code, ''), t.* FROM {old} AS t JOIN insurers AS i ON i.id = t.insurer_id "
    "LEFT JOIN regions AS r ON r.id = i.region_id",
    "policies": "SELECT p.region_code, t.* FROM {old} AS t JOIN persons AS p ON p.id = t.person_id",
    "issued_codes": "SELECT p.region_code, t.* FROM {old} AS t JOIN policies AS p ON p.id = t.policy_id",
    "revocation_events": "SELECT c.region_code, t.* FROM {old} AS t JOIN issued_codes AS c ON c.id = t.code_id",
    "clinic_checks": "SELECT coalesce(r.code, ''), t.* FROM {old} AS t JOIN clinics AS c ON c.id = t.clinic_id "
    "LEFT JOIN regions AS r ON r.id = c.region_id",
}

#: The keys and indexes of the partitioned tables: each unique one holds the region, as PostgreSQL requires;
#: ЕНП's country-wide uniqueness is the directory's. Every table keeps an index on id alone, for the ORM's
#: reads and writes by id.
_KEYS = """
ALTER TABLE persons ADD CONSTRAINT persons_pkey PRIMARY KEY (region_code, id),
    ADD CONSTRAINT persons_enp_key UNIQUE (enp, region_code),
    ADD CONSTRAINT persons_insurer_id_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    ADD CONSTRAINT persons_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions (id);
CREATE INDEX ix_persons_id ON persons (id);
CREATE INDEX ix_persons_insurer_id ON persons (insurer_id);
CREATE INDEX ix_persons_snils ON persons (snils);

ALTER TABLE policies ADD CONSTRAINT policies_pkey PRIMARY KEY (region_code, id),
    ADD CONSTRAINT policies_person_id_fkey FOREIGN KEY (region_code, person_id)
        REFERENCES persons (region_code, id) ON UPDATE CASCADE,
    ADD CONSTRAINT policies_insurer_id_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id);
CREATE INDEX ix_policies_id ON policies (id);
CREATE INDEX ix_policies_insurer_id ON policies (insurer_id);
CREATE INDEX ix_policies_person_id ON policies (person_id);
CREATE UNIQUE INDEX uq_policies_one_open_per_person ON policies (person_id, region_code) WHERE status != 'closed';

ALTER TABLE issued_codes ADD CONSTRAINT issued_codes_pkey PRIMARY KEY (region_code, id),
    ADD CONSTRAINT issued_codes_person_id_serial_key UNIQUE (person_id, serial, region_code),
    ADD CONSTRAINT issued_codes_text_hash_key UNIQUE (text_hash, region_code),
    ADD CONSTRAINT issued_codes_policy_id_fkey FOREIGN KEY (region_code, policy_id)
        REFERENCES policies (region_code, id) ON UPDATE CASCADE,
    ADD CONSTRAINT issued_codes_person_id_fkey FOREIGN KEY (person_id) REFERENCES enp_directory (person_id);
CREATE INDEX ix_issued_codes_id ON issued_codes (id);
CREATE INDEX ix_issued_codes_kid ON issued_codes (kid);
CREATE INDEX ix_issued_codes_policy_id ON issued_codes (policy_id);
CREATE UNIQUE INDEX uq_issued_codes_one_current_per_person ON issued_codes (person_id, region_code)
    WHERE status = 'current';

ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_pkey PRIMARY KEY (region_code, id),
    ADD CONSTRAINT revocation_events_code_id_fkey FOREIGN KEY (region_code, code_id)
        REFERENCES issued_codes (region_code, id) ON UPDATE CASCADE;
CREATE INDEX ix_revocation_events_id ON revocation_events (id);
CREATE INDEX ix_revocation_events_code_id ON revocation_events (code_id);

ALTER TABLE clinic_checks ADD CONSTRAINT clinic_checks_pkey PRIMARY KEY (region_code, id),
    ADD CONSTRAINT clinic_checks_clinic_id_fkey FOREIGN KEY (clinic_id) REFERENCES clinics (id);
CREATE INDEX ix_clinic_checks_id ON clinic_checks (id);
CREATE INDEX ix_clinic_checks_clinic_id ON clinic_checks (clinic_id);
CREATE INDEX ix_clinic_checks_clinic_shown_at ON clinic_checks (clinic_id, shown, at);
"""

#: The directory follows persons: statement triggers with transition tables, so a COPY of a whole import batch
#: costs one INSERT … SELECT, and a move between partitions (an UPDATE of region_code) one UPDATE. A second
#: person with a known ЕНП fails on the directory's primary key, whatever their region.
_POSTGRESQL_DIRECTORY = """
CREATE TABLE enp_directory (
    enp varchar(16) NOT NULL CONSTRAINT enp_directory_pkey PRIMARY KEY,
    region_code varchar(2) NOT NULL,
    person_id integer NOT NULL CONSTRAINT enp_directory_person_id_key UNIQUE
);
INSERT INTO enp_directory (enp, region_code, person_id) SELECT enp, region_code, id FROM persons;

CREATE FUNCTION enp_directory_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enp_directory (enp, region_code, person_id) SELECT enp, region_code, id FROM added;
    RETURN NULL;
END $$;
CREATE FUNCTION enp_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enp_directory AS d SET enp = c.enp, region_code = c.region_code FROM changed AS c
    WHERE d.person_id = c.id AND (d.enp, d.region_code) IS DISTINCT FROM (c.enp, c.region_code);
    RETURN NULL;
END $$;
CREATE FUNCTION enp_directory_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM enp_directory AS d USING removed AS r WHERE d.person_id = r.id;
    RETURN NULL;
END $$;
CREATE TRIGGER enp_directory_added AFTER INSERT ON persons
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION enp_directory_added();
CREATE TRIGGER enp_directory_changed AFTER UPDATE ON persons
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION enp_directory_changed();
CREATE TRIGGER enp_directory_removed AFTER DELETE ON persons
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION enp_directory_removed();
"""

_SQLITE_DIRECTORY = (
    """CREATE TABLE enp_directory (
        enp VARCHAR(16) NOT NULL PRIMARY KEY,
        region_code VARCHAR(2) NOT NULL,
        person_id INTEGER NOT NULL UNIQUE
    )""",
    "INSERT INTO enp_directory (enp, region_code, person_id) SELECT enp, region_code, id FROM persons",
    """CREATE TRIGGER enp_directory_added AFTER INSERT ON persons BEGIN
        INSERT INTO enp_directory (enp, region_code, person_id) VALUES (NEW.enp, NEW.region_code, NEW.id);
    END""",
    """CREATE TRIGGER enp_directory_changed AFTER UPDATE OF enp, region_code ON persons BEGIN
        UPDATE enp_directory SET enp = NEW.enp, region_code = NEW.region_code WHERE person_id = NEW.id;
    END""",
    """CREATE TRIGGER enp_directory_removed AFTER DELETE ON persons BEGIN
        DELETE FROM enp_directory WHERE person_id = OLD.id;
    END""",
)

#: SQLite's region of each row, as _WITH_REGION gives it on PostgreSQL.
_SQLITE_REGIONS = {
    "persons": "SELECT coalesce(r.code, '') FROM insurers AS i LEFT JOIN regions AS r ON r.id = i.region_id "
    "WHERE i.id = persons.insurer_id",
    "policies": "SELECT p.region_code FROM persons AS p WHERE p.id = policies.person_id",
    "issued_codes": "SELECT p.region_code FROM policies AS p WHERE p.id = issued_codes.policy_id",
    "revocation_events": "SELECT c.region_code FROM issued_codes AS c WHERE c.id = revocation_events.code_id",
    "clinic_checks": "SELECT coalesce(r.code, '') FROM clinics AS c LEFT JOIN regions AS r ON r.id = c.region_id "
    "WHERE c.id = clinic_checks.clinic_id",
}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _partition()
    else:
        _add_columns()


def _add_columns() -> None:
    for table in PARTITIONED:
        op.add_column(table, sa.Column("region_code", sa.String(length=2), nullable=False, server_default=""))
        op.execute(f"UPDATE {table} SET region_code = coalesce(({_SQLITE_REGIONS[table]}), '')")  # noqa: S608 (names of ours)
    for statement in _SQLITE_DIRECTORY:
        op.execute(statement)


def _partition() -> None:
    connection = op.get_bind()
    references = _references_to_persons(connection)
    _drop_references(connection)
    regions = [code for (code,) in connection.execute(sa.text("SELECT code FROM regions ORDER BY code"))]
    for table in PARTITIONED:
        _move_into_partitions(table, regions)
    op.execute(_POSTGRESQL_DIRECTORY)
    op.execute(_KEYS)
    for table, columns, name in references:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES enp_directory (person_id)"
        )
    op.execute(f"ANALYZE enp_directory, {', '.join(PARTITIONED)}")


def _references_to_persons(connection: sa.Connection) -> list[tuple[str, str, str]]:
    """The other tables' references to a person (accounts, requests, representations, …): they will point at
    the directory, whose person ids are unique across the country."""
    return [
        (table, columns, name)
        for table, columns, name in connection.execute(
            sa.text(
                """
                SELECT c.conrelid::regclass::text, string_agg(a.attname, ', ' ORDER BY k.ordinality), c.conname
                FROM pg_constraint AS c
                CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, ordinality)
                JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                WHERE c.contype = 'f' AND c.confrelid = 'persons'::regclass
                  AND c.conrelid::regclass::text NOT IN :partitioned
                GROUP BY c.conrelid, c.conname ORDER BY 1, 3
                """
            ).bindparams(sa.bindparam("partitioned", expanding=True)),
            {"partitioned": list(PARTITIONED)},
        )
    ]


def _drop_references(connection: sa.Connection) -> None:
    """Every reference to one of the five from anywhere: each is made again, with the region, after the move.
    A reference to one of the others from outside the five has no rule here, and stops the migration."""
    rows = connection.execute(
        sa.text(
            """
            SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text FROM pg_constraint AS c
            WHERE c.contype = 'f' AND c.confrelid::regclass::text IN :partitioned
            """
        ).bindparams(sa.bindparam("partitioned", expanding=True)),
        {"partitioned": list(PARTITIONED)},
    ).all()
    for table, name, target in rows:
        if table not in PARTITIONED and target != "persons":
            raise RuntimeError(f"{table}.{name} references {target}: no rule for it in 0012_region_partitions")
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def _move_into_partitions(table: str, regions: list[str]) -> None:
    """The table becomes a partitioned one of the same columns, defaults and checks, its rows and id sequence
    kept; its keys and indexes come back once all five are moved (_KEYS)."""
    old = f"{table}_flat"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(
        f"CREATE TABLE {table} (region_code varchar(2) NOT NULL DEFAULT '', "
        f"LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (region_code)"
    )
    for code in regions:
        op.execute(f"CREATE TABLE {table}_{code} PARTITION OF {table} FOR VALUES IN ('{code}')")
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"INSERT INTO {table} {_WITH_REGION[table].format(old=old)}")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")


#: The flat tables' keys and indexes, as 0010 left them.
_FLAT_KEYS = """
ALTER TABLE persons ADD CONSTRAINT persons_pkey PRIMARY KEY (id),
    ADD CONSTRAINT persons_enp_key UNIQUE (enp),
    ADD CONSTRAINT persons_insurer_id_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id),
    ADD CONSTRAINT persons_region_id_fkey FOREIGN KEY (region_id) REFERENCES regions (id);
CREATE INDEX ix_persons_insurer_id ON persons (insurer_id);
CREATE INDEX ix_persons_snils ON persons (snils);

ALTER TABLE policies ADD CONSTRAINT policies_pkey PRIMARY KEY (id),
    ADD CONSTRAINT policies_person_id_fkey FOREIGN KEY (person_id) REFERENCES persons (id),
    ADD CONSTRAINT policies_insurer_id_fkey FOREIGN KEY (insurer_id) REFERENCES insurers (id);
CREATE INDEX ix_policies_insurer_id ON policies (insurer_id);
CREATE INDEX ix_policies_person_id ON policies (person_id);
CREATE UNIQUE INDEX uq_policies_one_open_per_person ON policies (person_id) WHERE status != 'closed';

ALTER TABLE issued_codes ADD CONSTRAINT issued_codes_pkey PRIMARY KEY (id),
    ADD CONSTRAINT issued_codes_person_id_serial_key UNIQUE (person_id, serial),
    ADD CONSTRAINT issued_codes_text_hash_key UNIQUE (text_hash),
    ADD CONSTRAINT issued_codes_policy_id_fkey FOREIGN KEY (policy_id) REFERENCES policies (id),
    ADD CONSTRAINT issued_codes_person_id_fkey FOREIGN KEY (person_id) REFERENCES persons (id);
CREATE INDEX ix_issued_codes_kid ON issued_codes (kid);
CREATE INDEX ix_issued_codes_policy_id ON issued_codes (policy_id);
CREATE UNIQUE INDEX uq_issued_codes_one_current_per_person ON issued_codes (person_id) WHERE status = 'current';

ALTER TABLE revocation_events ADD CONSTRAINT revocation_events_pkey PRIMARY KEY (id),
    ADD CONSTRAINT revocation_events_code_id_fkey FOREIGN KEY (code_id) REFERENCES issued_codes (id);
CREATE INDEX ix_revocation_events_code_id ON revocation_events (code_id);

ALTER TABLE clinic_checks ADD CONSTRAINT clinic_checks_pkey PRIMARY KEY (id),
    ADD CONSTRAINT clinic_checks_clinic_id_fkey FOREIGN KEY (clinic_id) REFERENCES clinics (id);
CREATE INDEX ix_clinic_checks_clinic_id ON clinic_checks (clinic_id);
CREATE INDEX ix_clinic_checks_clinic_shown_at ON clinic_checks (clinic_id, shown, at);
"""


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _flatten()
        return
    for trigger in ("enp_directory_added", "enp_directory_changed", "enp_directory_removed"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("enp_directory")
    for table in PARTITIONED:  # SQLite's own DROP COLUMN: a batch would copy persons under the others' references
        op.execute(f"ALTER TABLE {table} DROP COLUMN region_code")


def _flatten() -> None:
    connection = op.get_bind()
    references = connection.execute(
        sa.text(
            """
            SELECT c.conrelid::regclass::text, string_agg(a.attname, ', ' ORDER BY k.ordinality), c.conname
            FROM pg_constraint AS c
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, ordinality)
            JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
            WHERE c.contype = 'f' AND c.confrelid = 'enp_directory'::regclass AND c.conparentid = 0
            GROUP BY c.conrelid, c.conname ORDER BY 1, 3
            """
        )
    ).all()
    for table, _, name in references:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table in reversed(PARTITIONED):  # the references among the five go with their tables
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_partitioned")
    for table in PARTITIONED:
        old = f"{table}_partitioned"
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        op.execute(f"ALTER TABLE {table} DROP COLUMN region_code")
        columns = ", ".join(
            name
            for (name,) in connection.execute(
                sa.text(
                    "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 "
                    "AND NOT attisdropped ORDER BY attnum"
                ),
                {"table": table},
            )
        )
        op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")  # noqa: S608 (the catalog's names)
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for table in reversed(PARTITIONED):
        op.execute(f"DROP TABLE {table}_partitioned")
    op.execute("DROP TABLE enp_directory")
    for function in ("enp_directory_added", "enp_directory_changed", "enp_directory_removed"):
        op.execute(f"DROP FUNCTION {function}()")
    op.execute(_FLAT_KEYS)
    for table, columns, name in references:
        if table not in PARTITIONED:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES persons (id)")
