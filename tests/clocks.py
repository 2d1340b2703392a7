"""Clocks for tests: the product reads time through ``bot.core.clock.Clock``, so a test decides what "now" is.

Two kinds cover every test:

- :class:`FixedClock` holds time still; the test moves it by hand (``clock.moment = SLOT`` or ``clock.advance(...)``)
  to say "the bot is now at the slot" or "an hour has passed". Use it when a test asserts on moments.
- :class:`StepClock` moves on by itself, a little at every reading, so every write gets its own moment and "newest
  first" or "edited later" never ties. Use it when a test only needs time to go forward.

Both start on :data:`MARCH_1` (Sunday 1 March 2026, 00:00 UTC) unless told otherwise. The ``clock`` fixture in
``tests/conftest.py`` hands each test a fresh :class:`StepClock`; a module that wants time held still overrides it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Where test clocks start by default: Sunday 1 March 2026, midnight UTC.
MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


class FixedClock:
    """Always answers ``moment``, until the test moves it."""

    def __init__(self, moment: datetime = MARCH_1) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> datetime:
        """Move time on by ``delta`` (as if that long had passed) and return the new moment."""
        self.moment += delta
        return self.moment


class StepClock:
    """Moves on by ``step`` before each reading: the first ``now()`` is ``start + step``, the next ``start + 2*step``.

    ``moment`` is the last moment handed out (``start`` before the first reading)."""

    def __init__(self, start: datetime = MARCH_1, step: timedelta = timedelta(seconds=1)) -> None:
        self.moment = start
        self.step = step

    def now(self) -> datetime:
        self.moment += self.step
        return self.moment
