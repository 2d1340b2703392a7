"""The club's web page: its address (publish, rotate, take down) and what its pages show, on both backends."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core import club_page, config, nights, web_pages
from bot.core.errors import UserError
from bot.core.films import ServerTitles, build_title_index
from bot.core.timers import TimerService
from bot.core.web_pages import WebPage
from bot.db.database import Database
from tests.clocks import FixedClock
from tests.club_pages import ALICE, BOB, CHANNEL, GUILD, HOSTILE, MAYA, NEXT_EVENT, OTHER, VOICE, Club, make_club
from tests.server_films import add_server_film


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


async def test_publishing_gives_an_unguessable_address_that_rotates_and_comes_down(
    db: Database, clock: FixedClock
) -> None:
    assert not (await web_pages.web_page(db, GUILD)).public

    published = await web_pages.configure(db, clock, GUILD, MAYA, public=True)
    slug = published.page.slug
    assert slug is not None and web_pages.SLUG_SHAPE.fullmatch(slug)
    assert await web_pages.public_page(db, slug) == WebPage(GUILD, slug, False)
    assert [c.describe() for c in published.changes] == ["Web page: off → on"]

    rotated = await web_pages.configure(db, clock, GUILD, MAYA, rotate=True)
    new_slug = rotated.page.slug
    assert new_slug is not None and new_slug != slug
    assert await web_pages.public_page(db, slug) is None  # the old address is retired at once
    assert (await web_pages.public_page(db, new_slug)) == WebPage(GUILD, new_slug, False)

    named = await web_pages.configure(db, clock, GUILD, MAYA, show_members=True)
    assert named.page == WebPage(GUILD, new_slug, True)

    down = await web_pages.configure(db, clock, GUILD, MAYA, public=False)
    assert not down.page.public and down.page.show_members
    assert await web_pages.public_page(db, new_slug) is None

    again = await web_pages.configure(db, clock, GUILD, MAYA, public=True)
    assert again.page.slug not in (None, slug, new_slug)  # publishing again never revives a retired address

    history = [entry.change.describe() for entry in await config.history(db, GUILD)]
    assert history == [
        "Web page: off → on",
        "Web page: on → off",
        "Members' names on the web page: off → on",
        "Web page address: the old one (retired) → a new one",
        "Web page: off → on",
    ]
    assert not any(s in " ".join(history) for s in (slug, new_slug))  # the history never holds an address


async def test_web_page_bad_input_changes_nothing(db: Database, clock: FixedClock) -> None:
    with pytest.raises(UserError, match="not public"):
        await web_pages.configure(db, clock, GUILD, MAYA, rotate=True)
    published = await web_pages.configure(db, clock, GUILD, MAYA, public=True)
    with pytest.raises(UserError, match="not both"):
        await web_pages.configure(db, clock, GUILD, MAYA, public=False, rotate=True)
    same = await web_pages.configure(db, clock, GUILD, MAYA, public=True)  # already public: the same address
    assert same.changes == [] and same.page == published.page
    assert (await web_pages.configure(db, clock, GUILD, MAYA)).changes == []
    assert len(await config.history(db, GUILD)) == 1


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "x",
        "a" * 23,
        "a" * 25,
        "a" * 2000,
        "../../etc/passwd",
        "' OR 1=1 --aaaaaaaaaaaaaa",
        "%2e%2e%2faaaaaaaaaaaaaaaa",
    ],
)
async def test_anything_but_an_issued_slug_finds_no_server(db: Database, clock: FixedClock, slug: str) -> None:
    await web_pages.configure(db, clock, GUILD, MAYA, public=True)
    assert await web_pages.public_page(db, slug) is None


async def test_a_slug_is_case_sensitive(db: Database, clock: FixedClock) -> None:
    slug = (await web_pages.configure(db, clock, GUILD, MAYA, public=True)).page.slug
    assert slug is not None
    flipped = slug.swapcase()
    if flipped != slug:
        assert await web_pages.public_page(db, flipped) is None


# -- the club page ----------------------------------------------------------------------------------------------


@pytest.fixture
async def club(db: Database, clock: FixedClock, tmp_path: Path) -> Club:
    return await make_club(db, clock, tmp_path)


class Names:
    """Members' names as the bot would look them up; records who was asked."""

    def __init__(self) -> None:
        self.asked: list[set[int]] = []

    async def __call__(self, guild_id: int, user_ids: Collection[int]) -> Mapping[int, str]:
        assert guild_id == GUILD
        self.asked.append(set(user_ids))
        return {ALICE: "Alice <i>", BOB: "Bob"}


async def test_the_club_page_shows_the_club_as_it_is_now(db: Database, clock: FixedClock, club: Club) -> None:
    names = Names()
    page = await club_page.club_page(db, clock, club.page, names=names)

    assert page.timezone == "Europe/Paris"
    assert page.next_screening is not None
    assert page.next_screening.id == club.next_screening.id
    assert page.next_screening.film.title == "Noir 3" and page.next_screening.has_event

    [live, hidden] = page.open_polls
    assert live.title == HOSTILE and live.counts_shown and live.ballots == 1
    assert live.closes_at == club.open_poll.closes_at
    assert [(o.film.title, o.votes, o.share) for o in live.options] == [
        ("The Last Waltz", 1, 100),
        ("Noir 2", 0, 0),
        ("Noir 4", 0, 0),
    ]
    assert not any(o.winner for o in live.options)  # an open poll has a leader, not a winner
    assert hidden.title == "Secret ballot" and not hidden.counts_shown and hidden.ballots is None
    assert {o.votes for o in hidden.options} == {None}  # hidden until the poll closes

    [result] = page.results
    assert result.winner is not None and result.winner.title == "Noir 3"
    assert [(o.film.title, o.votes, o.winner) for o in result.options] == [("Noir 3", 2, True), ("Noir 2", 1, False)]

    assert page.picks is not None and page.picks.theme_title == "Noir" and len(page.picks.films) == 3
    assert [s.film.title for s in page.programme] == ["Noir 1"]
    assert page.programme[0].rating is not None and page.programme[0].rating.count == 2
    assert [r.film.title for r in page.top_rated] == ["Noir 1"]

    # Newest first; only this server's; names kept off the page unless moderators show them (nobody was asked).
    assert [(r.author, r.stars, r.spoiler) for r in page.reviews] == [("a member", 2.0, True), ("a member", 4.5, False)]
    assert page.reviews[1].body == HOSTILE  # stored as written: the templates escape it
    assert names.asked == []

    shown = WebPage(GUILD, club.page.slug, show_members=True)
    named = await club_page.club_page(db, clock, shown, names=names)
    assert [r.author for r in named.reviews] == ["Bob", "Alice <i>"]
    assert names.asked == [{ALICE, BOB}]


async def test_the_next_screening_moves_on_once_it_is_over(db: Database, clock: FixedClock, club: Club) -> None:
    clock.moment = club.next_screening.ends_at + timedelta(minutes=1)
    page = await club_page.club_page(db, clock, club.page)
    assert page.next_screening is None
    clock.moment += timedelta(days=8)  # last week's picks are not "this week's" any more
    assert (await club_page.club_page(db, clock, club.page)).picks is None


async def test_another_servers_page_shows_nothing_of_this_one(db: Database, clock: FixedClock, club: Club) -> None:
    other = (await web_pages.configure(db, clock, OTHER, MAYA, public=True)).page
    page = await club_page.club_page(db, clock, other)
    assert page.next_screening is None and page.open_polls == () and page.results == () and page.programme == ()
    assert [r.body for r in page.reviews] == ["elsewhere"]
    assert await club_page.result_chart(db, OTHER, club.closed_poll.id) is None
    assert await club_page.screening_event(db, OTHER, club.next_screening.id) is None


async def test_result_charts_and_event_links(db: Database, club: Club) -> None:
    chart = await club_page.result_chart(db, GUILD, club.closed_poll.id)
    assert chart is not None
    assert chart.labels == ("Noir 3 (1953)", "Noir 2 (1952)") and chart.values == (2.0, 1.0) and chart.highlight == (0,)
    assert await club_page.result_chart(db, GUILD, club.open_poll.id) is None  # no chart before it closes
    assert await club_page.result_chart(db, GUILD, 10**30) is None
    assert await club_page.screening_event(db, GUILD, club.next_screening.id) == NEXT_EVENT
    assert await club_page.screening_event(db, GUILD, 987654) is None


async def test_a_film_page_has_the_clubs_rating_reviews_and_screenings(
    db: Database, clock: FixedClock, club: Club
) -> None:
    page = await club_page.film_page(db, club.page, club.ids["noir-1"])
    assert page is not None
    assert page.film.label == "Noir 1 (1951)" and page.count == 2 and page.average == 3.25
    assert page.histogram[8] == 1 and page.histogram[3] == 1  # one 4.5★, one 2★
    assert [t.slug for t in page.themes] == ["noir"]
    assert [s.id for s in page.screenings] == [club.past_screening.id]
    assert {r.author for r in page.reviews} == {"a member"}

    nothing = await club_page.film_page(db, club.page, club.ids["noir-4"])
    assert nothing is not None and nothing.count == 0 and nothing.reviews == ()


async def test_a_film_page_is_only_for_films_the_server_can_see(db: Database, clock: FixedClock, club: Club) -> None:
    theirs = await add_server_film(db, OTHER, "Their Home Movie", 2001)
    ours = await add_server_film(db, GUILD, "Our Home Movie", 2002)
    assert await club_page.film_page(db, club.page, theirs) is None
    assert (await club_page.film_page(db, club.page, ours)) is not None
    assert await club_page.film_page(db, club.page, 999_999) is None
    assert await club_page.film_page(db, club.page, 0) is None


async def test_the_catalog_and_its_search_forgive_typos(db: Database, club: Club) -> None:
    themes = await club_page.catalog_themes(db)
    assert [(t.slug, t.film_count) for t in themes] == [("noir", 5)]
    found = await club_page.theme_films(db, "noir")
    assert found is not None and [f.title for f in found[1]][:2] == ["Noir 1", "Noir 2"]
    assert await club_page.theme_films(db, "nothing") is None

    titles = await ServerTitles(db).for_guild(await build_title_index(db), GUILD)
    assert [f.title for f in club_page.search_films(titles, "last walts")][:1] == ["The Last Waltz"]
    assert club_page.search_films(titles, "   ") == []
    assert len(club_page.search_films(titles, "x" * 10_000)) <= club_page.SEARCH_RESULTS


async def test_the_undecided_night_is_shown_when_it_comes_before_the_next_screening(
    db: Database, clock: FixedClock, club: Club
) -> None:
    timers = TimerService(db, clock)
    tomorrow = clock.now().astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=1)
    await config.set_night(db, clock, timers, GUILD, MAYA, day=tomorrow.weekday(), at="21:00", channel_id=VOICE)
    plan = await nights.keep_night(db, clock, timers, GUILD)
    assert plan.night is not None and plan.night.starts_at < club.next_screening.starts_at
    page = await club_page.club_page(db, clock, club.page)
    assert page.next_night == club_page.NightCard(
        plan.night.starts_at, nights.night_end(plan.night), season=None, week=None, weeks=None
    )
    assert page.next_screening is not None and page.next_screening.id == club.next_screening.id  # after the night

    filled = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=club.ids["waltz"], announce_channel_id=CHANNEL
    )
    assert filled is not None
    page = await club_page.club_page(db, clock, club.page)  # decided: the night is the next screening now
    assert page.next_night is None
    assert page.next_screening is not None and page.next_screening.film.title == "The Last Waltz"


async def test_an_undecided_night_after_the_next_screening_waits_its_turn(
    db: Database, clock: FixedClock, club: Club
) -> None:
    timers = TimerService(db, clock)
    later = club.next_screening.starts_at.astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=2)
    await config.set_night(db, clock, timers, GUILD, MAYA, day=later.weekday(), at="21:00", channel_id=VOICE)
    plan = await nights.keep_night(db, clock, timers, GUILD)
    assert plan.night is not None and plan.night.starts_at > club.next_screening.starts_at
    page = await club_page.club_page(db, clock, club.page)
    assert page.next_night is None and page.next_screening is not None
    clock.moment = club.next_screening.ends_at + timedelta(minutes=1)  # the screening is over: the night is next
    page = await club_page.club_page(db, clock, club.page)
    assert page.next_night is not None and page.next_night.starts_at == plan.night.starts_at
