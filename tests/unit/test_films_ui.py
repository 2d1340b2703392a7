"""How a film is shown (bot/ui/films.py, and the poll message that uses it): poster, links, where to watch,
attribution, and the "could not fetch" line, from what is known and nothing more."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.core.details import (
    TMDB_ATTRIBUTION,
    WATCH_ATTRIBUTION,
    DetailsAnswer,
    FilmDetails,
    WatchProviders,
)
from bot.core.films import Film
from bot.core.polls import Candidate, Poll, Status, Style
from bot.core.tally import Method
from bot.ui.films import (
    DETAILS_STALE,
    DETAILS_UNAVAILABLE,
    add_attribution,
    add_film_details,
    answer_budget,
    film_card,
    film_entry,
    letterboxd_address,
    linked_label,
    links_for,
)
from cogs.polls._render import poll_embed
from tests.server_films import film_record

ALIEN = film_record(
    slug="alien",
    title="Alien",
    runtime=117,
    blurb="In space, no one can hear you scream.",
    imdb_id="tt0078748",
    directors=("Ridley Scott",),
    guild_id=None,
)
HOME_MOVIE = replace(
    ALIEN, id=2, slug="~home", title="Home [Movie] *1*", year=2001, runtime=0, blurb="", imdb_id=None, directors=()
)
DETAILS = FilmDetails(
    tmdb_id=348,
    title="Alien",
    year=1979,
    runtime=117,
    directors=("Ridley Scott",),
    genres=("Horror", "Science Fiction"),
    overview="The crew of the Nostromo …",
    poster_path="/alien.jpg",
    imdb_id="tt0078748",
    watch=WatchProviders("US", "https://www.themoviedb.org/movie/348/watch?locale=US", stream=("Hulu",), rent=()),
)


def fields(embed: discord.Embed) -> dict[str, str]:
    return {field.name or "": field.value or "" for field in embed.fields}


def test_links_come_from_the_films_ids_and_fill_in_from_the_details() -> None:
    links = links_for(ALIEN)
    assert links.letterboxd == "https://letterboxd.com/imdb/tt0078748/"
    assert links.imdb == "https://www.imdb.com/title/tt0078748/" and links.tmdb is None
    with_details = links_for(ALIEN, DETAILS)
    assert with_details.letterboxd == "https://letterboxd.com/tmdb/348/"
    assert with_details.tmdb == "https://www.themoviedb.org/movie/348"
    assert links_for(HOME_MOVIE).as_list() == []


def test_only_letterboxd_addresses_are_linked_as_the_films_own_page() -> None:
    assert letterboxd_address("https://letterboxd.com/film/alien/") == "https://letterboxd.com/film/alien/"
    assert letterboxd_address("https://boxd.it/2b4A") == "https://boxd.it/2b4A"
    for bad in ("http://letterboxd.com/film/alien/", "https://evil.example/film", "javascript:alert(1)", "", None):
        assert letterboxd_address(bad) is None
    assert letterboxd_address("https://letterboxd.com/film/a)(b/") is None  # would break out of a markdown link
    imported = replace(HOME_MOVIE, letterboxd_uri="https://evil.example/phish", tmdb_id=99)
    assert links_for(imported).letterboxd == "https://letterboxd.com/tmdb/99/"


def test_a_films_name_is_escaped_and_linked() -> None:
    assert linked_label(HOME_MOVIE) == "**Home \\[Movie\\] \\*1\\* (2001)**"
    entry = film_entry(ALIEN, DETAILS, extra="117 min")
    assert entry == (
        "**[Alien (1979)](https://letterboxd.com/tmdb/348/)** · 117 min · [IMDb](https://www.imdb.com/title/tt0078748/)"
        " · [TMDB](https://www.themoviedb.org/movie/348)"
    )


def test_the_card_shows_poster_links_where_to_watch_and_attribution() -> None:
    embed = discord.Embed(title="Alien (1979)")
    add_film_details(embed, ALIEN, DetailsAnswer(DETAILS), poster_url="https://img/w500/alien.jpg", watch_region="US")
    assert embed.thumbnail.url == "https://img/w500/alien.jpg"
    shown = fields(embed)
    assert "[Letterboxd](https://letterboxd.com/tmdb/348/)" in shown["Links"]
    assert shown["Genres"] == "Horror, Science Fiction"
    assert "**Stream:** Hulu" in shown["Where to watch (US)"]
    assert "[Every option in US](https://www.themoviedb.org/movie/348/watch?locale=US)" in shown["Where to watch (US)"]
    assert TMDB_ATTRIBUTION in (embed.footer.text or "") and WATCH_ATTRIBUTION in (embed.footer.text or "")
    assert "Details" not in shown


def test_nowhere_to_watch_is_said_and_another_regions_list_is_not_shown() -> None:
    nowhere = replace(DETAILS, watch=WatchProviders("US", None))
    shown = fields(add_film_details(discord.Embed(title="x"), ALIEN, DetailsAnswer(nowhere), watch_region="US"))
    assert shown["Where to watch (US)"].startswith("Not streaming, for rent or for sale in US")
    shown = fields(add_film_details(discord.Embed(title="x"), ALIEN, DetailsAnswer(DETAILS), watch_region="GB"))
    assert not any(name.startswith("Where to watch") for name in shown)


def test_without_details_the_card_says_so_and_claims_no_attribution() -> None:
    embed = add_film_details(discord.Embed(title="x"), ALIEN, DetailsAnswer(None, unavailable=True))
    assert fields(embed)["Details"] == DETAILS_UNAVAILABLE
    assert embed.thumbnail.url is None and embed.footer.text is None
    assert "[IMDb](https://www.imdb.com/title/tt0078748/)" in fields(embed)["Links"]  # what the catalog knows
    quiet = add_film_details(discord.Embed(title="x"), HOME_MOVIE, None)
    assert quiet.fields == [] and quiet.footer.text is None  # no provider, no ids: nothing to add


def test_stale_details_are_shown_with_the_note() -> None:
    embed = add_film_details(discord.Embed(title="x"), ALIEN, DetailsAnswer(DETAILS, unavailable=True, stale=True))
    assert "Genres" in fields(embed) and fields(embed)["Details"] == DETAILS_STALE


def test_attribution_keeps_a_posts_marker_and_is_added_once() -> None:
    embed = discord.Embed(title="x").set_footer(text="poll #3 · ranked")
    add_attribution(add_attribution(embed))
    assert embed.footer.text == f"poll #3 · ranked · {TMDB_ATTRIBUTION}"


def test_a_film_card_fills_what_the_film_lacks_from_the_details() -> None:
    details = replace(DETAILS, tmdb_id=7, directors=("Jo Doe",), runtime=88, overview="A home movie.", watch=None)
    card = film_card(HOME_MOVIE, DetailsAnswer(details), poster_url="https://img/p.jpg", note="Nominated by <@1>")
    assert card.title == "Home [Movie] *1* (2001)"
    assert card.description == "Nominated by <@1>\n\nA home movie."
    assert fields(card)["Directed by"] == "Jo Doe" and fields(card)["Runtime"] == "88 min"
    assert card.thumbnail.url == "https://img/p.jpg" and card.url == "https://letterboxd.com/tmdb/7/"
    bare = film_card(HOME_MOVIE)
    assert fields(bare) == {"Runtime": "running time unknown"} and bare.url is None


def a_poll(film_ids: list[int]) -> Poll:
    moment = datetime(2026, 12, 4, 20, tzinfo=UTC)
    return Poll(
        id=3,
        guild_id=1,
        channel_id=2,
        message_id=None,
        creator_id=4,
        title="Friday",
        method=Method.PLURALITY,
        style=Style.BUTTONS,
        show_counts=False,
        voter_role_id=None,
        status=Status.OPEN,
        created_at=moment,
        closes_at=moment,
        closed_at=None,
        closed_by=None,
        winner_film_id=None,
        result=None,
        result_message_id=None,
        screening=None,
        candidates=tuple(Candidate(n, film_id, "") for n, film_id in enumerate(film_ids, start=1)),
    )


def test_a_polls_films_carry_their_links_and_attribution() -> None:
    films = {1: ALIEN, 2: HOME_MOVIE}
    embed = poll_embed(a_poll([1, 2]), films, None, {1: DETAILS})
    lines = (embed.description or "").splitlines()
    assert lines[-2] == "` 1` " + film_entry(ALIEN, DETAILS, extra="117 min")
    assert lines[-1] == "` 2` **Home \\[Movie\\] \\*1\\* (2001)** · running time unknown"
    assert TMDB_ATTRIBUTION in (embed.footer.text or "") and (embed.footer.text or "").startswith("Poll #3")
    assert TMDB_ATTRIBUTION not in (poll_embed(a_poll([1, 2]), films, None).footer.text or "")


def test_twenty_five_long_titles_fit_the_poll_message_with_shorter_links() -> None:
    def films(title: str) -> dict[int, Film]:
        return {
            n: replace(ALIEN, id=n, title=f"{title} {n}", imdb_id=f"tt{n:07d}", tmdb_id=10**6 + n) for n in range(1, 26)
        }

    long = films("A long title " * 4)
    description = poll_embed(a_poll(list(long)), long, None).description or ""
    assert len(description) <= 4096 and not description.endswith("…")
    assert all(f"{n} (1979)](https://letterboxd.com/tmdb/{10**6 + n}/)" in description for n in long)  # each linked
    assert "[IMDb]" not in description  # the other links made way
    longest = films("A title as long as a member may enter " * 5)
    description = poll_embed(a_poll(list(longest)), longest, None).description or ""
    assert len(description) <= 4096 and "](" not in description  # plain names, but every film is there
    assert all(f"` {n:>1}` **{longest[n].label}** · 117 min" in description for n in range(1, 10))


def test_the_wait_for_details_is_what_is_left_of_discords_three_seconds() -> None:
    created = datetime(2026, 12, 4, 20, tzinfo=UTC)
    assert answer_budget(created, created) == 2.0  # never more than 2 s, however early
    assert answer_budget(created, created + timedelta(seconds=1)) == pytest.approx(1.4)
    assert answer_budget(created, created + timedelta(seconds=5)) == 0.2  # late already: one quick try
    assert answer_budget(created, created - timedelta(seconds=3)) == 2.0  # a clock ahead of Discord's
