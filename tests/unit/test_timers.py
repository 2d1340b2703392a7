"""Persisted timers on a real database: scheduling, replacing, cancelling, retrying and waking up on time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.timers import Timer, TimerService
from bot.db.database import Database


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_due_timers_run_once_in_order_and_survive_a_new_service(db: Database) -> None:
    clock = FixedClock(START)
    seen: list[str] = []

    async def handler(timer: Timer) -> None:
        seen.append(timer.key)

    first = TimerService(db, clock)
    first.register("poll.close", handler)
    await first.schedule("poll.close", "b", START + timedelta(minutes=2), {"poll": 2})
    await first.schedule("poll.close", "a", START + timedelta(minutes=1), {"poll": 1})
    assert await first.run_due() == 0

    # A "restart": a new service on the same database, after both deadlines passed.
    clock.moment = START + timedelta(hours=1)
    second = TimerService(db, clock)
    second.register("poll.close", handler)
    assert await second.run_due() == 2
    assert seen == ["a", "b"]
    assert await second.run_due() == 0
    assert await second.pending("poll.close", "a") is None


async def test_scheduling_the_same_key_moves_the_timer(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock)
    await service.schedule("picks.post", "guild-1", START + timedelta(days=1), {"week": 1})
    await service.schedule("picks.post", "guild-1", START + timedelta(days=2), {"week": 2})
    pending = await service.pending("picks.post", "guild-1")
    assert pending is not None
    assert (pending.due_at, pending.payload) == (START + timedelta(days=2), {"week": 2})
    assert await db.fetchval("SELECT count(*) FROM timers") == 1


async def test_cancelled_timers_never_run(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock)
    ran: list[Timer] = []

    async def handler(timer: Timer) -> None:
        ran.append(timer)

    service.register("poll.close", handler)
    await service.schedule("poll.close", "7", START)
    assert await service.cancel("poll.close", "7") is True
    assert await service.cancel("poll.close", "7") is False
    assert await service.run_due() == 0
    assert ran == []


async def test_a_failing_handler_is_retried_with_backoff_then_given_up(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock, retry_delay=timedelta(seconds=10), max_attempts=3)
    calls = 0

    async def flaky(timer: Timer) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("discord is down")

    service.register("poll.close", flaky)
    await service.schedule("poll.close", "1", START)
    assert await service.run_due() == 1
    retry = await service.pending("poll.close", "1")
    assert retry is not None
    assert (retry.attempts, retry.due_at) == (1, START + timedelta(seconds=10))
    clock.moment = START + timedelta(seconds=10)
    await service.run_due()
    clock.moment = START + timedelta(seconds=30)
    await service.run_due()
    assert calls == 3
    assert await service.pending("poll.close", "1") is None
    assert await db.fetchval("SELECT outcome FROM timers") == "failed"


async def test_the_loop_wakes_for_a_timer_scheduled_while_it_sleeps(db: Database) -> None:
    service = TimerService(db, type("Clock", (), {"now": staticmethod(lambda: datetime.now(UTC))})())
    fired = asyncio.Event()

    async def handler(timer: Timer) -> None:
        fired.set()

    service.register("reminder", handler)
    service.start()
    try:
        await asyncio.sleep(0.05)  # the loop is now asleep with nothing to do
        await service.schedule("reminder", "x", datetime.now(UTC) + timedelta(milliseconds=200))
        await asyncio.wait_for(fired.wait(), timeout=5)
    finally:
        await service.stop()
