"""Filtering rows by the shard of their server, in SQL (the same on SQLite and PostgreSQL).

The SQL twin of :func:`bot.core.shards.shard_of`, Discord's ``(guild_id >> 22) % shard_count``: a process that runs
some of the bot's shards reads, at start-up, only the servers of those shards.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.database import placeholders


def on_shards(column: str, shard_ids: Sequence[int]) -> str:
    """A condition true for rows whose server id ``column`` is on one of ``shard_ids``; its parameters, in order,
    are :func:`shard_params`."""
    return f"({column} >> 22) % ? IN ({placeholders(len(shard_ids))})"


def shard_params(shard_count: int, shard_ids: Sequence[int]) -> tuple[int, ...]:
    return (shard_count, *shard_ids)
