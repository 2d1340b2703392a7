"""Seasons on both backends: the checks of /season create, one current season a server, and a season's progress
over its weeks on a controlled clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import collections, config, picks, schedule, seasons, watch
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.films import Film, Theme, active_films, list_themes
from bot.core.guilds import get_settings
from bot.core.timers import TimerService
from bot.db.database import Database
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
    ended = await seasons.end_season(db, clock, guild_id=GUILD, user_id=ALICE)
    assert ended.id == made.id
    assert await seasons.current_season(db, clock, GUILD) is None
    with pytest.raises(NotFoundError):
        await seasons.end_season(db, clock, guild_id=GUILD, user_id=ALICE)
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
    await seasons.end_season(db, clock, guild_id=GUILD, user_id=ALICE)
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
