"""PostgreSQL through asyncpg: for bots that run in several processes sharing one database.

Queries arrive written SQLite style (``?`` or ``:name``); :func:`to_postgres` rewrites them to ``$1``... once per
statement and remembers the result. Reads go through a connection pool, each on its own autocommitted statement, so
they see committed data only. Writes take the process's write lock, like SQLite's, then a pooled connection: one
writer at a time per process keeps the core's read-check-write transactions correct within a process; across
processes, a server's rows are written only by the process that runs its shard.

Migrations are tracked in ``schema_migrations`` (one row per migration applied) and run under an advisory lock, so
several processes starting at once against an empty database migrate it once: the first applies, the others wait
on the lock and then find nothing pending.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.db.database import (
    Database,
    DatabaseUnavailable,
    Migration,
    Params,
    Row,
    ShardsInUse,
    Transaction,
    bundled_migrations,
)
from bot.db.dialect import POSTGRES

log = logging.getLogger(__name__)

#: The advisory lock migrations run under (any constant unique to this program; it reads "filmclub").
MIGRATION_LOCK = 0x66696C6D636C7562
#: The advisory locks that make one process per shard: the two-key form, this class (it reads "fclb") and the shard.
SHARD_LOCK_CLASS = 0x66636C62
#: How long a process starting waits for its shards' locks: enough for the process it replaces to finish closing.
SHARD_LOCK_WAIT = 30.0
#: How often it tries again meanwhile.
SHARD_LOCK_RETRY = 0.5
#: Connections per process: reads run side by side; writes use one at a time.
POOL_MAX = 10
#: Seconds a statement may run before asyncpg gives up on it.
COMMAND_TIMEOUT = 60.0
#: Seconds to wait for the server to accept a connection.
CONNECT_TIMEOUT = 10.0
#: Seconds :meth:`PostgresDatabase.close` waits for busy connections.
CLOSE_GRACE = 10.0

_CREATE_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

# A string literal, a quoted identifier, a comment, a cast (::), a named parameter, or a positional one.
_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::|:([A-Za-z_][A-Za-z0-9_]*)|\?""")


@lru_cache(maxsize=2048)
def to_postgres(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """The statement with ``$n`` parameters, and either the names in ``$n`` order (named style) or how many
    positional parameters there are."""
    names: list[str] = []
    positional = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal positional
        text = match.group(0)
        if text == "?":
            positional += 1
            return f"${positional}"
        name = match.group(1)
        if name is None:  # a literal, an identifier, a comment or a cast: unchanged
            return text
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    rewritten = _TOKENS.sub(replace, sql)
    if names and positional:
        raise ValueError("a statement mixes ? and :name parameters")
    return rewritten, (tuple(names) if names else positional)


def _prepare(sql: str, params: Params) -> tuple[str, Sequence[Any]]:
    statement, shape = to_postgres(sql)
    if isinstance(shape, tuple):
        if not isinstance(params, dict):
            raise TypeError("named parameters need a dict")
        return statement, [params[name] for name in shape]
    if isinstance(params, dict):
        if shape:
            raise TypeError("positional parameters need a sequence")
        return statement, []
    if len(params) != shape:
        raise TypeError(f"the statement has {shape} parameters; {len(params)} given")
    return statement, params


def _rows_changed(status: str) -> int:
    """The count in a command tag such as ``UPDATE 3`` or ``INSERT 0 1`` (0 for tags without one)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _shard_holder(conn: Any, shard: int) -> str:
    """Who holds a shard's lock, for the message that refuses it."""
    holder = await conn.fetchrow(
        "SELECT a.pid, host(a.client_addr) AS addr, a.application_name AS app FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 2",
        SHARD_LOCK_CLASS,
        shard,
    )
    if holder is None:
        return f"shard {shard} is held by another process"
    where = f" from {holder['addr']}" if holder["addr"] else ""
    return f"shard {shard} is held by another process (PostgreSQL backend pid {holder['pid']}{where})"


def masked(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    # From the raw user part: parts.password is decoded, so a password such as p%40ss would not be found in netloc.
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not colon:
        return url
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class _Connection:
    """Statements on one asyncpg connection (a transaction's, or one borrowed from the pool)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        statement, args = _prepare(sql, params)
        return list(await self._conn.fetch(statement, *args))

    async def execute(self, sql: str, params: Params = ()) -> int:
        statement, args = _prepare(sql, params)
        return _rows_changed(await self._conn.execute(statement, *args))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [_prepare(sql, params) for params in rows]
        if batch:
            await self._conn.executemany(batch[0][0], [args for _, args in batch])

    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        statement, args = _prepare(sql, params)
        row = await self._conn.fetchrow(statement, *args)
        if row is None:
            raise RuntimeError("the statement returned no row")
        return row  # type: ignore[no-any-return]


class PostgresTransaction(Transaction):
    dialect = POSTGRES

    def __init__(self, conn: Any) -> None:
        self._on = _Connection(conn)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._on.fetchall(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._on.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._on.executemany(sql, rows)

    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        return await self._on.fetchone_write(sql, params)


class PostgresDatabase(Database):
    """An open PostgreSQL database. Create with :meth:`open`."""

    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url
        self._write_lock = asyncio.Lock()
        self._shard_locks: Any = None  # the connection that holds the shards' advisory locks
        self._on_shards_lost: Callable[[], None] | None = None

    @classmethod
    async def open(cls, url: str, *, max_size: int = POOL_MAX) -> PostgresDatabase:
        """Connect, or raise :class:`DatabaseUnavailable` saying why in one line (never with the password)."""
        where = masked(url)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                pool = await asyncpg.create_pool(
                    url, min_size=1, max_size=max_size, command_timeout=COMMAND_TIMEOUT, timeout=CONNECT_TIMEOUT
                )
        except TimeoutError:
            raise DatabaseUnavailable(
                f"PostgreSQL at {where} did not answer within {CONNECT_TIMEOUT:g} s", retry=True
            ) from None
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            raise DatabaseUnavailable(
                f"PostgreSQL at {where} refused the user or password: {exc}", retry=False
            ) from None
        except asyncpg.InvalidCatalogNameError as exc:
            raise DatabaseUnavailable(f"PostgreSQL at {where}: {exc} (create it first)", retry=False) from None
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {where} ({reason})", retry=True) from None
        return cls(pool, url)

    @property
    def description(self) -> str:
        return f"PostgreSQL {masked(self.url)}"

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool, for what needs a connection of its own (advisory locks held for a process's life)."""
        return self._pool

    async def hold_shards(
        self, shard_ids: Sequence[int], *, on_lost: Callable[[], None] | None = None, wait: float = SHARD_LOCK_WAIT
    ) -> None:
        """A session advisory lock per shard, on a connection of its own kept for the process's life: PostgreSQL
        drops them when that connection ends, so a process that dies (even by kill -9) frees its shards at once.
        A shard another process holds is waited for, up to ``wait`` seconds (the process being replaced may still be
        closing), then refused with the holder named."""
        if self._shard_locks is not None:
            raise RuntimeError("this process already holds its shards")
        conn = await self._pool.acquire()
        try:
            deadline = asyncio.get_running_loop().time() + wait
            for shard in shard_ids:
                while not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", SHARD_LOCK_CLASS, shard):
                    if asyncio.get_running_loop().time() >= deadline:
                        raise ShardsInUse(await _shard_holder(conn, shard))
                    await asyncio.sleep(SHARD_LOCK_RETRY)
        except BaseException:
            await self._pool.release(conn)  # a released connection is reset, which unlocks what it locked
            raise
        conn.add_termination_listener(self._lost_shards)
        self._shard_locks = conn
        self._on_shards_lost = on_lost
        log.info("holding shard(s) %s", ", ".join(map(str, shard_ids)))

    async def close(self) -> None:
        """Close the pool; connections still busy after :data:`CLOSE_GRACE` seconds (a statement that hangs) are cut."""
        if self._shard_locks is not None:
            conn, self._shard_locks = self._shard_locks, None  # first, so that its closing is not taken for a loss
            await self._pool.release(conn)  # nothing to do if it was lost (the pool took it back)
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_GRACE)
        except TimeoutError:
            log.warning("PostgreSQL connections still busy after %s s; closing them anyway", CLOSE_GRACE)
            self._pool.terminate()

    def _lost_shards(self, _conn: Any) -> None:
        """The connection holding the shards' locks ended while the process runs: another process may take the
        shards now, so this one must not go on as their owner."""
        if self._shard_locks is not None:
            log.critical("lost the database connection that holds this process's shards; restart this process")
            if self._on_shards_lost is not None:
                self._on_shards_lost()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._pool.acquire() as conn:
            return await _Connection(conn).fetchall(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._write_lock, self._pool.acquire() as conn:
            return await _Connection(conn).execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetchone_write(self, sql: str, params: Params = ()) -> Row:
        async with self._write_lock, self._pool.acquire() as conn:
            return await _Connection(conn).fetchone_write(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock, self._pool.acquire() as conn, conn.transaction():
            yield PostgresTransaction(conn)

    # -- schema -----------------------------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        async with self._pool.acquire() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            if not exists:
                return 0
            return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[Migration]:
        applied: list[Migration] = []
        async with self._write_lock, self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute(_CREATE_MIGRATIONS)
                for migration in migrations or bundled_migrations("postgres"):
                    done = await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", migration.number)
                    if done:
                        continue
                    try:
                        async with conn.transaction():
                            await conn.execute(migration.sql)  # no arguments: the whole file in one round trip
                            await conn.execute(
                                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                migration.number,
                                migration.name,
                            )
                    except Exception:
                        log.error("migration %s failed; the database is left at the one before it", migration.name)
                        raise
                    applied.append(migration)
                    log.info("applied migration %s", migration.name)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return applied
