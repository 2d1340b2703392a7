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


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()
