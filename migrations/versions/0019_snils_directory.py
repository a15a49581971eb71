"""snils_directory: one insured person per СНИЛС, across the region partitions

A СНИЛС belongs to one person, but nothing kept a second registration of someone under a new ЕНП (a form or an
import at another insurer) from being written. persons cannot hold a unique key on it on PostgreSQL (a unique key
of a partitioned table must hold the region), so a country-wide directory, СНИЛС → person, kept by triggers on
persons as `enp_directory` is (0012), refuses the second one whatever its region.

Persons who already share a СНИЛС stay as they are: the directory holds the first registered of them, the others
keep their СНИЛС and can be listed with `flask registry shared-snils` for the insurers to settle.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_FILL = (
    "INSERT INTO snils_directory (snils, person_id) SELECT snils, min(id) FROM persons "
    "WHERE snils IS NOT NULL GROUP BY snils"
)

#: Statement triggers with transition tables, as enp_directory's, so that a COPY of an import batch costs one
#: INSERT … SELECT. An update touches the directory only when the СНИЛС itself changed, so a person left out of
#: it (one of an earlier pair) can still move between insurers.
_POSTGRESQL = (
    """CREATE TABLE snils_directory (
        snils varchar(11) NOT NULL CONSTRAINT snils_directory_pkey PRIMARY KEY,
        person_id integer NOT NULL CONSTRAINT snils_directory_person_id_key UNIQUE
    )""",
    _FILL,
    """
CREATE FUNCTION snils_directory_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO snils_directory (snils, person_id) SELECT snils, id FROM added WHERE snils IS NOT NULL;
    RETURN NULL;
END $$;
CREATE FUNCTION snils_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM snils_directory AS d USING before AS b JOIN changed AS c ON c.id = b.id
    WHERE d.person_id = b.id AND b.snils IS DISTINCT FROM c.snils;
    INSERT INTO snils_directory (snils, person_id)
    SELECT c.snils, c.id FROM before AS b JOIN changed AS c ON c.id = b.id
    WHERE c.snils IS NOT NULL AND b.snils IS DISTINCT FROM c.snils;
    RETURN NULL;
END $$;
CREATE FUNCTION snils_directory_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM snils_directory AS d USING removed AS r WHERE d.person_id = r.id;
    RETURN NULL;
END $$;
CREATE TRIGGER snils_directory_added AFTER INSERT ON persons
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION snils_directory_added();
CREATE TRIGGER snils_directory_changed AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION snils_directory_changed();
CREATE TRIGGER snils_directory_removed AFTER DELETE ON persons
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION snils_directory_removed();
""",
)

_SQLITE = (
    """CREATE TABLE snils_directory (
        snils VARCHAR(11) NOT NULL PRIMARY KEY,
        person_id INTEGER NOT NULL UNIQUE
    )""",
    _FILL,
    """CREATE TRIGGER snils_directory_added AFTER INSERT ON persons WHEN NEW.snils IS NOT NULL BEGIN
        INSERT INTO snils_directory (snils, person_id) VALUES (NEW.snils, NEW.id);
    END""",
    """CREATE TRIGGER snils_directory_changed AFTER UPDATE OF snils ON persons
    WHEN OLD.snils IS NOT NEW.snils BEGIN
        DELETE FROM snils_directory WHERE person_id = OLD.id;
        INSERT INTO snils_directory (snils, person_id) SELECT NEW.snils, NEW.id WHERE NEW.snils IS NOT NULL;
    END""",
    """CREATE TRIGGER snils_directory_removed AFTER DELETE ON persons BEGIN
        DELETE FROM snils_directory WHERE person_id = OLD.id;
    END""",
)

_TRIGGERS = ("snils_directory_added", "snils_directory_changed", "snils_directory_removed")


def upgrade():
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON persons" if postgresql else f"DROP TRIGGER {trigger}")
        if postgresql:
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_table("snils_directory")
