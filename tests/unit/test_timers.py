"""Persisted timers on a real database: scheduling, replacing, cancelling, retrying, giving up, running side by side,
waking up on time and forgetting old rows."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import SystemClock, to_db
from bot.core.timers import PermanentFailure, Timer, TimerOutcome, TimerService
from bot.db import timers as timer_store
from bot.db.database import Database
from tests.clocks import FixedClock

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
    ended = await service.latest("poll.close", "1")
    assert ended is not None
    assert (ended.outcome, ended.attempts, ended.last_error) == (
        TimerOutcome.FAILED,
        3,
        "RuntimeError: discord is down",
    )


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


async def test_due_handlers_run_side_by_side(db: Database) -> None:
    """Three due timers whose handlers each wait for the other two: one at a time, the first would never see them."""
    clock = FixedClock(START)
    service = TimerService(db, clock)
    started: set[str] = set()
    all_started = asyncio.Event()

    async def slow(timer: Timer) -> None:
        started.add(timer.key)
        if len(started) == 3:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), timeout=5)

    service.register("reminder", slow)
    for key in ("a", "b", "c"):
        await service.schedule("reminder", key, START)
    assert await service.run_due() == 3
    outcomes = await db.fetchall("SELECT key, outcome FROM timers ORDER BY key")
    assert [tuple(row) for row in outcomes] == [("a", "done"), ("b", "done"), ("c", "done")]


async def test_concurrency_is_bounded(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock, max_concurrent=2)
    running = peak = 0
    two_running = asyncio.Event()

    async def handler(timer: Timer) -> None:
        """The first two wait for each other (so both run at once); a third beside them would raise the peak."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            two_running.set()
        await asyncio.wait_for(two_running.wait(), timeout=5)
        await asyncio.sleep(0)
        running -= 1

    service.register("reminder", handler)
    for key in "abcde":
        await service.schedule("reminder", key, START)
    assert await service.run_due() == 5
    assert peak == 2


async def test_a_timer_runs_once_at_a_time_while_the_loop_keeps_dispatching(db: Database) -> None:
    """While one handler is still running, the loop runs other timers but never starts the same one again."""
    service = TimerService(db, SystemClock())
    runs: list[str] = []
    release = asyncio.Event()
    later_ran = asyncio.Event()

    async def handler(timer: Timer) -> None:
        runs.append(timer.key)
        if timer.key == "slow":
            await release.wait()
        else:
            later_ran.set()

    service.register("reminder", handler)
    await service.schedule("reminder", "slow", datetime.now(UTC))
    service.start()
    try:
        # Each schedule wakes the loop, which looks at the due timers again: "slow" is among them, still running.
        for key in ("quick-1", "quick-2", "quick-3"):
            later_ran.clear()
            await service.schedule("reminder", key, datetime.now(UTC))
            await asyncio.wait_for(later_ran.wait(), timeout=5)
        assert runs.count("slow") == 1
        release.set()
        await asyncio.wait_for(service.drain(), timeout=5)
    finally:
        await service.stop()
    assert runs.count("slow") == 1
    slow = await service.latest("reminder", "slow")
    assert slow is not None
    assert slow.outcome is TimerOutcome.DONE


async def test_stop_cancels_running_handlers_and_keeps_their_timers(db: Database) -> None:
    service = TimerService(db, SystemClock())
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever(timer: Timer) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    service.register("reminder", forever)
    await service.schedule("reminder", "x", datetime.now(UTC))
    service.start()
    await asyncio.wait_for(entered.wait(), timeout=5)
    await service.stop()
    assert cancelled.is_set()
    assert service.running == 0
    assert await service.pending("reminder", "x") is not None  # runs again at the next start


async def test_a_permanent_failure_ends_the_timer_at_once(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock)
    calls = 0

    async def hopeless(timer: Timer) -> None:
        nonlocal calls
        calls += 1
        raise PermanentFailure("the picks channel is gone")

    service.register("picks.post", hopeless)
    await service.schedule("picks.post", "guild-1", START)
    with caplog.at_level(logging.ERROR, logger="bot.core.timers"):
        assert await service.run_due() == 1
    clock.moment = START + timedelta(days=1)
    assert await service.run_due() == 0
    assert calls == 1
    ended = await service.latest("picks.post", "guild-1")
    assert ended is not None
    assert (ended.outcome, ended.attempts) == (TimerOutcome.FAILED, 1)
    assert ended.last_error == "PermanentFailure: the picks channel is gone"
    assert "giving up" in caplog.text
    assert "the picks channel is gone" in caplog.text


async def test_a_timer_that_cannot_be_decoded_fails_once_and_blocks_nothing(db: Database) -> None:
    """A damaged row used to make every pass of the loop raise before any timer ran, for ever."""
    clock = FixedClock(START)
    service = TimerService(db, clock)
    ran: list[str] = []

    async def handler(timer: Timer) -> None:
        ran.append(timer.key)

    service.register("reminder", handler)
    await db.execute(
        "INSERT INTO timers (kind, key, due_at, payload, created_at) VALUES ('reminder', 'broken', ?, '{oops', ?)",
        ("2026-03-01T11:00:00.000000Z", "2026-03-01T10:00:00.000000Z"),
    )
    await service.schedule("reminder", "fine", START)
    assert await service.run_due() == 2
    assert await service.run_due() == 0
    assert ran == ["fine"]
    broken = await db.fetchone("SELECT outcome, attempts, last_error FROM timers WHERE key = 'broken'")
    assert broken is not None
    assert (broken["outcome"], broken["attempts"]) == ("failed", 1)
    assert broken["last_error"].startswith("JSONDecodeError")


async def test_a_handler_that_hangs_is_timed_out_and_retried(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock, handler_timeout=timedelta(milliseconds=50), retry_delay=timedelta(seconds=10))

    async def hangs(timer: Timer) -> None:
        await asyncio.Event().wait()

    service.register("reminder", hangs)
    await service.schedule("reminder", "x", START)
    assert await service.run_due() == 1
    retry = await service.pending("reminder", "x")
    assert retry is not None
    assert (retry.attempts, retry.due_at) == (1, START + timedelta(seconds=10))
    assert retry.last_error is not None
    assert retry.last_error.startswith("TimeoutError: the handler was still running after")


async def test_a_handler_that_moves_its_own_timer_keeps_the_new_one(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock)

    async def again_tomorrow(timer: Timer) -> None:
        await service.schedule("reminder", timer.key, timer.due_at + timedelta(days=1))

    service.register("reminder", again_tomorrow)
    await service.schedule("reminder", "daily", START)
    assert await service.run_due() == 1
    moved = await service.pending("reminder", "daily")
    assert moved is not None
    assert moved.due_at == START + timedelta(days=1)


async def test_finished_timers_are_purged_after_the_retention(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock, retention=timedelta(days=30))

    async def handler(timer: Timer) -> None:
        return None

    service.register("reminder", handler)
    await service.schedule("reminder", "old", START)
    await service.schedule("reminder", "cancelled", START + timedelta(days=1))
    await service.cancel("reminder", "cancelled")
    await service.run_due()
    clock.moment = START + timedelta(days=20)
    await service.schedule("reminder", "recent", clock.moment)
    await service.run_due()
    await service.schedule("reminder", "future", START + timedelta(days=90))

    clock.moment = START + timedelta(days=31)
    assert await service.purge_finished() == 2
    keys = [row[0] for row in await db.fetchall("SELECT key FROM timers ORDER BY key")]
    assert keys == ["future", "recent"]


async def test_stop_stops_even_as_the_loop_is_being_woken(db: Database) -> None:
    """A timer scheduled just as the bot shuts down: the loop wakes and is cancelled at once, and must still end."""
    service = TimerService(db, SystemClock())
    later = datetime.now(UTC) + timedelta(days=1)
    for attempt in range(50):
        service.start()
        await asyncio.sleep(0.01)  # the loop now sleeps until it is woken
        await service.schedule("reminder", f"k{attempt}", later)  # wakes it ...
        await asyncio.wait_for(service.stop(), timeout=5)  # ... just as the bot shuts down


async def test_a_timer_read_before_its_run_finished_is_not_run_again(db: Database) -> None:
    """The loop reads due timers through the read connection while handlers record their outcome through the writing
    one: a read taken just before a run committed can come back after that run has left the running set. That stale
    row must not run the handler a second time (a second announcement, a second post)."""
    clock = FixedClock(START)
    service = TimerService(db, clock)
    runs: list[str] = []

    async def announce(timer: Timer) -> None:
        runs.append(timer.key)

    service.register("poll.close", announce)
    await service.schedule("poll.close", "1", START)
    [read_before] = await timer_store.due(db, to_db(START), 10)  # what the loop's read saw
    assert await service.run_due() == 1  # the run it raced with: done and recorded
    await service._run_one(read_before)  # the loop acting on its read afterwards
    assert runs == ["1"]
    finished = await service.latest("poll.close", "1")
    assert finished is not None
    assert (finished.outcome, finished.attempts) == (TimerOutcome.DONE, 1)
