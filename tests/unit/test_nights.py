"""The recurring screening night on both backends with a controlled clock: the next night across DST and
timezones, the night kept once, moved, switched off, deleted by a moderator, lapsed, and filled by a poll's winner or
a fixed season's film; the generated card names the theme's title."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import config, nights, posters, screenings, seasons
from bot.core.clock import to_db
from bot.core.films import get_film, list_themes
from bot.core.guilds import get_settings
from bot.core.nights import NightState, Step
from bot.core.shards import ShardSet
from bot.core.timers import Timer, TimerService
from bot.db import nights as nights_db
from bot.db.database import Database, Transaction
from bot.db.guilds import GuildSettings
from tests.catalog_builder import film, load_films, theme
from tests.clocks import FixedClock

GUILD = 1000
MOD = 7
VOICE = 2100
OTHER_VOICE = 2200
# Sunday 1 March 2026, noon UTC; Friday 6 March is the first Friday night after it.
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FRIDAY = 4


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, int]:
    return await load_films(
        db,
        tmp_path / "catalog",
        [film("the-last-waltz", title="The Last Waltz", runtime=117), film("stop-making-sense", runtime=88)],
        themes=[theme("live-on-stage", title="Concerts & Stages")],
    )


async def configure(
    db: Database, clock: FixedClock, timers: TimerService, *, at: str = "20:00", tz: str = "Europe/London"
) -> None:
    await config.set_timezone(db, clock, timers, GUILD, MOD, tz)
    await config.set_night(db, clock, timers, GUILD, MOD, day=FRIDAY, at=at, channel_id=VOICE)


async def kept(db: Database, clock: FixedClock, timers: TimerService, event_id: int = 0) -> nights.NightPlan:
    """Run the night's step as the adapter does: keep, then record the event it created (``event_id``)."""
    plan = await nights.keep_night(db, clock, timers, GUILD)
    if plan.step is Step.CREATE and plan.night is not None and event_id:
        await nights.record_event(db, plan.night.id, event_id)
    return plan


# -- the next night ---------------------------------------------------------------------------------------------------


def settings(tz: str, day: int, at: str) -> GuildSettings:
    return GuildSettings(GUILD, timezone=tz, night_day=day, night_time=at, night_channel_id=VOICE)


def test_the_next_night_stays_at_local_time_across_the_clocks_changing() -> None:
    london = settings("Europe/London", FRIDAY, "20:00")
    before = nights.next_night_at(london, datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    after = nights.next_night_at(london, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))  # clocks go forward on the 29th
    assert before == datetime(2026, 3, 27, 20, 0, tzinfo=UTC)  # GMT
    assert after == datetime(2026, 4, 3, 19, 0, tzinfo=UTC)  # 20:00 BST


def test_the_next_night_in_another_timezone_and_in_the_spring_gap() -> None:
    tokyo = settings("Asia/Tokyo", FRIDAY, "21:30")
    assert nights.next_night_at(tokyo, START) == datetime(2026, 3, 6, 12, 30, tzinfo=UTC)
    # New York jumps from 02:00 to 03:00 on Sunday 8 March: 02:30 that night happens at 03:30 EDT.
    new_york = settings("America/New_York", 6, "02:30")
    assert nights.next_night_at(new_york, START) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # A night exactly now is not the next one: the next comes a week later.
    at_night = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    assert nights.next_night_at(settings("UTC", FRIDAY, "20:00"), at_night) == at_night + timedelta(days=7)


def test_no_night_configured_has_no_next_night() -> None:
    assert nights.next_night_at(GuildSettings(GUILD), START) is None


# -- keeping it -------------------------------------------------------------------------------------------------------


async def test_configuring_the_night_runs_its_timer_at_once_which_plans_it_once(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    due = await timers.pending(nights.NIGHT_TIMER, str(GUILD))
    assert due is not None and due.due_at == START and due.guild_id == GUILD
    plan = await kept(db, clock, timers, event_id=555)
    assert plan.step is Step.CREATE and plan.night is not None
    assert plan.night.starts_at == datetime(2026, 3, 6, 20, 0, tzinfo=UTC) and plan.night.channel_id == VOICE
    again = await kept(db, clock, timers)
    assert again.step is Step.NONE and again.night is not None and again.night.id == plan.night.id
    assert again.night.event_id == 555
    rerun = await timers.pending(nights.NIGHT_TIMER, str(GUILD))
    assert rerun is not None and rerun.due_at == plan.night.starts_at  # next: at the night's start
    assert not await nights.record_event(db, plan.night.id, 556)  # the first event stays the night's


async def test_changing_the_time_or_the_timezone_moves_the_unfilled_night(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    await config.set_night(db, clock, timers, GUILD, MOD, at="21:15", channel_id=OTHER_VOICE)
    moved = await kept(db, clock, timers)
    assert moved.step is Step.MOVE and moved.night is not None and first.night is not None
    assert moved.night.id == first.night.id and moved.night.event_id == 555
    assert (moved.night.starts_at, moved.night.channel_id) == (datetime(2026, 3, 6, 21, 15, tzinfo=UTC), OTHER_VOICE)
    await config.set_timezone(db, clock, timers, GUILD, MOD, "Europe/Paris")
    assert (await timers.pending(nights.NIGHT_TIMER, str(GUILD))) is not None
    paris = await kept(db, clock, timers)
    assert paris.step is Step.MOVE and paris.night is not None
    assert paris.night.starts_at == datetime(2026, 3, 6, 20, 15, tzinfo=UTC)


async def test_off_cancels_the_upcoming_night_and_its_timer(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    await config.set_night(db, clock, timers, GUILD, MOD, off=True)
    off = await kept(db, clock, timers)
    assert off.night is None and [n.event_id for n in off.cancelled] == [555]
    assert first.night is not None
    stored = await nights_db.by_id(db, first.night.id)
    assert stored is not None and stored.state is NightState.CANCELLED
    assert await timers.pending(nights.NIGHT_TIMER, str(GUILD)) is None
    assert (await kept(db, clock, timers)).cancelled == []  # once
    await configure(db, clock, timers)  # on again: the same night, with a new event
    again = await kept(db, clock, timers, event_id=556)
    assert again.step is Step.CREATE and again.night is not None and again.night.id == first.night.id
    assert again.night.state is NightState.OPEN
    stored = await nights_db.by_id(db, first.night.id)
    assert stored is not None and stored.event_id == 556


async def test_a_night_whose_event_a_moderator_deleted_is_not_made_again(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    gone = await nights.event_gone(db, clock, 555)
    assert gone is not None and first.night is not None and gone.id == first.night.id
    assert await nights.event_gone(db, clock, 555) is None  # told twice: once
    again = await kept(db, clock, timers)
    assert again.step is Step.NONE and again.night is not None and again.night.state is NightState.DELETED
    clock.moment = first.night.starts_at + timedelta(seconds=1)  # its start: the timer plans the week after
    following = await kept(db, clock, timers, event_id=777)
    assert following.step is Step.CREATE and following.night is not None
    assert following.night.starts_at == first.night.starts_at + timedelta(days=7)


async def test_a_night_that_comes_without_a_film_lapses_and_the_next_is_planned(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    assert first.night is not None
    clock.moment = first.night.starts_at
    after = await kept(db, clock, timers, event_id=556)
    assert [n.id for n in after.cancelled] == [first.night.id]
    lapsed = await nights_db.by_id(db, first.night.id)
    assert lapsed is not None and lapsed.state is NightState.LAPSED
    assert after.step is Step.CREATE and after.night is not None and after.night.id != first.night.id


async def test_start_up_arms_the_timer_of_configured_servers_without_one(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    await kept(db, clock, timers, event_id=555)
    assert await nights.rearm_nights(db, clock, timers, ShardSet(1, (0,))) == 0  # pending at the night's start
    await timers.cancel(nights.NIGHT_TIMER, str(GUILD))
    assert await nights.rearm_nights(db, clock, timers, ShardSet(1, (0,))) == 1
    assert await nights.rearm_nights(db, clock, timers, ShardSet(2, (1,))) == 0  # GUILD is on shard 0


# -- filling it -------------------------------------------------------------------------------------------------------


async def test_a_poll_winner_fills_the_open_night_once(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    await configure(db, clock, timers)
    plan = await kept(db, clock, timers, event_id=555)
    assert plan.night is not None
    screening = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=films["the-last-waltz"], announce_channel_id=9
    )
    assert screening is not None
    assert (screening.starts_at, screening.channel_id) == (plan.night.starts_at, VOICE)
    assert screening.ends_at - screening.starts_at == timedelta(minutes=117) + screenings.DISCUSSION
    night = await nights.night_for_screening(db, screening.id)
    assert night is not None and night.id == plan.night.id and night.state is NightState.FILLED
    assert night.event_id == 555  # the screening takes this event over
    event_timer = await timers.pending(screenings.EVENT_TIMER, str(screening.id))
    assert event_timer is not None and event_timer.due_at == START
    second = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=films["stop-making-sense"], announce_channel_id=9
    )
    assert second is None  # the night is taken; nothing else was stored
    assert [s.id for s in await screenings.upcoming(db, GUILD)] == [screening.id]
    still = await kept(db, clock, timers)
    assert still.step is Step.NONE and still.night is not None and still.night.id == plan.night.id


async def test_no_open_night_fills_nothing(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    assert (
        await nights.fill_next_night(
            db, clock, timers, guild_id=GUILD, film_id=films["the-last-waltz"], announce_channel_id=9
        )
        is None
    )
    assert await screenings.upcoming(db, GUILD) == []


async def test_a_running_fixed_season_fills_the_night_with_its_film_of_the_week(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    live = next(t for t in await list_themes(db) if t.slug == "live-on-stage")
    season = await seasons.create_season(
        db, clock, timers, guild_id=GUILD, user_id=MOD, theme=live, weeks=2, start="2026-03-02 00:00", timezone="UTC"
    )
    await configure(db, clock, timers)
    plan = await kept(db, clock, timers, event_id=555)
    assert plan.season is not None and plan.season[0].id == season.id and plan.season[1] == 1
    assert plan.night is not None
    assert "Season: Concerts & Stages (week 1 of 2)." in nights.night_description(plan.night, plan.season)
    stored = await nights_db.by_id(db, plan.night.id)
    assert stored is not None
    screening = await nights.fill_from_season(db, clock, timers, stored, 9)
    assert screening is not None and screening.film_id == season.film_of_week(1)
    assert await nights.fill_from_season(db, clock, timers, stored, 9) is None  # filled: once


async def test_the_generated_card_names_the_theme_by_its_title(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    waltz = await get_film(db, films["the-last-waltz"])
    assert waltz is not None
    assert await posters.card_theme(db, GUILD, waltz, START) == "Concerts & Stages"  # not "Live on stage"


async def test_configured_settings_are_what_the_night_reads(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers, at="19:45", tz="Asia/Tokyo")
    current = await get_settings(db, GUILD)
    assert nights.next_night_at(current, START) == datetime(2026, 3, 6, 10, 45, tzinfo=UTC)


async def test_the_night_timer_runs_once_when_configured_and_once_at_each_night(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    plans: list[nights.NightPlan] = []

    async def handler(timer: Timer) -> None:
        plans.append(await kept(db, clock, timers, event_id=1000 + len(plans)))

    timers.register(nights.NIGHT_TIMER, handler)
    await configure(db, clock, timers)
    assert await timers.run_due() == 1 and await timers.run_due() == 0
    assert [p.step for p in plans] == [Step.CREATE]
    first = plans[0].night
    assert first is not None
    clock.moment = first.starts_at - timedelta(seconds=1)
    assert await timers.run_due() == 0  # not before the night
    clock.moment = first.starts_at
    assert await timers.run_due() == 1 and await timers.run_due() == 0
    second = plans[1].night
    assert second is not None and second.starts_at == first.starts_at + timedelta(days=7)
    assert [n.id for n in plans[1].cancelled] == [first.id]  # it came without a film


# -- its event moved in Discord ---------------------------------------------------------------------------------------

FRIDAY_NIGHT = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 20:00 in London (GMT)


async def test_an_undecided_night_moved_in_discord_follows_and_a_poll_fills_it_there(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    assert first.night is not None and first.night.starts_at == FRIDAY_NIGHT
    saturday = FRIDAY_NIGHT + timedelta(hours=22)
    clock.advance(timedelta(hours=1))
    moved = await nights.follow_event(db, clock, timers, 555, saturday)
    assert moved is not None and moved.id == first.night.id
    assert (moved.starts_at, moved.slot_at, moved.revision) == (saturday, FRIDAY_NIGHT, first.night.revision + 1)
    assert moved.modified_at == clock.now()
    timer = await timers.pending(nights.NIGHT_TIMER, str(GUILD))
    assert timer is not None and timer.due_at == saturday  # it lapses (and the next is planned) at its new start
    assert await nights.follow_event(db, clock, timers, 555, saturday) is None  # told twice: once
    again = await kept(db, clock, timers)  # a restart, or the same settings saved again: it stays where it was moved
    assert again.step is Step.NONE and again.night is not None and again.night.starts_at == saturday
    screening = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=films["the-last-waltz"], announce_channel_id=9
    )
    assert screening is not None and screening.starts_at == saturday
    assert await nights.follow_event(db, clock, timers, 555, saturday + timedelta(hours=1)) is None  # filled


async def test_a_night_moved_earlier_in_discord_is_that_weeks_night(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    assert first.night is not None
    thursday = FRIDAY_NIGHT - timedelta(hours=26)
    assert await nights.follow_event(db, clock, timers, 555, thursday) is not None
    clock.moment = thursday  # its new start: it lapses, and the next night is the next week's, not tomorrow's
    after = await kept(db, clock, timers, event_id=556)
    assert [n.id for n in after.cancelled] == [first.night.id]
    assert after.night is not None and after.night.starts_at == FRIDAY_NIGHT + timedelta(days=7)


async def test_a_settings_change_moves_a_night_moved_in_discord_to_the_new_slot(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    assert await nights.follow_event(db, clock, timers, 555, FRIDAY_NIGHT + timedelta(hours=1)) is not None
    await config.set_night(db, clock, timers, GUILD, MOD, at="19:00", channel_id=VOICE)
    moved = await kept(db, clock, timers)
    assert moved.step is Step.MOVE and moved.night is not None and first.night is not None
    assert moved.night.id == first.night.id
    assert (moved.night.starts_at, moved.night.slot_at) == (FRIDAY_NIGHT - timedelta(hours=1), None)


async def test_what_a_night_does_not_follow(db: Database, clock: FixedClock, timers: TimerService) -> None:
    await configure(db, clock, timers)
    first = await kept(db, clock, timers, event_id=555)
    assert first.night is not None
    assert await nights.follow_event(db, clock, timers, 999, FRIDAY_NIGHT + timedelta(hours=1)) is None  # not a night
    assert await nights.follow_event(db, clock, timers, 555, FRIDAY_NIGHT + timedelta(milliseconds=500)) is None
    assert await nights.follow_event(db, clock, timers, 555, START - timedelta(hours=1)) is None  # the past
    # Onto the start of another stored night (here the week after's, which a moderator deleted): not followed.
    week_after = await nights_db.insert(db, GUILD, to_db(FRIDAY_NIGHT + timedelta(days=7)), VOICE, to_db(START))
    assert await nights_db.set_state(db, week_after.id, NightState.DELETED, to_db(START))
    assert await nights.follow_event(db, clock, timers, 555, week_after.starts_at) is None
    stored = await nights_db.by_id(db, first.night.id)
    assert stored is not None and stored.starts_at == FRIDAY_NIGHT and stored.revision == first.night.revision


# -- Discord refusing the night's event -------------------------------------------------------------------------------


async def test_a_refused_event_is_noted_for_moderators_until_one_is_made(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    plan = await kept(db, clock, timers)
    assert plan.step is Step.CREATE and plan.night is not None
    assert await nights.refused_night(db, clock, GUILD) is None
    await nights.event_refused(db, clock, plan.night.id, "missing Manage Events\nand " + "x" * 300)
    refused = await nights.refused_night(db, clock, GUILD)
    assert refused is not None and refused.id == plan.night.id and refused.refused_at == START
    assert refused.refused is not None and "\n" not in refused.refused
    assert refused.refused.startswith("missing Manage Events and x") and len(refused.refused) == nights.REFUSAL_LIMIT
    assert refused.revision == plan.night.revision  # not a change of the night: the calendar feed is unmoved
    # The next run tries again: Discord takes it, and the note is gone.
    again = await kept(db, clock, timers, event_id=555)
    assert again.step is Step.CREATE
    assert await nights.refused_night(db, clock, GUILD) is None
    stored = await nights_db.by_id(db, plan.night.id)
    assert stored is not None and (stored.event_id, stored.refused, stored.refused_at) == (555, None, None)


async def test_an_edit_discord_takes_clears_a_refused_move(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await configure(db, clock, timers)
    plan = await kept(db, clock, timers, event_id=555)
    assert plan.night is not None
    await nights.event_refused(db, clock, plan.night.id, "Discord answered 400 (Invalid Form Body)")
    noted = await nights.refused_night(db, clock, GUILD)
    assert noted is not None and noted.refused == "Discord answered 400 (Invalid Form Body)"
    await nights.event_accepted(db, noted)
    assert await nights.refused_night(db, clock, GUILD) is None
    # A refused night that passes is not the next night: nothing is shown for it.
    await nights.event_refused(db, clock, plan.night.id, "missing Connect")
    clock.moment = plan.night.starts_at + timedelta(minutes=1)
    assert await nights.refused_night(db, clock, GUILD) is None


# -- two films racing for one night -----------------------------------------------------------------------------------


async def test_two_films_racing_for_the_night_leave_one_screening_and_no_cancelled_one(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    await configure(db, clock, timers)
    plan = await kept(db, clock, timers, event_id=555)
    assert plan.night is not None
    results = await asyncio.gather(
        *(
            nights.fill_next_night(db, clock, timers, guild_id=GUILD, film_id=films[slug], announce_channel_id=9)
            for slug in ("the-last-waltz", "stop-making-sense")
        )
    )
    winners = [s for s in results if s is not None]
    assert len(winners) == 1
    ((count,),) = await db.fetchall("SELECT COUNT(*) FROM screenings")
    assert count == 1  # the loser's screening was never stored, so no "Cancelled:" entry anywhere
    night = await nights_db.by_id(db, plan.night.id)
    assert night is not None and night.screening_id == winners[0].id
    assert await timers.pending(screenings.EVENT_TIMER, str(winners[0].id)) is not None


async def test_a_screening_whose_binding_fails_is_not_stored(
    db: Database, clock: FixedClock, timers: TimerService, films: dict[str, int]
) -> None:
    class Refused(Exception):
        pass

    async def refuse(_tx: Transaction, _screening_id: int) -> None:
        raise Refused

    with pytest.raises(Refused):
        await screenings.plan_screening(
            db,
            clock,
            timers,
            guild_id=GUILD,
            film_id=films["the-last-waltz"],
            starts_at=START + timedelta(days=2),
            announce_channel_id=9,
            channel_id=VOICE,
            record=refuse,
        )
    assert await db.fetchall("SELECT id FROM screenings") == []
    assert await db.fetchall("SELECT id FROM timers WHERE kind = ?", (screenings.EVENT_TIMER,)) == []
