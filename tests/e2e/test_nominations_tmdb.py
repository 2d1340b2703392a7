"""/nominate with film details from the loopback TMDb: the provider's answers to choose from, the chosen film added
to the server's films with its details; and when TMDb is down or answers nonsense, a clear answer in time and the
form instead, with nothing half-written."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.tmdb_double import TmdbDouble

from .fake_discord import FakeMember
from .harness import BotProcess, DiscordDriver, Reply

pytestmark = pytest.mark.e2e


def query(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{bot.db_path}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def counts(bot: BotProcess) -> tuple[int, int]:
    return (
        int(query(bot, "SELECT count(*) FROM films")[0][0]),
        int(query(bot, "SELECT count(*) FROM nominations")[0][0]),
    )


async def nominate(discord: DiscordDriver, member: FakeMember, **options: Any) -> Reply:
    """/nominate, past any "did you mean" to the provider's answers (what the member sees once the bot answered)."""
    reply = await discord.command("/nominate", member=member, options=options)
    if "No, another film" in reply.button_labels():
        reply = await reply.click("No, another film", member=member)
    return reply


async def test_the_chosen_answer_becomes_a_server_film_with_its_details(
    tmdb_discord: DiscordDriver, tmdb_bot: BotProcess, tmdb_double: TmdbDouble, alice: FakeMember
) -> None:
    choices = await nominate(tmdb_discord, alice, title="The Thing")
    assert choices.ephemeral and "Which film do you mean?" in choices.text
    options = next(c for c in choices.message.walk_components() if c.get("type") == 3)["options"]  # type: ignore[union-attr]
    assert [option["label"] for option in options][:2] == ["The Thing (1982)", "The Thing (2011)"]
    assert "Not listed: enter it myself" in choices.button_labels()
    made = await choices.select("Choose the film", ["The Thing (1982)"], member=alice)
    assert "Nominated: The Thing (1982)" in made.text
    assert "one of this server's films" in made.text
    assert "https://www.themoviedb.org/movie/1091" in made.text and "https://www.imdb.com/title/tt0084787/" in made.text
    assert "https://letterboxd.com/tmdb/1091/" in made.text
    card = made.messages[-1].embeds[0]
    assert card["thumbnail"]["url"].endswith("/tzGY49kseSE9QAKk47uuDGwnSCu.jpg")  # the poster
    assert "This product uses the TMDB API" in card["footer"]["text"] and "John Carpenter" in made.text
    row = query(
        tmdb_bot, "SELECT slug, tmdb_id, imdb_id, runtime, directors, guild_id FROM films WHERE title = 'The Thing'"
    )
    assert len(row) == 1
    slug, tmdb_id, imdb_id, runtime, directors, guild = row[0]
    assert str(slug).startswith("~") and (tmdb_id, imdb_id, runtime) == (1091, "tt0084787", 109)
    assert "John Carpenter" in directors and guild is not None

    # Found again by TMDb's answer: the same film, already nominated; nothing added.
    before = counts(tmdb_bot)
    again = await nominate(tmdb_discord, alice, title="The Thing", year=1982)
    assert "is already nominated" in again.text and "by you" in again.text
    assert counts(tmdb_bot) == before


async def test_an_answer_without_a_year_is_entered_in_the_form(
    tmdb_discord: DiscordDriver, tmdb_bot: BotProcess, carol: FakeMember
) -> None:
    choices = await nominate(tmdb_discord, carol, title="Untitled Home Movie")
    chosen = await choices.select("Choose the film", ["Untitled Home Movie"], member=carol)
    assert "TMDB doesn't say when 'Untitled Home Movie' came out" in chosen.text
    assert not query(tmdb_bot, "SELECT id FROM films WHERE title = 'Untitled Home Movie'")
    form = await chosen.click("Enter it myself", member=carol)
    made = await form.submit_modal({"nominate:year": "2019"}, member=carol)
    assert "Nominated: Untitled Home Movie (2019)" in made.text


@pytest.mark.parametrize("fault", ["down", "nonsense"])
async def test_when_tmdb_fails_the_member_enters_the_film(
    fault: str, tmdb_discord: DiscordDriver, tmdb_bot: BotProcess, tmdb_double: TmdbDouble, bob: FakeMember
) -> None:
    if fault == "down":
        tmdb_double.fail("*", status=500, times=None)
    else:
        tmdb_double.nonsense("search", times=None)
    before = counts(tmdb_bot)
    reply = await nominate(tmdb_discord, bob, title="Paris, Texas", year=1984)
    assert reply.latency is not None and reply.latency < 3.0
    assert reply.ephemeral and "I couldn't look the film up with TMDB just now" in reply.text
    assert counts(tmdb_bot) == before
    form = await reply.click("Enter it myself", member=bob)
    assert form.response_type == 9
    made = await form.submit_modal({"nominate:director": "Wim Wenders"}, member=bob)
    assert "Nominated: Paris, Texas (1984)" in made.text
    rows = query(tmdb_bot, "SELECT tmdb_id, directors FROM films WHERE title = 'Paris, Texas'")
    assert rows == [(None, '["Wim Wenders"]')]
