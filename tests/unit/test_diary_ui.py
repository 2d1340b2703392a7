"""The diary post as the diary channel shows it (bot.ui.diary): member text escaped, spoilers hidden (the member's
own bars cannot end them), only Letterboxd's links (or the configured proxy's), the stars and marks."""

from __future__ import annotations

from dataclasses import replace

from bot.core.letterboxd_follow import DiaryPost
from bot.ui.diary import diary_embed
from tests.server_films import film_record

POST = DiaryPost(
    guild_id=1,
    user_id=11,
    guid="letterboxd-review-1",
    username="alice_lb",
    link="https://letterboxd.com/alice_lb/film/the-last-waltz/",
    title="The Last Waltz",
    year=1978,
    film_id=None,
    rating=9,
    excerpt="Best *night* @everyone ||ends|| here",
    spoiler=False,
    rewatch=True,
    liked=True,
    watched="2026-02-27",
    poster_url=None,
)


def test_a_post_shows_the_film_stars_marks_the_review_and_the_link() -> None:
    embed = diary_embed(POST, "Alice", poster_url="https://image.tmdb.org/t/p/w500/x.jpg")
    assert embed.title == "Alice logged a film"
    assert embed.description == (
        "**The Last Waltz (1978)**\n"
        "★★★★½ · ♥ liked · rewatch\n"
        "> Best \\*night\\* @\u200beveryone \\|\\|ends\\|\\| here\n"
        "[Read it on Letterboxd](https://letterboxd.com/alice_lb/film/the-last-waltz/)"
    )
    assert embed.thumbnail.url == "https://image.tmdb.org/t/p/w500/x.jpg"
    assert embed.footer.text == "Letterboxd diary · watched 27 Feb 2026"


def test_a_spoiler_is_hidden_and_its_own_bars_cannot_end_it() -> None:
    embed = diary_embed(replace(POST, spoiler=True), "Alice")
    assert embed.description is not None
    assert "*This review may contain spoilers.*\n||Best \\*night\\* @\u200beveryone \\|\\|ends\\|\\| here||" in (
        embed.description
    )


def test_a_known_film_is_the_clubs_linked_label() -> None:
    film = film_record(title="The Last Waltz", year=1978, letterboxd_uri="https://letterboxd.com/film/the-last-waltz/")
    embed = diary_embed(replace(POST, film_id=film.id), "Alice", film=film)
    assert embed.description is not None
    assert embed.description.startswith("**[The Last Waltz (1978)](https://letterboxd.com/film/the-last-waltz/)**")


def test_only_letterboxd_links_or_the_configured_proxys() -> None:
    elsewhere = replace(POST, link="https://evil.example/phish")
    proxied = replace(POST, link="http://127.0.0.1:8080/alice_lb/film/x/")
    broken = replace(POST, link="http://127.0.0.1:8080/alice_lb/film/x)[y](https://evil.example/")
    assert "Read it" not in (diary_embed(elsewhere, "A").description or "")
    assert "Read it" not in (diary_embed(proxied, "A").description or "")
    assert "(http://127.0.0.1:8080/alice_lb/film/x/)" in (
        diary_embed(proxied, "A", feed_origin="http://127.0.0.1:8080").description or ""
    )
    assert "Read it" not in (diary_embed(broken, "A", feed_origin="http://127.0.0.1:8080").description or "")


def test_a_film_unmatched_and_unrated_is_named_as_the_feed_writes_it() -> None:
    embed = diary_embed(
        replace(
            POST,
            title="[Click](https://x.y) <@123456789012345678>",
            year=None,
            rating=None,
            liked=False,
            rewatch=False,
            excerpt="",
        ),
        "Alice",
    )
    assert embed.description is not None
    first = embed.description.splitlines()[0]
    assert first == "**\\[Click\\](https://x.y) <@\u200b123456789012345678>**"
    assert "★" not in embed.description
