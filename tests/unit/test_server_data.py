"""A server's data: kept for the grace period after the bot is removed, then purged by a persisted timer (exactly
once, across a restart); the bot back within the period keeps everything; ``/config purge``'s core deletes at once
after the server's name. Each purge is checked table by table over the ownership registry: every row of the server
gone, every other server's rows and the shared rows (the catalog, caches) untouched. On both backends."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import server_data
from bot.core.errors import UserError
from bot.core.guilds import GuildSettings, get_settings
from bot.core.shards import ShardSet
from bot.core.timers import Timer, TimerOutcome, TimerService
from bot.db import server_data as store
from bot.db.copy import TRIGGER_FILLED
from bot.db.database import Database
from bot.db.ownership import OWNED, SHARED
from tests.clocks import FixedClock
from tests.db_failures import REFUSED, refusing
from tests.tmdb_double import TmdbDouble
from tests.unit.test_db_copy import GUILD, OTHER_GUILD, fill_club

GRACE = timedelta(days=30)
#: Tables fill_club fills for the other server only (its season of polls): there they prove they are left alone.
NOT_FILLED_FOR_GUILD = frozenset({"season_polls"})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def club(db: Database, tmp_path: Path, tmdb_double: TmdbDouble) -> Database:
    await fill_club(db, tmp_path / "catalog", tmdb_double)
    return db


async def table_totals(db: Database) -> dict[str, int]:
    """Rows per table, every server's and the shared ones."""
    names = [owned.table for owned in OWNED] + sorted(SHARED)
    return {name: int(await db.fetchval(f"SELECT COUNT(*) FROM {name}")) for name in names}


def purger(db: Database, clock: FixedClock) -> TimerService:
    """A timer service as the bot runs it, with the purge's handler (the Servers cog's, less the Discord check)."""
    service = TimerService(db, clock)

    async def handle(timer: Timer) -> None:
        await server_data.purge_due(db, timer)

    service.register(server_data.PURGE_TIMER, handle)
    return service


async def assert_only_guild_purged(db: Database, before: dict[str, dict[str, int]], *, by_timer: bool = False) -> None:
    """GUILD has no row left in any table (``by_timer``: but the purge's own timer, finished as done);
    OTHER_GUILD and the shared rows are exactly as they were."""
    left = {"timers": 1} if by_timer else {}
    assert {t: n for t, n in (await store.row_counts(db, GUILD)).items() if n} == left
    if by_timer:
        own = await TimerService(db, FixedClock()).latest(server_data.PURGE_TIMER, str(GUILD))
        assert own is not None and own.outcome is TimerOutcome.DONE and own.attempts == 1
    assert await store.row_counts(db, OTHER_GUILD) == before["other"]
    totals = await table_totals(db)
    expected = {t: before["totals"][t] - before["guild"].get(t, 0) + left.get(t, 0) for t in before["totals"]}
    assert totals == expected


async def snapshot(db: Database) -> dict[str, dict[str, int]]:
    return {
        "guild": await store.row_counts(db, GUILD),
        "other": await store.row_counts(db, OTHER_GUILD),
        "totals": await table_totals(db),
    }


async def test_the_club_fills_every_table_of_the_server(club: Database) -> None:
    counts = await store.row_counts(club, GUILD)
    empty = {table for table, count in counts.items() if count == 0}
    assert empty == NOT_FILLED_FOR_GUILD, "fill_club should give the server rows in every table, to prove the purge"
    other = await store.row_counts(club, OTHER_GUILD)
    assert all(other[table] for table in NOT_FILLED_FOR_GUILD)


async def test_the_data_is_kept_for_the_grace_period_then_purged_once(club: Database, clock: FixedClock) -> None:
    timers = purger(club, clock)
    purge_at = await server_data.server_removed(timers, GUILD, GRACE)
    assert purge_at == clock.now() + GRACE
    assert await server_data.pending_purge(timers, GUILD) == purge_at
    before = await snapshot(club)  # the purge's own timer included: it stays, finished, and the rest goes

    clock.advance(GRACE - timedelta(minutes=1))
    await timers.run_due()
    assert await snapshot(club) == before

    clock.advance(timedelta(minutes=1))
    await timers.run_due()
    await assert_only_guild_purged(club, before, by_timer=True)
    assert await server_data.pending_purge(timers, GUILD) is None
    assert await get_settings(club, GUILD) == GuildSettings(GUILD)  # the defaults

    after = await snapshot(club)
    clock.advance(GRACE)
    await timers.run_due()
    assert await snapshot(club) == after  # nothing left to run twice


async def test_the_purge_survives_a_restart(club: Database, clock: FixedClock) -> None:
    await server_data.server_removed(purger(club, clock), GUILD, GRACE)
    before = await snapshot(club)

    clock.advance(GRACE + timedelta(days=3))  # the bot was down when it fell due
    restarted = purger(club, clock)
    await restarted.run_due()

    await assert_only_guild_purged(club, before, by_timer=True)


async def test_the_purge_records_its_own_timer_done_and_arms_no_other(
    club: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    timers = purger(club, clock)
    await server_data.server_removed(timers, GUILD, GRACE)
    own = await timers.pending(server_data.PURGE_TIMER, str(GUILD))
    assert own is not None
    clock.advance(GRACE)

    with caplog.at_level(logging.INFO, logger="bot.core"):
        await timers.run_due()

    about_it = [record.getMessage() for record in caplog.records if f"timer {own.id} " in record.getMessage()]
    assert about_it == [f"timer {own.id} (guild_purge {GUILD}) done"]  # not "changed while it ran"
    finished = await timers.latest(server_data.PURGE_TIMER, str(GUILD))
    assert finished is not None and (finished.id, finished.outcome) == (own.id, TimerOutcome.DONE)
    assert finished.done_at == clock.now()
    assert await server_data.pending_purge(timers, GUILD) is None
    # Its finished timer is no data of the server: a start-up without the bot in it arms no purge again.
    assert await store.servers_with_data(club, 1, (0,)) == {OTHER_GUILD}
    assert await server_data.arm_missed_removals(club, timers, ShardSet.every(1), [OTHER_GUILD], GRACE) == []
    assert await timers.latest(server_data.PURGE_TIMER, str(GUILD)) == finished


async def test_back_within_the_grace_period_finds_every_row(club: Database, clock: FixedClock) -> None:
    timers = purger(club, clock)
    await server_data.server_removed(timers, GUILD, GRACE)
    clock.advance(GRACE - timedelta(days=1))
    back = await server_data.server_back(timers, GUILD)
    before = await snapshot(club)

    clock.advance(GRACE * 2)
    await timers.run_due()

    assert back
    assert await snapshot(club) == before
    assert await server_data.pending_purge(timers, GUILD) is None
    assert not await server_data.server_back(timers, GUILD)  # nothing pending: nothing to cancel


async def test_added_back_while_the_bot_was_down_keeps_its_data(club: Database, clock: FixedClock) -> None:
    """At start-up, every server the bot is in whose purge is pending gets it cancelled; the others are untouched."""
    timers = purger(club, clock)
    await server_data.server_removed(timers, GUILD, GRACE)
    await server_data.server_removed(timers, OTHER_GUILD, GRACE)
    assert await server_data.servers_back(timers, [GUILD, 424242]) == [GUILD]
    assert await server_data.pending_purge(timers, GUILD) is None
    assert await server_data.pending_purge(timers, OTHER_GUILD) is not None
    assert await server_data.servers_back(timers, [GUILD]) == []


async def test_removed_again_starts_the_period_again(club: Database, clock: FixedClock) -> None:
    timers = purger(club, clock)
    await server_data.server_removed(timers, GUILD, GRACE)
    clock.advance(timedelta(days=20))
    again = await server_data.server_removed(timers, GUILD, GRACE)
    before = await snapshot(club)

    clock.advance(timedelta(days=15))  # 35 days after the first removal, 15 after the second
    await timers.run_due()

    assert again == clock.now() + timedelta(days=15)
    assert await snapshot(club) == before


async def test_purge_now_needs_the_server_name(club: Database) -> None:
    before = await snapshot(club)

    with pytest.raises(UserError, match="not this server's name"):
        await server_data.purge_now(club, GUILD, typed="Film Clu", name="Film Club")
    assert await snapshot(club) == before

    purged = await server_data.purge_now(club, GUILD, typed="  film CLUB ", name="Film Club")

    # Rows the triggers keep (totals, version counters) go with their sources and are not counted twice.
    counted = {table: count for table, count in before["guild"].items() if count and table not in TRIGGER_FILLED}
    assert {table: count for table, count in purged.rows.items() if table not in TRIGGER_FILLED} == counted
    await assert_only_guild_purged(club, before)
    assert await get_settings(club, GUILD) == GuildSettings(GUILD)


async def test_a_purge_is_one_transaction(club: Database) -> None:
    before = await snapshot(club)
    async with refusing(club, "DELETE ON films"):
        with pytest.raises(REFUSED):
            await server_data.purge_now(club, GUILD, typed="Film Club", name="Film Club")

    assert await snapshot(club) == before


def test_names_match_ignoring_case_and_spaces() -> None:
    assert server_data.same_name(" Film club ", "Film Club")
    assert server_data.same_name("ÉCRAN", "écran")
    assert not server_data.same_name("", "Film Club")
    assert not server_data.same_name("Film Club 2", "Film Club")


async def test_servers_left_while_the_bot_was_down_get_their_grace_period(club: Database, clock: FixedClock) -> None:
    timers = purger(club, clock)
    assert await store.servers_with_data(club, 1, (0,)) == {GUILD, OTHER_GUILD}
    # 2**38 % 3 == 1: GUILD is on shard 1 of 3, OTHER_GUILD (42) on shard 0; each process arms only its own.
    assert await server_data.arm_missed_removals(club, timers, ShardSet(3, (0,)), [], GRACE) == [OTHER_GUILD]
    assert await server_data.arm_missed_removals(club, timers, ShardSet(3, (1, 2)), [GUILD], GRACE) == []

    clock.advance(timedelta(days=1))
    again = await server_data.arm_missed_removals(club, timers, ShardSet.every(1), [], GRACE)

    assert again == [GUILD]  # OTHER_GUILD's pending purge is kept, not moved
    assert await server_data.pending_purge(timers, OTHER_GUILD) == clock.now() - timedelta(days=1) + GRACE
    assert await server_data.pending_purge(timers, GUILD) == clock.now() + GRACE
