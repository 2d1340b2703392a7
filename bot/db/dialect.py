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


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")
