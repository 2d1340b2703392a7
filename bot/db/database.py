"""The one SQLite connection the bot owns, with explicit transactions and numbered migrations.

aiosqlite runs every statement on a single background thread, so one connection serialises statements for free, but
not transactions: two tasks interleaving ``BEGIN``...``COMMIT`` on one connection would mix their writes. An
``asyncio.Lock`` makes each :meth:`Database.transaction` exclusive; reads outside a transaction need no lock.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Params = Sequence[Any] | dict[str, Any]


class Reader(Protocol):
    """Anything queries can read through: the :class:`Database` itself, or an open :class:`Transaction`."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...


@dataclass(frozen=True)
class Migration:
    """One numbered schema change; ``number`` becomes ``PRAGMA user_version`` once it is applied."""

    number: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped in ``bot/db/migrations``, in order, checked for gaps."""
    found: list[Migration] = []
    for entry in resources.files("bot.db").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.number)
    for expected, migration in enumerate(found, start=1):
        if migration.number != expected:
            raise RuntimeError(f"migration {migration.name} is out of sequence: expected number {expected:04d}")
    return found


class _Queries:
    """Reads, and unlocked single statements, over one connection: what Database and Transaction share."""

    _conn: aiosqlite.Connection

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def _execute(self, sql: str, params: Params) -> tuple[int, int]:
        """(last inserted row id, rows changed) of one statement."""
        cursor = await self._conn.execute(sql, params)
        try:
            return cursor.lastrowid or 0, cursor.rowcount
        finally:
            await cursor.close()


class Database(_Queries):
    """An open database. Create with :meth:`open`; close with :meth:`close` (or ``async with``)."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the file with WAL, foreign keys and a busy timeout."""
        path = Path(path)
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, so that transactions are exactly the ones we BEGIN ourselves.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- statements -------------------------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement on its own (autocommitted); return the last inserted row id."""
        async with self._write_lock:
            return (await self._execute(sql, params))[0]

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement on its own (autocommitted); return how many rows it changed."""
        async with self._write_lock:
            return (await self._execute(sql, params))[1]

    async def fetchone_write(self, sql: str, params: Params = ()) -> aiosqlite.Row:
        """Run one writing statement with ``RETURNING`` on its own (autocommitted) and return its row."""
        async with self._write_lock:
            async with self._conn.execute(sql, params) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise RuntimeError("the statement returned no row")
            return row

    async def execute_changes(self, sql: str, params: Params = ()) -> int:
        """Like :meth:`execute_rowcount`, in a single trip to the database thread (for hot write paths)."""
        async with self._write_lock:
            before = self._conn.total_changes
            await self._conn.execute_fetchall(sql, params)
            return self._conn.total_changes - before

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises (aiosqlite itself never commits)."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    # -- schema -----------------------------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[Migration]:
        """Apply every migration newer than ``PRAGMA user_version``, each in one transaction; return those applied."""
        pending = [m for m in (migrations or bundled_migrations()) if m.number > await self.schema_version()]
        for migration in pending:
            async with self._write_lock:
                # executescript() runs the whole file; our explicit BEGIN/COMMIT keep it one transaction, and the
                # version bump commits with it or not at all.
                try:
                    await self._conn.executescript(
                        f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.number};\nCOMMIT;"
                    )
                except Exception:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    log.error(
                        "migration %s failed; the database is left at version %s",
                        migration.name,
                        await self.schema_version(),
                    )
                    raise
            log.info("applied migration %s", migration.name)
        return pending

    async def backup(self, destination: Path | str) -> None:
        """Copy the database with SQLite's online backup API: consistent even while the bot keeps writing."""
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(destination) as target:
            await self._conn.backup(target)


class Transaction(_Queries):
    """The handle a ``transaction()`` block writes through; it only exists while the transaction is open."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement in the transaction; return the last inserted row id."""
        return (await self._execute(sql, params))[0]

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement in the transaction; return how many rows it changed."""
        return (await self._execute(sql, params))[1]

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)
