"""Discord-style snowflake ids whose embedded timestamps are real, so ``created_at`` makes sense."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Hands out strictly increasing snowflakes (timestamp << 22 | worker << 17 | increment)."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._counter = itertools.count()
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            candidate = (ms << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)
            if candidate <= self._last:
                candidate = self._last + 1
            self._last = candidate
            return candidate

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next snowflake whose server would be on ``shard_id`` of ``shard_count``: its timestamp is moved on by
        less than ``shard_count`` milliseconds, so ids stay increasing (later ones start after it)."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} is not one of 0..{shard_count - 1}")
        with self._lock:
            ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, (self._last >> 22) + 1)
            ms += (shard_id - ms) % shard_count
            candidate = (ms << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)
            self._last = candidate
            return candidate


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a server's events to (https://discord.com/developers/docs/events/gateway#sharding)."""
    return (guild_id >> 22) % shard_count


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()
