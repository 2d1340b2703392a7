"""The database the bot owns: one connection that writes, one that reads, explicit transactions and migrations.

Writes are serialised: aiosqlite runs every statement of a connection on its own thread, which orders statements but
not transactions (two tasks interleaving ``BEGIN``...``COMMIT`` on one connection would mix their writes), so an
``asyncio.Lock`` makes each :meth:`Database.transaction` and each autocommitted statement exclusive on the writing
connection.

Plain reads (:meth:`Database.fetchall` and friends) go through a second, read-only connection. With WAL each read
statement sees the database as of its last commit: never the rows of a transaction another task still holds open
(which it may roll back). Reads inside a transaction go through the :class:`Transaction`, and see its own writes.
Every read runs to completion in one trip to the reading thread, so the reader never keeps an old snapshot open
between two trips: what a task committed is visible to its next read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
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
    """Reads over one connection: what Database (its reading connection) and Transaction (the writing one) share."""

    _read_conn: aiosqlite.Connection

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        # One trip: the statement runs to its end (and its read snapshot ends) before any other read starts.
        return list(await self._read_conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """The first row (the statement still runs to its end: give it a query of one row)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


async def _execute(conn: aiosqlite.Connection, sql: str, params: Params) -> tuple[int, int]:
    """(last inserted row id, rows changed) of one writing statement."""
    cursor = await conn.execute(sql, params)
    try:
        return cursor.lastrowid or 0, cursor.rowcount
    finally:
        await cursor.close()


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    # isolation_level=None: autocommit, so that transactions are exactly the ones we BEGIN ourselves.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


class Database(_Queries):
    """An open database. Create with :meth:`open`; close with :meth:`close` (or ``async with``)."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path) -> None:
        self._write_conn = writer
        self._read_conn = reader
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the file with WAL, foreign keys and a busy timeout: a writing connection, then
        a read-only one (WAL is set first, so the reader shares it)."""
        path = Path(path)
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path, read_only=False)
        try:
            reader = await _connect(path, read_only=True)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader, path)

    async def close(self) -> None:
        try:
            await self._read_conn.close()
        finally:
            await self._write_conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- statements -------------------------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement on its own (autocommitted); return the last inserted row id."""
        async with self._write_lock:
            return (await _execute(self._write_conn, sql, params))[0]

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement on its own (autocommitted); return how many rows it changed."""
        async with self._write_lock:
            return (await _execute(self._write_conn, sql, params))[1]

    async def fetchone_write(self, sql: str, params: Params = ()) -> aiosqlite.Row:
        """Run one writing statement with ``RETURNING`` on its own (autocommitted) and return its row."""
        async with self._write_lock:
            async with self._write_conn.execute(sql, params) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise RuntimeError("the statement returned no row")
            return row

    async def execute_changes(self, sql: str, params: Params = ()) -> int:
        """Like :meth:`execute_rowcount`, in a single trip to the database thread (for hot write paths)."""
        async with self._write_lock:
            before = self._write_conn.total_changes
            await self._write_conn.execute_fetchall(sql, params)
            return self._write_conn.total_changes - before

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises (aiosqlite itself never commits)."""
        async with self._write_lock:
            # BEGIN is inside the try: a task cancelled while it waits for BEGIN (a timer's handler timeout, the bot
            # closing) has still queued it on the database thread, and the ROLLBACK queued after it undoes it.
            try:
                await self._write_conn.execute("BEGIN IMMEDIATE")
                yield Transaction(self._write_conn)
                await self._write_conn.execute("COMMIT")
            except BaseException:
                await self._roll_back()
                raise

    async def _roll_back(self) -> None:
        """End the writing connection's transaction, if it has one (a BEGIN that failed, e.g. busy, left none)."""
        try:
            await self._write_conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            # Every statement queued before the ROLLBACK has run by now, so in_transaction is up to date.
            if self._write_conn.in_transaction:
                raise

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
                    await self._write_conn.executescript(
                        f"BEGIN IMMEDIATE;\n{migration.sql}\n;PRAGMA user_version = {migration.number};\nCOMMIT;"
                    )
                except Exception:
                    if self._write_conn.in_transaction:
                        await self._write_conn.execute("ROLLBACK")
                    log.error(
                        "migration %s failed; the database is left at version %s",
                        migration.name,
                        await self.schema_version(),
                    )
                    raise
            log.info("applied migration %s", migration.name)
        return pending

    async def backup(self, destination: Path | str) -> None:
        """Copy the database with SQLite's online backup API: consistent even while the bot keeps writing.

        It copies through the reading connection, so it holds what was committed, never a half-done transaction.
        """
        destination = Path(destination)
        destination.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(destination) as target:
            await self._read_conn.backup(target)


class Transaction(_Queries):
    """The handle a ``transaction()`` block writes through; it only exists while the transaction is open."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._write_conn = conn
        self._read_conn = conn  # reads in a transaction see its own writes

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement in the transaction; return the last inserted row id."""
        return (await _execute(self._write_conn, sql, params))[0]

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        """Run one statement in the transaction; return how many rows it changed."""
        return (await _execute(self._write_conn, sql, params))[1]

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._write_conn.executemany(sql, rows)
