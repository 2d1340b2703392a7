"""A server's own films through the loopback Discord, as members see them: suggested (marked as the server's), a
/film card that says it is the server's and that its running time is unknown, reviews, watchlists, /club stats and
/profile, a collection and /recommend through it, a poll and a screening; and a second server that never sees them.

One bot (the shipped catalog) serves the module, with Film Club and a second club. Server films are stored the way
every feature stores them (bot.core.server_films, through tests/server_films.py), straight into the
bot's database while it runs: the bot notices through the server's films' version, as it would a nomination.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.db.database import open_database
from tests.server_films import add_server_film

from .fake_discord import FakeDiscord, FakeMember
from .fake_discord.world import World
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

MARK = " · this server's film"


@dataclass
class Clubs(ModuleBot):
    other: World
    sessions: int  # Film Club's own film (no running time known)
    theirs: int  # the second club's own film


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clubs(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Clubs]:
    if default_bot_kind() != "real":
        pytest.skip("server films need the real bot")
    second: list[World] = []

    def add_second_club(fake: FakeDiscord) -> None:
        second.append(fake.add_guild("Second Club"))

    async with module_bot(tmp_path_factory.mktemp("server-films-e2e"), add_second_club) as (fake, bot):
        other = second[0]
        async with await open_database(bot.db_path) as db:
            sessions = await add_server_film(
                db, fake.world.guild.id, "Mývatn Sessions", 2018, directors=("Dean DeBlois",)
            )
            theirs = await add_server_film(db, other.guild.id, "Their Secret Film", 1999)
        yield Clubs(fake, DiscordDriver(fake), bot, other, sessions, theirs)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, clubs: Clubs) -> None:
    request.node._e2e_bots = [clubs.bot]


def slug_of(clubs: Clubs) -> str:
    """The value autocomplete sends for Film Club's own film."""
    return str(clubs.query("SELECT slug FROM films WHERE id = ?", (clubs.sessions,))[0][0])


async def run(clubs: Clubs, path: str, who: FakeMember, /, channel: Any = None, **options: Any) -> Reply:
    return await clubs.discord.command(f"/{path}", member=who, channel=channel, options=options)


async def test_a_server_film_is_suggested_marked_and_shown_as_the_servers(clubs: Clubs) -> None:
    alice = clubs.fake.world.alice
    choices = await clubs.discord.autocomplete("/film", "title", "myvatn", member=alice)
    assert choices[0]["name"] == f"Mývatn Sessions (2018){MARK}"
    card = await run(clubs, "film", alice, title=choices[0]["value"])
    assert not card.ephemeral
    embed = card.embed
    assert embed["title"] == "Mývatn Sessions (2018)"
    assert "One of this server's own films" in embed["description"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Runtime"] == "running time unknown"
    assert fields["Directed by"] == "Dean DeBlois"
    assert "Themes" not in fields and "For the discussion" not in fields  # no empty curated-only fields
    typed = await run(clubs, "film", alice, title="myvatn sessions")  # typed, not picked
    assert typed.embed["title"] == "Mývatn Sessions (2018)"


async def test_another_server_never_sees_it(clubs: Clubs) -> None:
    other = clubs.other
    choices = await clubs.discord.autocomplete("/film", "title", "myvatn", member=other.alice, channel=other.general)
    assert not any(choice["name"].endswith(MARK) for choice in choices)
    for sent in (slug_of(clubs), "Mývatn Sessions", str(clubs.sessions)):
        refused = await run(clubs, "film", other.alice, channel=other.general, title=sent)
        assert refused.ephemeral
        assert "in the catalog or this server's films" in refused.text
    # ... and its own film is its own: suggested there, never in Film Club.
    theirs = await clubs.discord.autocomplete(
        "/film", "title", "their secret", member=other.alice, channel=other.general
    )
    assert theirs[0]["name"] == f"Their Secret Film (1999){MARK}"
    here = await clubs.discord.autocomplete("/film", "title", "their secret", member=clubs.fake.world.alice)
    assert not any(choice["name"].startswith("Their Secret Film") for choice in here)


async def test_reviews_watchlists_stats_and_profiles_take_it(clubs: Clubs) -> None:
    world = clubs.fake.world
    form = await run(clubs, "review add", world.alice, film="myvatn sessions", rating=4.5)
    assert form.response_type == 9 and form.modal["title"] == "Review: Mývatn Sessions"
    done = await form.submit_modal({"review:rating": "9", "review:body": "Sigur Rós at home.", "review:spoiler": "no"})
    assert done.embed["title"] == "★★★★½ Mývatn Sessions (2018)"
    added = await run(clubs, "watchlist add", world.bob, film="myvatn sessions")
    assert added.ephemeral and "Mývatn Sessions (2018)" in added.text
    stats = await run(clubs, "club stats", world.bob)
    assert "Mývatn Sessions (2018)" in stats.text
    profile = await run(clubs, "profile", world.bob, member=world.alice)
    assert "Mývatn Sessions" in profile.text
    elsewhere = await run(clubs, "club stats", clubs.other.bob, channel=clubs.other.general)
    assert "Mývatn Sessions" not in elsewhere.text
    # /forme: Bob has it on his watchlist and Alice rated it; the second club is never offered it.
    forme = await run(clubs, "forme", world.bob, count=10)
    assert "Mývatn Sessions (2018)" in forme.text, forme.text
    theirs = await run(clubs, "forme", clubs.other.bob, channel=clubs.other.general, count=10)
    assert "Mývatn" not in theirs.text


async def test_a_collection_carries_it_to_recommend_and_a_poll(clubs: Clubs) -> None:
    world = clubs.fake.world
    maya = world.moderator
    made = await clubs.discord.invoke("collection create", as_member=maya, name="Iceland Nights")
    assert "Created the collection" in made.text
    for film in ("myvatn sessions", "the-last-waltz"):
        added = await clubs.discord.invoke("collection add", as_member=maya, collection="Iceland Nights", film=film)
        assert not added.ephemeral or "Added" in added.text, added.text
    picks = await run(clubs, "recommend", world.alice, theme="Iceland Nights", include_watched=True)
    assert "Mývatn Sessions (2018)" in picks.text
    assert "running time unknown" in picks.text
    other = clubs.other
    await clubs.discord.invoke("collection create", as_member=other.moderator, in_channel=other.general, name="Ours")
    refused = await clubs.discord.invoke(
        "collection add", as_member=other.moderator, in_channel=other.general, collection="Ours", film=slug_of(clubs)
    )
    assert refused.ephemeral and "this server's films" in refused.text
    reply = await clubs.discord.command(
        "/poll create",
        member=maya,
        options={"title": "Iceland or Band", "deadline": "2d", "film1": "myvatn sessions", "film2": "the-last-waltz"},
    )
    assert "is open in" in reply.text, reply.text
    message = clubs.fake.messages[int(reply.text.split("/")[-1].split()[0].strip(")"))]
    assert "Mývatn Sessions (2018)" in message.text
    for voter in (world.alice, world.bob):
        await clubs.discord.click(message, "1. Mývatn Sessions (2018)", member=voter)
    poll_id = int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])
    ended = await clubs.discord.command("/poll end", member=maya, options={"poll": poll_id})
    assert "is closed" in ended.text
    result = await clubs.discord.wait_for_message(
        world.general, lambda m: m.id > message.id and bool(m.attachments)
    )  # the results, with their chart
    assert "Mývatn Sessions (2018)" in result.text and "2 votes" in result.text, result.text


async def test_a_screening_of_it_lasts_a_default_length_when_its_running_time_is_unknown(clubs: Clubs) -> None:
    world = clubs.fake.world
    reply = await clubs.discord.command(
        "/screening schedule",
        member=world.moderator,
        options={"film": "myvatn sessions", "when": "2d", "channel": world.voice},
    )
    assert reply.ephemeral and "**Mývatn Sessions (2018)**" in reply.text, reply.text
    event = clubs.fake.scheduled_events[max(clubs.fake.scheduled_events)]
    assert event["name"] == "Mývatn Sessions (2018)"
    start = datetime.fromisoformat(event["scheduled_start_time"])
    end = datetime.fromisoformat(event["scheduled_end_time"])
    assert end - start == timedelta(hours=2, minutes=15)  # UNKNOWN_RUNTIME, then the discussion
    announcement = await clubs.discord.wait_for_message(world.general, lambda m: "Screening: Mývatn" in m.text)
    assert "running time unknown · Dean DeBlois" in announcement.text
