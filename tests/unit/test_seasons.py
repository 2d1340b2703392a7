"""Seasons on both backends: the checks of /season create, one current season a server, and a season's progress
over its weeks on a controlled clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core import collections, config, nights, picks, polls, schedule, season_polls, seasons, watch
from bot.core.catalog import load_catalog
from bot.core.clock import to_db
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, active_films, list_themes
from bot.core.guilds import get_settings
from bot.core.recommend import recommender_for
from bot.core.shards import ShardSet
from bot.core.timers import TimerService
from bot.db import seasons as season_store
from bot.db.database import Database, open_database
from tests.clocks import MARCH_1, FixedClock
from tests.unit.test_recommend import ALICE, GUILD, OTHER_GUILD, club_catalog

POLLS = 700


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def films(db: Database, tmp_path: Path) -> dict[str, Film]:
    await load_catalog(db, club_catalog(tmp_path / "catalog"))
    return {f.slug: f for f in await active_films(db)}


@pytest.fixture
async def live(db: Database, films: dict[str, Film]) -> Theme:
    return next(t for t in await list_themes(db) if t.slug == "live")


async def create(
    db: Database, clock: FixedClock, theme: Theme, *, timers: TimerService | None = None, **options: object
) -> seasons.Season:
    values: dict[str, object] = {"weeks": 3, "start": "2026-03-06 20:00", "timezone": "Europe/Paris"}
    values.update(options)
    return await seasons.create_season(
        db,
        clock,
        timers or TimerService(db, clock),
        guild_id=GUILD,
        user_id=ALICE,
        theme=theme,
        **values,  # type: ignore[arg-type]
    )


async def count_rows(db: Database) -> tuple[int, int]:
    return int(await db.fetchval("SELECT count(*) FROM seasons")), int(
        await db.fetchval("SELECT count(*) FROM season_films")
    )


async def test_a_season_goes_week_by_week_on_the_clock(db: Database, clock: FixedClock, live: Theme) -> None:
    made = await create(db, clock, live, notes="  Concert films, loud.  ")
    # 20:00 in Paris on 6 March is 19:00 UTC; three weeks later it is over.
    assert made.starts_at == MARCH_1 + timedelta(days=5, hours=19)
    assert made.ends_at == made.starts_at + timedelta(weeks=3)
    assert made.notes == "Concert films, loud."
    assert len(made.film_ids) == 3
    page = await seasons.season_page(db, clock, GUILD)
    assert page.progress.state is seasons.State.UPCOMING
    assert set(page.films) == set(made.film_ids)
    seen = []
    for moment in (
        made.starts_at,
        made.starts_at + timedelta(days=6, hours=23),
        made.week_starts(2),
        made.week_starts(3),
    ):
        clock.moment = moment
        seen.append((await seasons.season_page(db, clock, GUILD)).progress.text)
    assert seen == ["week 1 of 3", "week 1 of 3", "week 2 of 3", "week 3 of 3"]
    clock.moment = made.ends_at
    assert await seasons.current_season(db, clock, GUILD) is None  # over: a new one may be programmed
    assert seasons.progress(made, clock.moment).state is seasons.State.FINISHED
    with pytest.raises(NotFoundError):
        await seasons.season_page(db, clock, GUILD)


async def test_fixed_films_follow_the_theme_order(db: Database, clock: FixedClock, live: Theme) -> None:
    made = await create(db, clock, live, weeks=2)
    stored = await seasons.current_season(db, clock, GUILD)
    assert stored is not None and stored.film_ids == made.film_ids
    assert made.film_of_week(1) == made.film_ids[0] and made.film_of_week(3) is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weeks": 53}, "longer than a year"),
        ({"weeks": 0}, "1 to 52 weeks"),
        ({"start": "2026-02-27"}, "in the past"),
        ({"start": "2027-06-01"}, "too far ahead"),
        ({"start": "someday"}, "couldn't read"),
        ({"notes": "x" * 501}, "programme notes"),
        ({"weeks": 7}, "needs one a week"),  # "live" has six films
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    db: Database, clock: FixedClock, live: Theme, options: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        await create(db, clock, live, **options)
    assert await count_rows(db) == (0, 0)


async def test_poll_and_picks_modes_need_films_but_no_order(db: Database, clock: FixedClock, live: Theme) -> None:
    with pytest.raises(UserError, match="needs a channel for its polls"):
        await create(db, clock, live, weeks=52, mode=seasons.Mode.POLL)
    await config.set_channel(db, clock, TimerService(db, clock), GUILD, ALICE, config.ChannelKind.POLLS, POLLS)
    made = await create(db, clock, live, weeks=52, mode=seasons.Mode.POLL)
    assert made.film_ids == () and made.film_of_week(1) is None
    assert await count_rows(db) == (1, 0)
    empty = await collections.create_collection(db, clock, guild_id=OTHER_GUILD, user_id=ALICE, name="Empty")
    with pytest.raises(UserError, match="no films"):
        await seasons.create_season(
            db,
            clock,
            TimerService(db, clock),
            guild_id=OTHER_GUILD,
            user_id=ALICE,
            theme=empty.as_theme(),
            weeks=2,
            start="2w",
            timezone="UTC",
            mode=seasons.Mode.PICKS,
        )


async def test_a_collection_can_be_the_theme(db: Database, clock: FixedClock, films: dict[str, Film]) -> None:
    noir = await collections.create_collection(db, clock, guild_id=GUILD, user_id=ALICE, name="Noir")
    for slug in ("paterson", "woodstock"):
        await collections.add_film(db, clock, collection=noir, film_id=films[slug].id, user_id=ALICE)
    made = await create(db, clock, noir.as_theme(), weeks=2)
    assert made.film_ids == (films["paterson"].id, films["woodstock"].id)


async def test_one_current_season_and_ending_it(db: Database, clock: FixedClock, live: Theme) -> None:
    made = await create(db, clock, live)
    with pytest.raises(UserError, match="already has a season"):
        await create(db, clock, live)
    assert await seasons.current_season(db, clock, OTHER_GUILD) is None  # per server
    clock.moment = made.week_starts(2)
    ended = await seasons.end_season(db, clock, TimerService(db, clock), guild_id=GUILD, user_id=ALICE)
    assert ended.id == made.id
    assert await seasons.current_season(db, clock, GUILD) is None
    with pytest.raises(NotFoundError):
        await seasons.end_season(db, clock, TimerService(db, clock), guild_id=GUILD, user_id=ALICE)
    again = await create(db, clock, live, start="2026-04-01")
    assert again.id != made.id


async def test_weekly_picks_follow_a_running_season(
    db: Database, clock: FixedClock, live: Theme, films: dict[str, Film]
) -> None:
    settings = await get_settings(db, GUILD)
    made = await create(db, clock, live, weeks=3, start="2026-03-09 20:00")
    by_id = {f.id: f for f in films.values()}
    await watch.mark_club_watched(db, clock, GUILD, made.film_ids[1])  # programmed: picked even though watched
    for week in (1, 2, 3):
        moment = made.week_starts(week) + timedelta(days=2)
        chosen = await picks.choose(db, settings, schedule.week_key(moment, schedule.zone("UTC")), moment)
        assert chosen is not None and chosen.theme.slug == "live"
        first = chosen.picks[0]
        assert first.film.id == made.film_ids[week - 1], (week, first.film.slug)
        assert first.reason == f"The season's film for week {week} of 3"
        assert all("live" in by_id[pick.film.id].themes for pick in chosen.picks)
    # Before and after the season, and once it is ended early, the usual rotation (the first theme by title).
    before = await picks.choose(db, settings, "2026-W10", MARCH_1)
    assert before is not None and not any(p.reason.startswith("The season's") for p in before.picks)
    clock.moment = made.week_starts(2)
    await seasons.end_season(db, clock, TimerService(db, clock), guild_id=GUILD, user_id=ALICE)
    later = made.week_starts(3)
    after = await picks.choose(db, settings, schedule.week_key(later, schedule.zone("UTC")), later)
    assert after is not None and not any(p.reason.startswith("The season's") for p in after.picks)
    earlier = await seasons.season_at(db, GUILD, made.week_starts(1))  # it did run then
    assert earlier is not None and (earlier[0].id, earlier[1]) == (made.id, 1)


async def test_a_poll_season_keeps_the_picks_on_its_theme(
    db: Database, clock: FixedClock, films: dict[str, Film]
) -> None:
    road = next(t for t in await list_themes(db) if t.slug == "road")
    await config.set_channel(db, clock, TimerService(db, clock), GUILD, ALICE, config.ChannelKind.POLLS, POLLS)
    made = await create(db, clock, road, weeks=2, mode=seasons.Mode.POLL)
    settings = await get_settings(db, GUILD)
    moment = made.week_starts(2)
    chosen = await picks.choose(db, settings, schedule.week_key(moment, schedule.zone("UTC")), moment)
    assert chosen is not None and chosen.theme.slug == "road"
    by_id = {f.id: f for f in films.values()}
    assert all("road" in by_id[pick.film.id].themes for pick in chosen.picks)


# -- one current season, kept by the database ------------------------------------------------------------------------


async def test_two_creates_at_once_store_one_season(
    db: Database, db_target: str | Path, clock: FixedClock, live: Theme
) -> None:
    """Two moderators (here two processes, each with its own connection) programme a season at the same moment:
    exactly one is stored, and the other gets the human error."""
    async with await open_database(db_target) as other:
        results = await asyncio.gather(
            create(db, clock, live, weeks=2),
            seasons.create_season(
                other,
                clock,
                TimerService(other, clock),
                guild_id=GUILD,
                user_id=ALICE,
                theme=live,
                weeks=4,
                start="2026-03-06 20:00",
                timezone="Europe/Paris",
            ),
            return_exceptions=True,
        )
    refused = [result for result in results if isinstance(result, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], UserError), results
    assert "already has a season" in refused[0].message
    assert int(await db.fetchval("SELECT count(*) FROM seasons")) == 1


async def test_the_database_itself_refuses_a_second_current_season(
    db: Database, clock: FixedClock, live: Theme
) -> None:
    """Past the check in the core (another process's season not yet committed when it looked), the insert itself
    stores nothing: the unique index on the current season's server."""
    made = await create(db, clock, live)
    values = {
        "guild_id": GUILD,
        "theme_slug": "live",
        "theme_title": "Live",
        "mode": "picks",
        "weeks": 2,
        "starts_at": to_db(made.starts_at),
        "ends_at": to_db(made.ends_at),
        "notes": "",
        "created_by": ALICE,
        "created_at": to_db(clock.now()),
    }
    async with db.transaction() as tx:
        assert await season_store.insert_season(tx, values, []) is None
    other = {**values, "guild_id": OTHER_GUILD}
    async with db.transaction() as tx:
        assert await season_store.insert_season(tx, other, []) is not None  # another server's is its own
    # Once the season has run its course, it is no longer current, and the next one is stored.
    clock.moment = made.ends_at
    again = await create(db, clock, live, start="2026-04-01 20:00")
    assert (await seasons.current_season(db, clock, GUILD)) == again


async def test_an_unknown_theme_is_refused(db: Database, films: dict[str, Film]) -> None:
    with pytest.raises(UserError, match="theme"):
        await recommender_for(db).resolve_theme(GUILD, "no such theme at all")


# -- progress over the weeks, all three modes --------------------------------------------------------------------------


async def test_a_fixed_season_page_names_each_weeks_film_and_the_next(
    db: Database, clock: FixedClock, live: Theme
) -> None:
    made = await create(db, clock, live)
    page = await seasons.season_page(db, clock, GUILD)
    assert [entry.film_id for entry in page.weeks] == list(made.film_ids)
    assert page.next is not None and page.next.week == 1  # upcoming: week 1 is next
    clock.moment = made.week_starts(2) + timedelta(hours=1)
    page = await seasons.season_page(db, clock, GUILD)
    assert page.progress.text == "week 2 of 3" and page.next is not None and page.next.week == 3
    assert page.next.film_id == made.film_ids[2] and set(page.films) == set(made.film_ids)
    clock.moment = made.week_starts(3)
    assert (await seasons.season_page(db, clock, GUILD)).next is None  # the last week


async def test_a_picks_season_page_shows_each_weeks_picks(
    db: Database, clock: FixedClock, live: Theme, films: dict[str, Film]
) -> None:
    await config.set_channel(db, clock, TimerService(db, clock), GUILD, ALICE, config.ChannelKind.PICKS, POLLS)
    made = await create(db, clock, live, mode=seasons.Mode.PICKS)
    settings = await get_settings(db, GUILD)
    posted = []
    for week in (1, 2):
        clock.moment = made.week_starts(week) + timedelta(days=1)
        chosen = await picks.choose(db, settings, schedule.week_key(clock.moment, schedule.zone("UTC")), clock.moment)
        assert chosen is not None and chosen.theme.slug == "live"
        post = await picks.claim(db, clock, chosen, trigger="schedule", channel_id=POLLS, slot_at=clock.moment)
        assert post is not None
        posted.append(tuple(chosen.film_ids))
        page = await seasons.season_page(db, clock, GUILD)
        assert page.progress.text == f"week {week} of 3"
        assert [entry.picks for entry in page.weeks] == [*posted, *([()] * (3 - week))]
    assert all(film_id in page.films for films_of_week in posted for film_id in films_of_week)


@pytest.fixture
async def poll_season_club(db: Database, clock: FixedClock, films: dict[str, Film]) -> TimerService:
    timers = TimerService(db, clock)
    await config.set_channel(db, clock, timers, GUILD, ALICE, config.ChannelKind.POLLS, POLLS)
    return timers


async def pending_due(timers: TimerService, season: seasons.Season, week: int) -> datetime | None:
    found = await timers.pending(seasons.POLL_TIMER, seasons.poll_timer_key(season.id, week))
    return None if found is None else found.due_at


async def vote_and_close(db: Database, clock: FixedClock, poll_id: int, film_id: int) -> None:
    for member in (11, 12):
        await polls.vote(db, clock, poll_id=poll_id, guild_id=GUILD, user_id=member, role_ids=(), film_id=film_id)
    poll = await polls.get_poll(db, poll_id)
    assert poll is not None
    clock.moment = poll.closes_at
    closed = await polls.close_poll(db, clock, poll_id)
    assert closed.winner_film_id == film_id


async def test_a_poll_season_opens_a_poll_each_week_once_without_earlier_winners(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)
    # No regular night: week n's poll closes at the week's start and opens three days before.
    assert await pending_due(timers, made, 1) == made.week_starts(1) - seasons.POLL_SPAN
    page = await seasons.season_page(db, clock, GUILD)
    assert page.next is not None and page.next.poll_opens_at == made.week_starts(1) - seasons.POLL_SPAN
    theme_films = set(await picks.theme_films(db, GUILD, live))
    winners: list[int] = []
    for week in (1, 2, 3):
        due = await pending_due(timers, made, week)
        assert due is not None, week
        clock.moment = due
        handled = await season_polls.open_week_poll(db, clock, timers, made.id, week, creator_id=ALICE)
        again = await season_polls.open_week_poll(db, clock, timers, made.id, week, creator_id=ALICE)
        assert handled.poll_id is not None and again.poll_id == handled.poll_id  # exactly once
        poll = await polls.get_poll(db, handled.poll_id)
        assert poll is not None and poll.channel_id == POLLS and poll.screening is None
        assert poll.title == f"Live on Stage · week {week} of 3"
        assert poll.closes_at == made.week_starts(week)
        assert set(poll.film_ids) <= theme_films - set(winners)  # earlier weeks' winners are left out
        assert len(poll.film_ids) == min(season_polls.POLL_FILMS, len(theme_films) - len(winners))
        if week < 3:
            assert await pending_due(timers, made, week + 1) == made.week_starts(week + 1) - seasons.POLL_SPAN
        page = await seasons.season_page(db, clock, GUILD)
        assert page.weeks[week - 1].poll_id == poll.id and page.weeks[week - 1].poll_status == "open"
        await vote_and_close(db, clock, poll.id, poll.film_ids[-1])
        winners.append(poll.film_ids[-1])
        page = await seasons.season_page(db, clock, GUILD)
        assert page.progress.text == f"week {week} of 3"
        assert [entry.film_id for entry in page.weeks[:week]] == winners
    assert await pending_due(timers, made, 4) is None
    assert int(await db.fetchval("SELECT count(*) FROM polls")) == 3


async def test_a_poll_seasons_winner_of_the_week_comes_first_in_that_weeks_picks(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    """As a fixed season's film does: once the week's poll closed with a winner, the week's picks put it first as the
    season's film of the week, even if it was picked lately or watched; before the poll closes, and for a week whose
    poll was cancelled, the picks are on the theme with no film of the week."""
    timers = poll_season_club
    await config.set_timezone(db, clock, timers, GUILD, ALICE, "Europe/Paris")
    await config.set_night(db, clock, timers, GUILD, ALICE, day=5, at="21:00", channel_id=900)  # Saturdays
    settings = await get_settings(db, GUILD)
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)  # starts Friday 6 March, 20:00

    def week_of(moment: datetime) -> str:
        return schedule.week_key(moment, schedule.zone("UTC"))

    async def picks_at(moment: datetime) -> picks.Picks:
        chosen = await picks.choose(db, settings, week_of(moment), moment)
        assert chosen is not None and chosen.theme.slug == "live"
        return chosen

    # Week 1: its poll closes before Saturday's night; picks taken in the week before that name no film of the week.
    clock.moment = await pending_due(timers, made, 1) or clock.now()
    first = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    assert first.poll_id is not None
    poll = await polls.get_poll(db, first.poll_id)
    assert poll is not None
    winner = poll.film_ids[-1]  # last on the ballot: not the picks' own first choice
    during_vote = await picks_at(made.week_starts(1) + timedelta(hours=12))
    assert made.week_starts(1) + timedelta(hours=12) < poll.closes_at
    assert not any(p.reason.startswith("The season's") for p in during_vote.picks)

    await vote_and_close(db, clock, first.poll_id, winner)
    decided = await picks_at(poll.closes_at + timedelta(hours=1))
    assert decided.picks[0].film.id == winner
    assert decided.picks[0].reason == "The season's film for week 1 of 3"
    await picks.claim(db, clock, decided, trigger="schedule", channel_id=POLLS, slot_at=poll.closes_at)
    await watch.mark_club_watched(db, clock, GUILD, winner)
    moment = made.week_starts(1) + timedelta(days=4)  # the next ISO week, still the season's week 1
    assert week_of(moment) != decided.week_key
    chosen = await picks_at(moment)  # first again, though picked lately and watched
    assert chosen.picks[0].film.id == winner
    assert chosen.picks[0].reason == "The season's film for week 1 of 3"
    assert [p.film.id for p in chosen.picks].count(winner) == 1
    assert len(chosen.picks) == settings.picks_count

    # Week 2: the poll is cancelled; the week has no film of its own (week 1's winner is not carried over).
    clock.moment = await pending_due(timers, made, 2) or clock.now()
    second = await season_polls.open_week_poll(db, clock, timers, made.id, 2, creator_id=ALICE)
    assert second.poll_id is not None
    await polls.cancel_poll(db, clock, timers, second.poll_id, cancelled_by=ALICE)
    week_two = await picks_at(made.week_starts(2) + timedelta(days=2))
    assert not any(p.reason.startswith("The season's") for p in week_two.picks)
    assert await seasons.film_of_the_week(db, made, 1) == winner
    assert await seasons.film_of_the_week(db, made, 2) is None
    assert await seasons.film_of_the_week(db, made, 3) is None  # not handled yet


async def test_a_poll_season_closes_its_polls_before_the_clubs_night(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    await config.set_timezone(db, clock, timers, GUILD, ALICE, "Europe/Paris")
    await config.set_night(db, clock, timers, GUILD, ALICE, day=5, at="21:00", channel_id=900)  # Saturdays
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)  # starts Friday 6 March, 20:00
    settings = await get_settings(db, GUILD)
    times = seasons.week_poll_times(made, 1, settings)
    assert times.night == MARCH_1 + timedelta(days=6, hours=20)  # Saturday 7 March, 21:00 in Paris
    assert times.closes_at == times.night - seasons.NIGHT_LEAD
    assert await pending_due(timers, made, 1) == times.opens_at
    # The night moves a day later before the timer fires: the timer is moved, nothing is opened yet.
    await config.set_night(db, clock, timers, GUILD, ALICE, day=6)
    clock.moment = times.opens_at
    handled = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    assert handled.later and handled.poll_id is None
    moved = await pending_due(timers, made, 1)
    assert moved == times.opens_at + timedelta(days=1)
    assert moved is not None
    clock.moment = moved
    opened = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    poll = await polls.get_poll(db, opened.poll_id or 0)
    assert poll is not None and poll.closes_at == times.closes_at + timedelta(days=1)


async def test_a_week_missed_while_the_bot_was_down_has_no_poll_and_the_next_goes_on(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)
    clock.moment = made.week_starts(1) - timedelta(minutes=30)  # back up half an hour before week 1's poll closes
    handled = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    assert handled.poll_id is None and "too late" in handled.skipped
    assert await pending_due(timers, made, 2) is not None
    page = await seasons.season_page(db, clock, GUILD)
    assert "too late" in page.weeks[0].skipped and page.next is not None and page.next.week == 1
    assert int(await db.fetchval("SELECT count(*) FROM polls")) == 0
    # Ended early: the next week's timer is cancelled, and a run of it already under way opens nothing.
    await seasons.end_season(db, clock, timers, guild_id=GUILD, user_id=ALICE)
    assert await pending_due(timers, made, 2) is None
    clock.moment = made.week_starts(2) - seasons.POLL_SPAN
    ended = await season_polls.open_week_poll(db, clock, timers, made.id, 2, creator_id=ALICE)
    assert ended.poll_id is None and int(await db.fetchval("SELECT count(*) FROM polls")) == 0


async def test_start_up_arms_a_poll_seasons_lost_timer_once(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)
    shards = ShardSet(1, (0,))
    assert await seasons.ensure_poll_timers(db, clock, timers, shards) == 0  # week 1's is pending
    await db.execute("DELETE FROM timers")  # a crash between storing the season and arming its first timer
    assert await seasons.ensure_poll_timers(db, clock, timers, shards) == 1
    assert await pending_due(timers, made, 1) == made.week_starts(1) - seasons.POLL_SPAN
    assert await seasons.ensure_poll_timers(db, clock, timers, shards) == 0


async def saturday_poll_season(
    db: Database, clock: FixedClock, live: Theme, timers: TimerService
) -> tuple[seasons.Season, seasons.PollTimes]:
    """A poll season on Saturdays' 21:00 night in Paris (7 March: 20:00 UTC), its week 1 poll's times."""
    await config.set_timezone(db, clock, timers, GUILD, ALICE, "Europe/Paris")
    await config.set_night(db, clock, timers, GUILD, ALICE, day=5, at="21:00", channel_id=900)
    made = await create(db, clock, live, timers=timers, mode=seasons.Mode.POLL)
    return made, seasons.week_poll_times(made, 1, await get_settings(db, GUILD))


async def close_due(timers: TimerService, poll_id: int) -> datetime | None:
    found = await timers.pending(polls.CLOSE_TIMER, str(poll_id))
    return None if found is None else found.due_at


async def test_the_open_week_poll_closes_before_its_night_wherever_the_night_moves(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made, times = await saturday_poll_season(db, clock, live, timers)
    assert times.night is not None
    clock.moment = times.opens_at
    opened = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    assert opened.poll_id is not None
    poll_id = opened.poll_id
    plan = await nights.keep_night(db, clock, timers, GUILD)
    assert plan.night is not None and plan.night.starts_at == times.night
    await nights.record_event(db, plan.night.id, 555)
    await timers.cancel(polls.REDRAW_TIMER, str(poll_id))

    # The settings move the night an hour later: the poll closes an hour later, its timer and message with it.
    await config.set_night(db, clock, timers, GUILD, ALICE, at="22:00")
    assert (await nights.keep_night(db, clock, timers, GUILD)).step is nights.Step.MOVE
    later = times.night + timedelta(hours=1)
    poll = await polls.get_poll(db, poll_id)
    assert poll is not None and poll.closes_at == later - seasons.NIGHT_LEAD
    assert await close_due(timers, poll_id) == poll.closes_at
    redraw = await timers.pending(polls.REDRAW_TIMER, str(poll_id))
    assert redraw is not None and redraw.due_at == clock.now() and redraw.guild_id == GUILD

    # A moderator moves the event a day later in Discord: the night follows, and the poll with it.
    sunday = later + timedelta(days=1)
    assert await nights.follow_event(db, clock, timers, 555, sunday) is not None
    poll = await polls.get_poll(db, poll_id)
    assert poll is not None and poll.closes_at == sunday - seasons.NIGHT_LEAD
    assert await close_due(timers, poll_id) == poll.closes_at

    # ... then to within the poll's lead: the poll closes now, never in the past.
    clock.advance(timedelta(days=1))
    soon = clock.now() + timedelta(hours=1)
    assert await nights.follow_event(db, clock, timers, 555, soon) is not None
    poll = await polls.get_poll(db, poll_id)
    assert poll is not None and poll.closes_at == clock.now() and poll.is_open
    assert await close_due(timers, poll_id) == clock.now()


async def test_a_poll_not_for_the_night_keeps_its_deadline(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made, times = await saturday_poll_season(db, clock, live, timers)
    assert times.night is not None
    clock.moment = times.opens_at
    plan = await nights.keep_night(db, clock, timers, GUILD)
    assert plan.night is not None
    await nights.record_event(db, plan.night.id, 555)
    films = await picks.theme_films(db, GUILD, live)
    own = await polls.create_poll(  # a moderator's own poll, closing at some other time
        db, clock, timers, guild_id=GUILD, channel_id=POLLS, creator_id=ALICE, title="Ours",
        film_ids=films[:2], closes_at=times.night - timedelta(hours=5),
    )  # fmt: skip
    native = await polls.create_poll(  # Discord's own poll: its length was fixed when it was posted
        db, clock, timers, guild_id=GUILD, channel_id=POLLS, creator_id=ALICE, title="Native",
        film_ids=films[:2], closes_at=times.closes_at, style=polls.Style.NATIVE,
    )  # fmt: skip
    assert await polls.move_deadline(db, clock, timers, native.id, times.closes_at + timedelta(hours=1)) is None
    await nights.follow_event(db, clock, timers, 555, times.night + timedelta(days=1))
    for poll in (own, native):
        again = await polls.get_poll(db, poll.id)
        assert again is not None and again.closes_at == poll.closes_at
        assert await timers.pending(polls.REDRAW_TIMER, str(poll.id)) is None
    closed = await polls.close_poll(db, clock, own.id)
    assert await polls.move_deadline(db, clock, timers, closed.id, times.night) is None  # only an open poll moves
    del made


async def test_a_week_poll_opened_after_its_night_moved_in_discord_closes_before_it_there(
    db: Database, clock: FixedClock, live: Theme, poll_season_club: TimerService
) -> None:
    timers = poll_season_club
    made, times = await saturday_poll_season(db, clock, live, timers)
    assert times.night is not None
    plan = await nights.keep_night(db, clock, timers, GUILD)  # Sunday 1 March: the night of 7 March is planned
    assert plan.night is not None and plan.night.starts_at == times.night
    await nights.record_event(db, plan.night.id, 555)
    sunday = times.night + timedelta(days=1)
    assert await nights.follow_event(db, clock, timers, 555, sunday) is not None
    clock.moment = times.opens_at
    opened = await season_polls.open_week_poll(db, clock, timers, made.id, 1, creator_id=ALICE)
    poll = await polls.get_poll(db, opened.poll_id or 0)
    assert poll is not None and poll.closes_at == sunday - seasons.NIGHT_LEAD
