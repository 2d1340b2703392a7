"""Attendance on both backends with a clock the test moves: stretches as members come and go, the share of the film
that counts, a restart reconciled with the voice channel, and members' counts and streaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import attendance, screenings
from bot.core.attendance import Interval
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import active_films
from bot.core.timers import TimerService
from bot.core.watch import seen_by
from bot.db.database import Database
from tests.catalog_builder import starter_catalog
from tests.clocks import FixedClock

GUILD = 1000
VOICE = 2100
OTHER_VOICE = 2200
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STARTS = NOW + timedelta(hours=1)
ANN, BEA, CY, DEE = 11, 12, 13, 14


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def film_id(db: Database, tmp_path: Path) -> int:
    await load_catalog(db, starter_catalog(tmp_path / "catalog"))
    return next(f.id for f in await active_films(db) if f.slug == "the-last-waltz")  # 117 minutes


async def started(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, event_id: int = 700, **kw: object
) -> screenings.Screening:
    """A screening of the 117-minute film from STARTS (event 132 minutes), started at STARTS."""
    clock.moment = NOW
    options: dict[str, object] = {"channel_id": VOICE, "starts_at": STARTS + (kw.pop("later", timedelta(0)))}  # type: ignore[operator]
    options.update(kw)
    screening = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=film_id,
        announce_channel_id=1,
        **options,  # type: ignore[arg-type]
    )
    await screenings.attach_event(db, clock, timers, screening.id, event_id)
    clock.moment = screening.starts_at
    await screenings.mark_started(db, clock, screening.id)
    return await screenings.require_screening(db, screening.id)


async def anyone(_screening: screenings.Screening) -> bool:
    return True


async def nobody(_screening: screenings.Screening) -> bool:
    return False


async def at(clock: FixedClock, minutes: float) -> None:
    clock.moment = STARTS + timedelta(minutes=minutes)


def test_presence_clips_to_the_screening_and_counts_overlaps_once() -> None:
    end = STARTS + timedelta(hours=2)
    intervals = [
        Interval(ANN, STARTS - timedelta(minutes=30), STARTS + timedelta(minutes=30)),  # came early: 30 min count
        Interval(ANN, STARTS + timedelta(minutes=20), STARTS + timedelta(minutes=40)),  # overlaps: 10 more
        Interval(BEA, STARTS + timedelta(minutes=100), None),  # still there: to the end, 20 min
        Interval(CY, end + timedelta(minutes=1), None),  # after the end: nothing
    ]
    assert attendance.presence(intervals, STARTS, end) == {ANN: timedelta(minutes=40), BEA: timedelta(minutes=20)}


async def test_comings_and_goings_decide_who_attended_at_the_share(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await started(db, clock, timers, film_id)
    await attendance.reconcile(db, clock, screening.id, [ANN])  # in the channel when it started
    await at(clock, 10)
    await attendance.voice_moved(db, clock, BEA, None, VOICE)
    await attendance.voice_moved(db, clock, CY, None, VOICE)
    await attendance.voice_moved(db, clock, DEE, None, OTHER_VOICE)  # another channel: not this screening
    await at(clock, 40)
    await attendance.voice_moved(db, clock, CY, VOICE, OTHER_VOICE)  # 30 minutes only
    await at(clock, 50)
    await attendance.voice_moved(db, clock, BEA, VOICE, None)  # 40 minutes so far...
    await at(clock, 70)
    await attendance.voice_moved(db, clock, BEA, None, VOICE)  # ...and back until the end
    await attendance.voice_moved(db, clock, BEA, VOICE, VOICE)  # a mute toggle: nothing changes
    clock.moment = screening.ends_at

    came = await attendance.finish(db, clock, screening, 50)

    # ANN: the whole 132 minutes; BEA: 40 + 62 = 102 minutes >= 58.5 (half of 117); CY: 30 < 58.5
    assert [(a.user_id, a.seconds) for a in came] == [(ANN, 132 * 60), (BEA, 102 * 60)]
    seen = await seen_by(db, GUILD, [ANN, BEA, CY, DEE])
    assert {user for user, films in seen.items() if film_id in films} == {ANN, BEA}
    assert await attendance.finish(db, clock, screening, 50) == came  # a re-run records nobody twice

    # a stricter share: BEA's 102 minutes are under 90% of 117 (105.3)
    again = await started(db, clock, timers, film_id, event_id=701, later=timedelta(days=1))
    await attendance.reconcile(db, clock, again.id, [ANN, BEA])
    clock.moment = again.starts_at + timedelta(minutes=102)
    await attendance.voice_moved(db, clock, BEA, VOICE, None)
    clock.moment = again.ends_at
    assert [a.user_id for a in await attendance.finish(db, clock, again, 90)] == [ANN]


async def test_a_restart_mid_screening_is_reconciled_with_the_channel(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await started(db, clock, timers, film_id)
    await attendance.reconcile(db, clock, screening.id, [ANN, BEA])
    await at(clock, 30)
    # the bot goes down; meanwhile BEA leaves and CY comes. At 45 it is back and sees the channel.
    await at(clock, 45)
    assert await attendance.reconcile_guild(db, clock, GUILD, {VOICE: [ANN, CY], OTHER_VOICE: [DEE]}) == 2
    assert await attendance.reconcile_guild(db, clock, GUILD, {VOICE: [ANN, CY]}) == 0  # nothing twice
    clock.moment = screening.ends_at
    came = {a.user_id: a.seconds for a in await attendance.finish(db, clock, screening, 50)}
    # ANN all along; CY from 45 (87 min >= 58.5); BEA only counted to the restart (45 min)
    assert came == {ANN: 132 * 60, CY: 87 * 60}


async def test_a_screening_that_has_not_started_or_has_ended_takes_no_register(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await screenings.plan_screening(
        db, clock, timers, guild_id=GUILD, film_id=film_id, announce_channel_id=1, channel_id=VOICE, starts_at=STARTS
    )
    await screenings.attach_event(db, clock, timers, screening.id, 702)
    assert await attendance.voice_moved(db, clock, ANN, None, VOICE) == 0  # not started
    await screenings.mark_started(db, clock, screening.id)
    assert await attendance.voice_moved(db, clock, ANN, None, VOICE) == 1
    clock.moment = STARTS + timedelta(hours=3)
    done = await screenings.require_screening(db, screening.id)
    await attendance.finish(db, clock, done, 50)
    await screenings.complete(db, clock, screening.id)
    assert await attendance.voice_moved(db, clock, ANN, VOICE, None) == 0  # over


async def test_attendance_reports_counts_and_streaks(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    with pytest.raises(NotFoundError, match="No screening has ended"):
        await attendance.attendance_of(db, GUILD, None)
    ids = []
    for week, present in enumerate([[ANN, BEA], [ANN], [ANN, BEA], [ANN, BEA]]):
        screening = await started(db, clock, timers, film_id, event_id=800 + week, later=timedelta(weeks=week))
        await attendance.reconcile(db, clock, screening.id, present)
        clock.moment = screening.ends_at
        await attendance.finish(db, clock, screening, 50)
        await screenings.complete(db, clock, screening.id)
        ids.append(screening.id)
    assert await attendance.member_attendance(db, GUILD, ANN) == attendance.MemberAttendance(4, 4)
    assert await attendance.member_attendance(db, GUILD, BEA) == attendance.MemberAttendance(3, 2)
    assert await attendance.member_attendance(db, GUILD, CY) == attendance.MemberAttendance(0, 0)
    latest, came = await attendance.attendance_of(db, GUILD, None)
    assert latest.id == ids[-1] and {a.user_id for a in came} == {ANN, BEA}
    _, came = await attendance.attendance_of(db, GUILD, ids[1])
    assert [a.user_id for a in came] == [ANN]
    with pytest.raises(NotFoundError):
        await attendance.attendance_of(db, GUILD + 1, ids[0])
    pending = await started(db, clock, timers, film_id, event_id=900, later=timedelta(weeks=9))
    with pytest.raises(UserError, match="has not ended"):
        await attendance.attendance_of(db, GUILD, pending.id)
    with pytest.raises(UserError, match="from 10 to 100"):
        await attendance.finish(db, clock, pending, 5)


async def test_members_say_they_were_at_a_screening_outside_discord_once_it_started(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    outside = await screenings.plan_screening(
        db, clock, timers, guild_id=GUILD, film_id=film_id, announce_channel_id=1, location="The Roxy", starts_at=STARTS
    )
    with pytest.raises(UserError, match="did not take place"):
        await attendance.was_there(db, clock, GUILD, outside.id, ANN, interested=anyone)  # no event yet
    await screenings.attach_event(db, clock, timers, outside.id, 990)
    with pytest.raises(UserError, match="once the screening has started"):
        await attendance.was_there(db, clock, GUILD, outside.id, ANN, interested=anyone)
    await at(clock, 1)
    assert await attendance.was_there(db, clock, GUILD, outside.id, ANN, interested=anyone)
    assert not await attendance.was_there(db, clock, GUILD, outside.id, ANN, interested=anyone)  # once
    with pytest.raises(NotFoundError):
        await attendance.was_there(db, clock, GUILD + 1, outside.id, BEA, interested=anyone)
    clock.moment = outside.ends_at
    came = await attendance.finish(db, clock, await screenings.require_screening(db, outside.id), 50)
    assert [(a.user_id, a.seconds) for a in came] == [(ANN, 0)]
    assert film_id in (await seen_by(db, GUILD, [ANN]))[ANN]
    in_voice = await started(db, clock, timers, film_id, event_id=991, later=timedelta(days=2))
    with pytest.raises(UserError, match="voice channel"):
        await attendance.was_there(db, clock, GUILD, in_voice.id, ANN, interested=anyone)


async def test_only_interested_members_are_there_and_the_list_closes_a_day_after_the_end(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    outside = await screenings.plan_screening(
        db, clock, timers, guild_id=GUILD, film_id=film_id, announce_channel_id=1, location="The Roxy", starts_at=STARTS
    )
    await screenings.attach_event(db, clock, timers, outside.id, 990)
    await at(clock, 1)
    with pytest.raises(UserError, match="clicked \\*\\*Interested\\*\\*"):
        await attendance.was_there(db, clock, GUILD, outside.id, BEA, interested=nobody)
    clock.moment = outside.ends_at + attendance.WAS_THERE_WINDOW  # the last moment it still counts
    assert await attendance.was_there(db, clock, GUILD, outside.id, ANN, interested=anyone)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(UserError, match="more than 24 hours ago"):
        await attendance.was_there(db, clock, GUILD, outside.id, CY, interested=anyone)
    with pytest.raises(UserError, match="more than 24 hours ago"):  # closed for everyone, interested or not
        await attendance.was_there(db, clock, GUILD, outside.id, BEA, interested=nobody)
    assert [a.user_id for a in await attendance.finish(db, clock, outside, 50)] == [ANN]
    assert await seen_by(db, GUILD, [BEA, CY]) == {BEA: set(), CY: set()}
