"""The database the bot owns, as the rest of bot/db sees it: one interface, two backends.

SQLite (bot/db/sqlite.py) is the embedded default: one file, nothing to install. PostgreSQL (bot/db/postgres.py) is
for bots that run in several processes. Queries are written once, SQLite style (``?`` or ``:name`` parameters), in
the SQL both understand; the PostgreSQL backend rewrites the parameters, and whatever else differs lives in
:mod:`bot.db.dialect`. Rows never leave bot/db: its modules turn them into typed records.

Both backends promise the same behaviour:

- one writer at a time per process (:meth:`Database.transaction` and autocommitted writes are serialised), so the
  core's read-check-write logic inside a transaction holds within a process; across processes a server's rows are
  written only by the process that runs its shard, and global writes (migrations, catalog loads) take a lock;
- plain reads see committed data only, never a transaction another task still holds open;
- numbered migrations (``migrations/<backend>/NNNN_name.sql``, the same numbers and names for both), each applied in
  one transaction together with the record of its number.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from bot.db.dialect import Dialect

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Params = Sequence[Any] | dict[str, Any]


class Row(Protocol):
    """One result row, by position (``row[0]``) or by column name (``row["film_id"]``)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Reader(Protocol):
    """Anything queries can read through: a :class:`Database`, or an open :class:`Transaction`."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values (at least one)."""
    if count < 1:
        raise ValueError("an IN list needs at least one value")
    return ", ".join("?" * count)


@dataclass(frozen=True)
class Migration:
    """One numbered schema change; its number is recorded, in the same transaction, once it is applied."""

    number: int
    name: str
    sql: str


class ShardsInUse(Exception):
    """Another process runs some of the shards this one was told to run (see :meth:`Database.hold_shards`)."""


def bundled_migrations(backend: str) -> list[Migration]:
    """The migrations shipped in ``bot/db/migrations/<backend>``, in order, checked for gaps."""
    found: list[Migration] = []
    for entry in resources.files("bot.db").joinpath("migrations", backend).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    for expected, migration in enumerate(found, start=1):
        if migration.number != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence: expected number {expected:04d}")
    return found


class _Reads(ABC):
    """The reads a database and a transaction share."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row (the statement still runs to its end: give it a query of one row)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one writing statement; return how many rows it changed (not counting rows changed by triggers)."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    @abstractmethod
    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        """Run one writing statement with ``RETURNING`` and return its (first) row."""


class Transaction(_Reads):
    """The handle a ``transaction()`` block writes through; it only exists while the transaction is open. Its reads
    see its own writes."""

    dialect: Dialect


class Database(_Reads):
    """An open database (:func:`open_database`). Writes outside a transaction are autocommitted one by one."""

    dialect: Dialect

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A block that commits when it ends and rolls back if it raises; one at a time per process."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The number of the last migration applied (0 for an empty database)."""

    @abstractmethod
    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[Migration]:
        """Apply every pending migration, each in one transaction; return those applied. Safe to run from several
        processes at once: one applies them, the others wait and apply none."""

    @abstractmethod
    async def hold_shards(self, shard_ids: Sequence[int], *, on_lost: Callable[[], None] | None = None) -> None:
        """Make this process the only one running ``shard_ids`` until it closes the database (or dies), so each
        server's timers and writes have one process; raises :class:`ShardsInUse` if another process keeps any of
        them. Called once, at start-up, before the process claims any timer. ``on_lost`` is called if the hold
        ends while the process runs (its database connection broke): the process must then stop."""

    @abstractmethod
    async def close(self) -> None: ...

    @property
    @abstractmethod
    def description(self) -> str:
        """What the logs and the command line may show of this database (never a password)."""

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class DatabaseUnavailable(Exception):
    """The database could not be opened: unreachable (``retry`` may help) or refused (a setting is wrong). The
    message names the database without its password."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


async def open_database(target: str | Path) -> Database:
    """A ``postgresql://`` URL opens PostgreSQL; anything else is a SQLite file (created if missing)."""
    if is_postgres_url(target):
        from bot.db.postgres import PostgresDatabase  # noqa: PLC0415 - asyncpg loads only for PostgreSQL

        return await PostgresDatabase.open(str(target))
    from bot.db.sqlite import SqliteDatabase  # noqa: PLC0415 - symmetric with the branch above

    return await SqliteDatabase.open(Path(target))
