"""A server's data as a whole: every row the ownership registry (:mod:`bot.db.ownership`) gives to one server.

The purge walks :data:`~bot.db.ownership.OWNED` in its order (children before parents), so a table added to the
registry is purged without a change here. Rows shared by every server (the curated catalog, the TMDb caches, timers
and films of no server) are never touched: each table's condition matches only the server's own rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.database import Reader, Transaction
from bot.db.ownership import OWNED
from bot.db.shards import on_shards, shard_params


def _delete(table: str, condition: str) -> str:
    return f"DELETE FROM {table} WHERE {condition}"  # noqa: S608 - names and conditions come from the registry


def _count(table: str, condition: str) -> str:
    return f"SELECT COUNT(*) FROM {table} WHERE {condition}"  # noqa: S608 - names and conditions come from the registry


#: Leaves the purge's own timer alone while it runs: the timer service records it done once the purge returns.
_NOT_THE_RUNNING_TIMER = " AND id <> CAST(:running_timer AS BIGINT)"


async def purge(tx: Transaction, guild_id: int, *, running_timer: int | None = None) -> dict[str, int]:
    """Delete every row of the server, table by table in the registry's order; return the rows deleted per table
    (tables with none left out). Rows that triggers keep (review totals) are deleted with their table.

    ``running_timer``: the id of the timer whose handler is purging (the purge after the grace period), kept so that
    its run is recorded (it ends as done, and finished timers go with the retention of the timers table)."""
    deleted: dict[str, int] = {}
    for owned in OWNED:
        condition = owned.guild_condition()
        params: dict[str, int] = {"guild_id": guild_id}
        if owned.table == "timers" and running_timer is not None:
            condition += _NOT_THE_RUNNING_TIMER
            params["running_timer"] = running_timer
        count = await tx.execute(_delete(owned.table, condition), params)
        if count:
            deleted[owned.table] = count
    return deleted


async def row_counts(db: Reader, guild_id: int) -> dict[str, int]:
    """How many rows of the server each table holds (every table of the registry, zeros included)."""
    return {
        owned.table: int(await db.fetchval(_count(owned.table, owned.guild_condition()), {"guild_id": guild_id}))
        for owned in OWNED
    }


async def servers_with_data(db: Reader, shard_count: int, shard_ids: Sequence[int]) -> set[int]:
    """Every server of these shards that has a row in use (:attr:`~bot.db.ownership.Owned.in_use`: a finished timer
    is not) in a table with a guild column (a child row has its parent)."""
    columns = [(owned.table, owned.guild, owned.in_use) for owned in OWNED if owned.guild is not None]
    query = " UNION ".join(
        f"SELECT {column} AS guild_id FROM {table}"  # noqa: S608 - names come from the registry
        f" WHERE {column} IS NOT NULL AND {on_shards(column, shard_ids)}{f' AND {in_use}' if in_use else ''}"
        for table, column, in_use in columns
    )
    params = shard_params(shard_count, shard_ids) * len(columns)
    return {int(row[0]) for row in await db.fetchall(query, params)}
