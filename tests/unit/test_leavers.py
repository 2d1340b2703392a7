"""Members who left a server (bot.core.leavers), on both backends, with the two features that register what leaving
means to them wired as the cogs wire them (the host rota: off the rota; Letterboxd: unlinked): one lookup per
followed member however many features follow them, none for members the bot already sees, every feature letting go
of a leaver, a failed lookup changing nothing, one pass per server at a time, and the lookups paced.

Discord's side (the cache and a member lookup) is a plain set of who is in the server; tests/e2e/test_leavers.py runs
the real thing against the loopback Discord."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Collection

import pytest

from bot.core import hosts
from bot.core import letterboxd_follow as follow
from bot.core.leavers import LOOKUP_INTERVAL, Leavers, Pacer
from bot.core.timers import TimerService
from bot.db.database import Database
from tests.clocks import StepClock

GUILD, OTHER_GUILD = 1, 2
ALICE, BOB, CAROL, DAN = 11, 12, 13, 14


class PaceClock:
    """Seconds that pass only when the pacer sleeps: what the pacer asked for, exactly."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def club_features(db: Database, clock: StepClock, timers: TimerService, pacer: Pacer) -> Leavers:
    """The features as cogs/hosts.py and cogs/letterboxd.py register them (without their Discord rendering)."""
    leavers = Leavers(pacer)

    async def volunteers(guild_id: int) -> list[int]:
        return await hosts.volunteer_ids(db, guild_id)

    async def off_the_rota(guild_id: int, user_id: int) -> bool:
        return await hosts.drop_volunteer(db, clock, guild_id, user_id) is not None

    async def linked(guild_id: int) -> list[int]:
        return await follow.linked_members(db, guild_id)

    async def unlinked(guild_id: int, user_id: int) -> bool:
        return await follow.member_left(db, timers, guild_id, user_id) is not None

    leavers.register("host rota", volunteers, off_the_rota)
    leavers.register("Letterboxd", linked, unlinked)
    return leavers


def discord_side(
    cached: Collection[int], present: Collection[int], unreachable: Collection[int] = ()
) -> tuple[Callable[[int], bool], Callable[[int], Awaitable[bool | None]], list[int]]:
    asked: list[int] = []

    async def lookup(user_id: int) -> bool | None:
        asked.append(user_id)
        return None if user_id in unreachable else user_id in present

    return (lambda user_id: user_id in cached), lookup, asked


@pytest.fixture
async def club(db: Database, clock: StepClock, timers: TimerService) -> None:
    """Alice hosts and is linked; Bob hosts; Carol is linked; Dan hosts in the other server only."""
    for member in (ALICE, BOB):
        await hosts.join(db, clock, GUILD, member)
    await hosts.join(db, clock, OTHER_GUILD, DAN)
    for member, name in ((ALICE, "alice"), (CAROL, "carol")):
        await follow.link_account(db, clock, timers, GUILD, member, name)


async def test_every_member_a_feature_follows_is_looked_up_once_and_leavers_are_let_go_everywhere(
    db: Database, clock: StepClock, timers: TimerService, club: None
) -> None:
    leavers = club_features(db, clock, timers, Pacer(0))
    assert leavers.features == ["Letterboxd", "host rota"]
    assert await leavers.followed(GUILD) == [ALICE, BOB, CAROL]
    cached, lookup, asked = discord_side(cached={BOB}, present={CAROL})
    done = await leavers.sweep(GUILD, cached=cached, lookup=lookup)
    assert done is not None
    assert (done.followed, done.looked_up, done.gone, done.unknown) == (3, 2, [ALICE], 0)
    assert asked == [ALICE, CAROL]  # Alice once, though two features follow her; Bob is seen: no request
    assert await hosts.volunteer_ids(db, GUILD) == [BOB]
    assert await follow.linked_members(db, GUILD) == [CAROL]
    assert await timers.pending(follow.TIMER_KIND, follow.timer_key(GUILD, ALICE)) is None
    assert await hosts.volunteer_ids(db, OTHER_GUILD) == [DAN]  # another server is another server


async def test_a_lookup_that_fails_changes_nothing(
    db: Database, clock: StepClock, timers: TimerService, club: None
) -> None:
    leavers = club_features(db, clock, timers, Pacer(0))
    cached, lookup, _asked = discord_side(cached=set(), present={BOB}, unreachable={ALICE, CAROL})
    done = await leavers.sweep(GUILD, cached=cached, lookup=lookup)
    assert done is not None
    assert (done.gone, done.unknown) == ([], 2)
    assert await leavers.followed(GUILD) == [ALICE, BOB, CAROL]


async def test_member_left_names_the_features_that_let_go(
    db: Database, clock: StepClock, timers: TimerService, club: None
) -> None:
    leavers = club_features(db, clock, timers, Pacer(0))
    assert await leavers.member_left(GUILD, ALICE) == ["host rota", "Letterboxd"]
    assert await leavers.member_left(GUILD, CAROL) == ["Letterboxd"]
    assert await leavers.member_left(GUILD, ALICE) == []  # heard twice (the listener, then a pass): nothing more
    assert await leavers.member_left(GUILD, DAN) == []  # Dan is in the other server
    assert await leavers.followed(GUILD) == [BOB]


async def test_one_pass_per_server_at_a_time(db: Database, clock: StepClock, timers: TimerService, club: None) -> None:
    leavers = club_features(db, clock, timers, Pacer(0))
    release, looking = asyncio.Event(), asyncio.Event()
    asked: list[int] = []

    async def slow_lookup(user_id: int) -> bool | None:
        asked.append(user_id)
        looking.set()
        await release.wait()
        return True

    first = asyncio.create_task(leavers.sweep(GUILD, cached=lambda _user: False, lookup=slow_lookup))
    await looking.wait()
    # The server becomes available again (an outage) while its first pass runs: no second pass over it.
    assert await leavers.sweep(GUILD, cached=lambda _user: False, lookup=slow_lookup) is None
    other = await leavers.sweep(OTHER_GUILD, cached=lambda _user: True, lookup=slow_lookup)
    assert other is not None
    assert other.followed == 1
    release.set()
    done = await first
    assert done is not None
    assert done.looked_up == 3
    assert asked == [ALICE, BOB, CAROL]


async def test_lookups_are_paced_across_servers(db: Database, clock: StepClock, timers: TimerService) -> None:
    for member in range(100, 140):
        await hosts.join(db, clock, GUILD, member)
        await hosts.join(db, clock, OTHER_GUILD, member + 100)
    pace = PaceClock()
    leavers = club_features(db, clock, timers, Pacer(LOOKUP_INTERVAL, clock=pace.time, sleep=pace.sleep))
    moments: list[float] = []

    async def lookup(_user_id: int) -> bool | None:
        moments.append(pace.now)
        return True

    await asyncio.gather(
        leavers.sweep(GUILD, cached=lambda _user: False, lookup=lookup),
        leavers.sweep(OTHER_GUILD, cached=lambda _user: False, lookup=lookup),
    )
    assert len(moments) == 80
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) == pytest.approx(LOOKUP_INTERVAL)  # never two at once, even from two servers' passes
    assert moments[-1] - moments[0] == pytest.approx(79 * LOOKUP_INTERVAL)
