"""Where SQLite's SQL and PostgreSQL's differ: the one place.

Queries in bot/db are written once, in the SQL both backends understand (see the rules at the top of each backend).
What cannot be said the same way on both is a named method here, with the two spellings side by side, so a reader
sees every difference at once and a query module never tests which backend it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Dialect:
    """The SQL spelling of one backend. Compare by ``name``; the two instances are :data:`SQLITE` and
    :data:`POSTGRES`."""

    name: str

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    # -- schema and maintenance -------------------------------------------------------------------------------------

    def user_tables(self) -> str:
        """A query of one column, the names of the tables the migrations made (not the backend's own)."""
        if self.is_postgres:
            return (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name"
            )
        return "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"

    # -- catalog (bot/db/catalog.py) --------------------------------------------------------------------------------

    #: The PostgreSQL advisory lock a catalog load holds for its transaction (a constant of this program's own, apart
    #: from the migrations' lock; it reads "filmcatl").
    CATALOG_LOAD_LOCK: ClassVar[int] = 0x66696C6D6361746C

    def catalog_load_lock(self) -> str | None:
        """A statement, run first in a catalog load's transaction, that makes any other load (another process, the
        command line) wait until this transaction ends; None where beginning the transaction already does that
        (SQLite's ``BEGIN IMMEDIATE`` takes the file's write lock)."""
        if self.is_postgres:
            return f"SELECT pg_advisory_xact_lock({self.CATALOG_LOAD_LOCK})"
        return None

    # -- db copy (bot/db/copy.py): reading a schema from the database's own catalog -------------------------------

    def column_names(self) -> str:
        """A query of the column names of the table named by its one parameter, in order."""
        if self.is_postgres:
            return (
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? ORDER BY ordinal_position"
            )
        return "SELECT name FROM pragma_table_info(?) ORDER BY cid"

    def primary_key_columns(self) -> str:
        """A query of the primary key's columns of the table named by its one parameter, in key order."""
        if self.is_postgres:
            return (
                "SELECT a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
                "WHERE i.indrelid = CAST(CAST(? AS TEXT) AS regclass) AND i.indisprimary "
                "ORDER BY array_position(CAST(i.indkey AS smallint[]), a.attnum)"
            )
        return "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk"

    def referenced_tables(self) -> str:
        """A query of the tables that the foreign keys of the table named by its one parameter point at."""
        if self.is_postgres:
            return (
                "SELECT DISTINCT CAST(CAST(confrelid AS regclass) AS TEXT) FROM pg_constraint "
                "WHERE conrelid = CAST(CAST(? AS TEXT) AS regclass) AND contype = 'f'"
            )
        return 'SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)'

    def identity_columns(self) -> str | None:
        """A query of (table, column) for the columns whose next value a sequence hands out, which must be moved
        past ids copied in explicitly; None on SQLite, which takes the largest rowid plus one by itself."""
        if self.is_postgres:
            return (
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name"
            )
        return None

    def reset_identity(self, table: str, column: str) -> str:
        """PostgreSQL: a statement that makes the next ``column`` of ``table`` one more than the largest copied."""
        return (
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608 - names from the catalog
            f'coalesce(max("{column}"), 0) + 1, false) FROM "{table}"'
        )


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")
