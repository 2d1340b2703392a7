"""Persisted timers on a real database: scheduling, replacing, cancelling, retrying, giving up, running side by side,
waking up on time and forgetting old rows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from bot.core.timers import PermanentFailure, Timer, TimerOutcome, TimerService
from bot.db.database import Database, ShardsInUse, bundled_migrations, open_database
from bot.db.postgres import SHARD_LOCK_CLASS, PostgresDatabase
from tests.clocks import FixedClock

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 1 << 22


async def test_due_timers_run_once_in_order_and_survive_a_new_service(db: Database) -> None:
    clock = FixedClock(START)
    seen: list[str] = []

    async def handler(timer: Timer) -> None:
        seen.append(timer.key)

    first = TimerService(db, clock)
    first.register("poll.close", handler)
    await first.schedule("poll.close", "b", START + timedelta(minutes=2), {"poll": 2}, guild_id=GUILD)
    await first.schedule("poll.close", "a", START + timedelta(minutes=1), {"poll": 1}, guild_id=GUILD)
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
    await service.schedule("picks.post", "guild-1", START + timedelta(days=1), {"week": 1}, guild_id=GUILD)
    await service.schedule("picks.post", "guild-1", START + timedelta(days=2), {"week": 2}, guild_id=GUILD)
    pending = await service.pending("picks.post", "guild-1")
    assert pending is not None
    assert (pending.due_at, pending.payload) == (START + timedelta(days=2), {"week": 2})
    assert await db.fetchval("SELECT count(*) FROM timers") == 1


async def test_which_of_many_timers_were_ever_armed_is_one_answer(db: Database) -> None:
    """Start-up asks about hundreds of (kind, key) pairs at once; pending and finished timers both count."""
    service = TimerService(db, FixedClock(START))
    await service.schedule("screenings.remind", "3", START, guild_id=GUILD)
    await service.schedule("screenings.start", "450", START, guild_id=GUILD)
    await service.schedule("screenings.end", "9", START, guild_id=GUILD)
    await service.cancel("screenings.end", "9")  # finished: it still counts as armed
    asked = [(kind, str(n)) for n in range(1, 451) for kind in ("screenings.remind", "screenings.start")]
    asked.append(("screenings.end", "9"))
    assert await service.ever_armed(asked) == {
        ("screenings.remind", "3"),
        ("screenings.start", "450"),
        ("screenings.end", "9"),
    }
    assert await service.ever_armed([]) == set()


async def test_cancelled_timers_never_run(db: Database) -> None:
    clock = FixedClock(START)
    service = TimerService(db, clock)
    ran: list[Timer] = []

    async def handler(timer: Timer) -> None:
        ran.append(timer)

    service.register("poll.close", handler)
    await service.schedule("poll.close", "7", START, guild_id=GUILD)
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
    await service.schedule("poll.close", "1", START, guild_id=GUILD)
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
        await service.schedule("reminder", "x", datetime.now(UTC) + timedelta(milliseconds=200), guild_id=GUILD)
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
        await service.schedule("reminder", key, START, guild_id=GUILD)
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
        await service.schedule("reminder", key, START, guild_id=GUILD)
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
    await service.schedule("reminder", "slow", datetime.now(UTC), guild_id=GUILD)
    service.start()
    try:
        # Each schedule wakes the loop, which looks at the due timers again: "slow" is among them, still running.
        for key in ("quick-1", "quick-2", "quick-3"):
            later_ran.clear()
            await service.schedule("reminder", key, datetime.now(UTC), guild_id=GUILD)
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
    await service.schedule("reminder", "x", datetime.now(UTC), guild_id=GUILD)
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
    await service.schedule("picks.post", "guild-1", START, guild_id=GUILD)
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
    await service.schedule("reminder", "fine", START, guild_id=GUILD)
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
    await service.schedule("reminder", "x", START, guild_id=GUILD)
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
        await service.schedule("reminder", timer.key, timer.due_at + timedelta(days=1), guild_id=GUILD)

    service.register("reminder", again_tomorrow)
    await service.schedule("reminder", "daily", START, guild_id=GUILD)
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
    await service.schedule("reminder", "old", START, guild_id=GUILD)
    await service.schedule("reminder", "cancelled", START + timedelta(days=1), guild_id=GUILD)
    await service.cancel("reminder", "cancelled")
    await service.run_due()
    clock.moment = START + timedelta(days=20)
    await service.schedule("reminder", "recent", clock.moment, guild_id=GUILD)
    await service.run_due()
    await service.schedule("reminder", "future", START + timedelta(days=90), guild_id=GUILD)

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
        await service.schedule("reminder", f"k{attempt}", later, guild_id=GUILD)  # wakes it ...
        await asyncio.wait_for(service.stop(), timeout=5)  # ... just as the bot shuts down


async def test_two_dispatches_at_once_start_a_due_timer_once(db: Database) -> None:
    """Claiming is one statement per batch, and one batch at a time: a second dispatch racing the first (the loop
    woken while ``run_due`` runs) finds the timer already running here, not free to claim again."""
    clock = FixedClock(START)
    service = TimerService(db, clock)
    runs: list[str] = []

    async def announce(timer: Timer) -> None:
        runs.append(timer.key)

    service.register("poll.close", announce)
    await service.schedule("poll.close", "1", START, guild_id=GUILD)
    assert sorted(await asyncio.gather(service.run_due(), service.run_due())) == [0, 1]
    assert runs == ["1"]
    finished = await service.latest("poll.close", "1")
    assert finished is not None
    assert (finished.outcome, finished.attempts) == (TimerOutcome.DONE, 1)


# -- several processes, each running some of the bot's shards --------------------------------------------------------


def server_on_shard(shard: int, serial: int) -> int:
    """A server id that Discord routes to ``shard`` of 2: its creation time (the bits above 22) is ``2 * serial +
    shard`` milliseconds after Discord's epoch."""
    return (2 * serial + shard) << 22 | 4242


@pytest.fixture
async def second_db(db: Database, db_target: str | Path) -> AsyncIterator[Database]:
    """A second handle on the test's database, as a second bot process would open it."""
    other = await open_database(db_target)
    try:
        yield other
    finally:
        await other.close()


def recording(ran: list[tuple[str, str]], name: str) -> Callable[[Timer], Awaitable[None]]:
    async def handler(timer: Timer) -> None:
        ran.append((name, timer.key))

    return handler


async def test_each_timer_runs_once_in_the_process_of_its_servers_shard(db: Database, second_db: Database) -> None:
    clock = FixedClock(START)
    ran: list[tuple[str, str]] = []
    shard_0 = TimerService(db, clock, shard_count=2, shard_ids=[0])
    shard_1 = TimerService(second_db, clock, shard_count=2, shard_ids=[1])
    shard_0.register("poll.close", recording(ran, "shard 0"))
    shard_1.register("poll.close", recording(ran, "shard 1"))
    expected: list[tuple[str, str]] = [("shard 0", "no server")]
    await shard_1.schedule("poll.close", "no server", START, guild_id=None)  # any process may schedule any timer
    for serial in range(10):
        for shard, scheduler in ((0, shard_1), (1, shard_0)):
            key = f"server {serial} on {shard}"
            await scheduler.schedule("poll.close", key, START, guild_id=server_on_shard(shard, serial))
            expected.append((f"shard {shard}", key))

    assert sum(await asyncio.gather(shard_0.run_due(), shard_1.run_due(), shard_0.run_due())) == 21
    assert sorted(ran) == sorted(expected)
    assert await asyncio.gather(shard_0.run_due(), shard_1.run_due()) == [0, 0]


async def test_a_timer_never_runs_in_a_process_without_its_shard(db: Database) -> None:
    clock = FixedClock(START)
    ran: list[tuple[str, str]] = []
    shard_1 = TimerService(db, clock, shard_count=2, shard_ids=[1])
    shard_1.register("poll.close", recording(ran, "shard 1"))
    await shard_1.schedule("poll.close", "of shard 0", START, guild_id=server_on_shard(0, 7))
    await shard_1.schedule("poll.close", "of no server", START, guild_id=None)

    clock.moment = START + timedelta(days=1)
    assert await shard_1.run_due() == 0
    assert ran == []
    assert await shard_1.pending("poll.close", "of shard 0") is not None
    assert await shard_1.pending("poll.close", "of no server") is not None


async def test_a_process_killed_mid_run_is_replaced_and_the_timer_runs_once_more(
    db: Database, second_db: Database
) -> None:
    """The first process dies while its handler runs (nothing recorded, its connection gone); the process that
    takes its shard over runs the timer, once, and no process runs it again."""
    clock = FixedClock(START)
    entered = asyncio.Event()
    ran: list[tuple[str, str]] = []

    async def dies_midway(timer: Timer) -> None:
        ran.append(("first", timer.key))
        entered.set()
        await asyncio.Event().wait()

    first = TimerService(db, clock, shard_count=2, shard_ids=[0])
    first.register("picks.weekly", dies_midway)
    await first.schedule("picks.weekly", "week 10", START, guild_id=server_on_shard(0, 3))
    running = asyncio.create_task(first.run_due())
    await asyncio.wait_for(entered.wait(), timeout=5)
    running.cancel()  # killed: the handler never returns and its outcome is never written
    with pytest.raises(asyncio.CancelledError):
        await running
    await db.close()

    other_shard = TimerService(second_db, clock, shard_count=2, shard_ids=[1])
    other_shard.register("picks.weekly", recording(ran, "other shard"))
    assert await other_shard.run_due() == 0

    replacement = TimerService(second_db, clock, shard_count=2, shard_ids=[0])
    replacement.register("picks.weekly", recording(ran, "replacement"))
    assert await replacement.run_due() == 1
    assert await replacement.run_due() == 0
    assert ran == [("first", "week 10"), ("replacement", "week 10")]
    ended = await replacement.latest("picks.weekly", "week 10")
    assert ended is not None
    assert (ended.outcome, ended.attempts) == (TimerOutcome.DONE, 1)


async def test_a_run_whose_shard_was_taken_over_records_nothing(db: Database, second_db: Database) -> None:
    """A process that lost its shard while a handler ran (its lock's connection dropped, another process took the
    shard over) must not write its outcome over the new owner's run: the timer ends as the new owner's run ends."""
    clock = FixedClock(START)
    old_entered, new_entered = asyncio.Event(), asyncio.Event()
    release_old, release_new = asyncio.Event(), asyncio.Event()

    async def old_run(timer: Timer) -> None:
        old_entered.set()
        await release_old.wait()

    async def new_run_fails(timer: Timer) -> None:
        new_entered.set()
        await release_new.wait()
        raise RuntimeError("Discord is down")

    old = TimerService(db, clock, shard_count=2, shard_ids=[1], retry_delay=timedelta(minutes=1))
    new = TimerService(second_db, clock, shard_count=2, shard_ids=[1], retry_delay=timedelta(minutes=1))
    old.register("poll.close", old_run)
    new.register("poll.close", new_run_fails)
    await old.schedule("poll.close", "5", START, guild_id=server_on_shard(1, 5))
    old_running = asyncio.create_task(old.run_due())
    await asyncio.wait_for(old_entered.wait(), timeout=5)
    new_running = asyncio.create_task(new.run_due())  # takes the timer over
    await asyncio.wait_for(new_entered.wait(), timeout=5)
    release_old.set()
    assert await old_running == 1  # its handler returned, but the timer is no longer its own
    release_new.set()
    assert await new_running == 1

    retry = await new.pending("poll.close", "5")
    assert retry is not None
    assert (retry.attempts, retry.due_at, retry.last_error) == (
        1,
        START + timedelta(minutes=1),
        "RuntimeError: Discord is down",
    )


def test_a_service_refuses_shards_outside_its_count(db: Database) -> None:
    with pytest.raises(ValueError, match="not a set of shards"):
        TimerService(db, FixedClock(START), shard_count=2, shard_ids=[2])


async def test_pending_timers_from_before_shards_learn_their_server(tmp_path: Path) -> None:
    """An upgraded database: its pending timers name their server only in their payload, directly (weekly picks) or
    through their poll; they must run in the process of that server's shard, not all in shard 0's."""
    migrations = bundled_migrations("sqlite")
    [shards] = [m.number for m in migrations if m.name.endswith("_timer_shards.sql")]
    async with await open_database(tmp_path / "old.db") as db:
        await db.migrate([m for m in migrations if m.number < shards])
        created, due = "2026-03-01T10:00:00.000000Z", "2026-03-01T12:00:00.000000Z"
        poll = await db.fetchone_write(
            "INSERT INTO polls (guild_id, channel_id, creator_id, title, method, created_at, closes_at) "
            "VALUES (?, 1, 2, 'Friday', 'plurality', ?, ?) RETURNING id",
            (server_on_shard(1, 3), created, due),
        )
        poll_id = int(poll[0])
        for kind, key, payload in (
            ("picks.weekly", "w", f'{{"guild_id": {server_on_shard(1, 4)}, "slot_at": "{due}"}}'),
            ("polls.close", str(poll_id), f'{{"poll_id": {poll_id}}}'),
            ("reminder", "broken", "{oops"),
        ):
            await db.execute(
                "INSERT INTO timers (kind, key, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (kind, key, due, payload, created),
            )
        await db.migrate()
        ran: list[tuple[str, str]] = []
        shard_1 = TimerService(db, FixedClock(START), shard_count=2, shard_ids=[1])
        for kind in ("picks.weekly", "polls.close", "reminder"):
            shard_1.register(kind, recording(ran, "shard 1"))
        assert await shard_1.run_due() == 2
        assert sorted(ran) == [("shard 1", str(poll_id)), ("shard 1", "w")]
        assert await db.fetchval("SELECT guild_id FROM timers WHERE key = 'broken'") is None  # shard 0's, to fail


async def test_one_process_per_shard_on_postgresql(postgres_database_url: str) -> None:
    """A second process for a shard that a running process holds is refused, naming the holder; once the first
    process's connection is gone (as when it is killed), the shard is free at once."""
    first = await PostgresDatabase.open(postgres_database_url)
    second = await PostgresDatabase.open(postgres_database_url)
    try:
        await first.hold_shards([0, 1])
        with pytest.raises(ShardsInUse, match=r"shard 1 is held by another process \(PostgreSQL backend pid \d+"):
            await second.hold_shards([1, 2], wait=0)
        await second.hold_shards([2, 3], wait=0)  # other shards are free
        assert await first.fetchval(  # the backend of the connection holding shard 0 (kill -9 drops it alike)
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = CAST(? AS BIGINT)::oid AND objid = 0",
            (SHARD_LOCK_CLASS,),
        )
        third = await PostgresDatabase.open(postgres_database_url)
        try:
            await third.hold_shards([0, 1], wait=30)
        finally:
            await third.close()
    finally:
        await second.close()
        await first.close()
