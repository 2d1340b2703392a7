"""SQLite, the embedded default: one connection that writes, one that reads.

Writes are serialised: aiosqlite runs every statement of a connection on its own thread, which orders statements but
not transactions (two tasks interleaving ``BEGIN``...``COMMIT`` on one connection would mix their writes), so an
``asyncio.Lock`` makes each transaction and each autocommitted statement exclusive on the writing connection.

Plain reads go through a second, read-only connection. With WAL each read statement sees the database as of its last
commit: never the rows of a transaction another task still holds open (which it may roll back). Every read runs to
completion in one trip to the reading thread, so the reader never keeps an old snapshot open between two trips: what
a task committed is visible to its next read.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.db.database import Database, Migration, Params, Row, Transaction, bundled_migrations
from bot.db.dialect import SQLITE

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000


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


async def _fetchall(conn: aiosqlite.Connection, sql: str, params: Params) -> list[Row]:
    # One trip: the statement runs to its end (and its read snapshot ends) before any other read starts.
    return list(await conn.execute_fetchall(sql, params))


async def _execute(conn: aiosqlite.Connection, sql: str, params: Params) -> int:
    cursor = await conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        await cursor.close()


async def _fetchone_write(conn: aiosqlite.Connection, sql: str, params: Params) -> Row:
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("the statement returned no row")
    return row


class SqliteTransaction(Transaction):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn  # reads in a transaction go through the writer, and see its own writes

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await _fetchall(self._conn, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await _execute(self._conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        return await _fetchone_write(self._conn, sql, params)


class SqliteDatabase(Database):
    """An open SQLite file. Create with :meth:`open`."""

    dialect = SQLITE

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, path: Path) -> None:
        self._write_conn = writer
        self._read_conn = reader
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating if needed) the file with WAL, foreign keys and a busy timeout: a writing connection, then
        a read-only one (WAL is set first, so the reader shares it)."""
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path, read_only=False)
        try:
            reader = await _connect(path, read_only=True)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader, path)

    @property
    def description(self) -> str:
        return f"SQLite {self.path}"

    async def __aenter__(self) -> SqliteDatabase:
        return self

    async def hold_shards(self, shard_ids: Sequence[int], *, on_lost: Callable[[], None] | None = None) -> None:
        """Nothing to hold: one process runs every shard on a SQLite file (the bot takes the file's lock)."""

    async def close(self) -> None:
        try:
            await self._read_conn.close()
        finally:
            await self._write_conn.close()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await _fetchall(self._read_conn, sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._write_lock:
            return await _execute(self._write_conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        async with self._write_lock:
            return await _fetchone_write(self._write_conn, sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises (aiosqlite itself never commits)."""
        async with self._write_lock:
            # BEGIN is inside the try: a task cancelled while it waits for BEGIN (a timer's handler timeout, the bot
            # closing) has still queued it on the database thread, and the ROLLBACK queued after it undoes it.
            try:
                await self._write_conn.execute("BEGIN IMMEDIATE")
                yield SqliteTransaction(self._write_conn)
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
        """``PRAGMA user_version``: SQLite's own slot for it, set in the migration's transaction."""
        return int(await self.fetchval("PRAGMA user_version"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[Migration]:
        # BEGIN IMMEDIATE takes the file's write lock: a second process migrating at the same moment waits for it
        # (busy timeout), then finds the version already bumped and skips the migration.
        applied: list[Migration] = []
        for migration in migrations or bundled_migrations("sqlite"):
            async with self._write_lock:
                try:
                    await self._write_conn.execute("BEGIN IMMEDIATE")
                    version = (await _fetchall(self._write_conn, "PRAGMA user_version", ()))[0][0]
                    if migration.number <= version:
                        await self._write_conn.execute("COMMIT")
                        continue
                    # executescript() would COMMIT first; the statements run one by one inside our transaction.
                    for statement in _statements(migration.sql):
                        await self._write_conn.execute(statement)
                    await self._write_conn.execute(f"PRAGMA user_version = {migration.number}")
                    await self._write_conn.execute("COMMIT")
                except Exception:
                    await self._roll_back()
                    log.error(
                        "migration %s failed; the database is left at version %s",
                        migration.name,
                        await self.schema_version(),
                    )
                    raise
            applied.append(migration)
            log.info("applied migration %s", migration.name)
        return applied

    async def backup(self, destination: Path) -> None:
        """Copy the database with SQLite's online backup API: consistent even while the bot keeps writing.

        It copies through the reading connection, so it holds what was committed, never a half-done transaction.
        """
        destination.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(destination) as target:
            await self._read_conn.backup(target)


def _statements(script: str) -> list[str]:
    """A migration file split into complete statements (``sqlite3.complete_statement`` knows strings, comments and
    triggers' bodies, so a ``;`` inside them does not end a statement)."""
    statements: list[str] = []
    start = 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : end + 1]):
            statements.append(script[start : end + 1].strip())
            start = end + 1
    rest = "\n".join(line for line in script[start:].splitlines() if not line.strip().startswith("--"))
    if rest.strip():
        raise RuntimeError(f"a migration ends in an incomplete statement: {rest.strip()[:80]!r}")
    return statements
