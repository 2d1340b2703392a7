"""Time as a dependency: the product reads a :class:`Clock`, so unit tests can hold time still or move it.

``to_db``/``from_db`` (how storage writes a moment) live in :mod:`bot.db.times`; they are named here too because the
core computes with the same moments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from bot.db.times import from_db, to_db

__all__ = ["Clock", "SystemClock", "from_db", "to_db"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)
