"""Where SQLite's SQL and PostgreSQL's differ: the one place.

Queries in bot/db are written once, in the SQL both backends understand (see the rules at the top of each backend).
What cannot be said the same way on both is a named method here, with the two spellings side by side, so a reader
sees every difference at once and a query module never tests which backend it runs on.
"""

from __future__ import annotations

from collections.abc import Sequence
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

    # -- polls ------------------------------------------------------------------------------------------------------

    def json_records(self, array: str, alias: str, columns: Sequence[tuple[str, str]]) -> str:
        """A FROM item ``alias`` with one row per object of the JSON array ``array`` (a parameter or an expression
        of JSON text), and a column per ``(key, type)``: ``BIGINT`` for an integer, ``JSON`` for a nested array
        (to read with :meth:`in_json_integers`). Many rows arrive in one parameter, so a batch is one statement."""
        if self.is_postgres:
            typed = ", ".join(f"{key} {kind}" for key, kind in columns)
            return f"json_to_recordset(CAST({array} AS json)) AS {alias}({typed})"
        fields = ", ".join(f"json_extract(value, '$.{key}') AS {key}" for key, _kind in columns)
        return f"(SELECT {fields} FROM json_each({array})) AS {alias}"  # noqa: S608 - constant fragments

    def in_json_integers(self, value: str, array: str) -> str:
        """A condition: ``value`` is one of the integers of the JSON array ``array`` (a parameter of JSON text, or a
        ``JSON`` column of :meth:`json_records`), e.g. a poll's role among a member's roles."""
        if self.is_postgres:
            elements = f"json_array_elements_text(CAST({array} AS json)) AS j(value)"
            return f"{value} IN (SELECT CAST(j.value AS BIGINT) FROM {elements})"  # noqa: S608 - constant fragments
        return f"{value} IN (SELECT j.value FROM json_each({array}) AS j)"  # noqa: S608 - constant fragments


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")
