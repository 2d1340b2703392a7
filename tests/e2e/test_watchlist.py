"""/watchlist and /watched through the loopback Discord: adding, removing, pages, the member's "seen" toggle and the
moderators' correction of the club's screenings. One bot process serves the module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

FILMS = [
    "the-last-waltz",
    "dont-look-back",
    "monterey-pop",
    "gimme-shelter",
    "woodstock",
    "wattstax",
    "stop-making-sense",
    "rushmore",
    "mulholland-drive",
    "walk-the-line",
    "ray",
    "rocketman",
]


@dataclass
class Club(ModuleBot):
    """The shared bot of this module."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("watchlists need the real bot")
    async with module_bot(tmp_path_factory.mktemp("watchlist-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def test_adding_and_removing_films(club: Club) -> None:
    alice = club.fake.world.alice
    empty = await run(club, "watchlist show", alice)
    assert empty.embed["title"] == "Watchlist · Alice"
    assert "Nothing on it yet" in empty.embed["description"]

    added = await run(club, "watchlist add", alice, film="the-last-waltz")
    assert added.ephemeral
    assert added.text == "Added **The Last Waltz (1978)** to your watchlist (1 film)."
    again = await run(club, "watchlist add", alice, film="The Last Waltz")  # typed, not picked
    assert again.text == "**The Last Waltz (1978)** is already on your watchlist (1 film)."
    unknown = await run(club, "watchlist add", alice, film="Notorius")  # as close to two films: the member picks
    assert unknown.ephemeral and "Did you mean Notorious (1946), Notorious (2009)" in unknown.text

    removed = await run(club, "watchlist remove", alice, film="the-last-waltz")
    assert removed.text == "Took **The Last Waltz (1978)** off your watchlist."
    absent = await run(club, "watchlist remove", alice, film="the-last-waltz")
    assert absent.text == "**The Last Waltz (1978)** was not on your watchlist."
    assert club.query("SELECT count(*) FROM watchlist") == [(0,)]


async def test_a_long_watchlist_comes_in_pages_anyone_can_turn(club: Club) -> None:
    world = club.fake.world
    for slug in FILMS:
        await run(club, "watchlist add", world.bob, film=slug)
    shown = await run(club, "watchlist show", world.carol, member=world.bob)
    assert not shown.ephemeral
    assert shown.embed["title"] == "Watchlist · Bob"
    lines = shown.embed["description"].splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("1. **The Last Waltz (1978)** · added <t:")
    assert shown.embed["footer"]["text"] == "Page 1 of 2 · 12 films"
    second = await shown.click("Next ▶", member=world.alice)
    assert second.message is not None
    page = second.message.embeds[0]
    assert page["title"] == "Watchlist · Bob"
    assert page["description"].splitlines()[0].startswith("11. **Ray (2004)**")
    assert page["footer"]["text"] == "Page 2 of 2 · 12 films"


async def test_marking_a_film_seen_takes_it_off_the_watchlist_and_can_be_undone(club: Club) -> None:
    world = club.fake.world
    seen = await run(club, "watched add", world.bob, film="rushmore")
    assert seen.ephemeral
    assert seen.text == "Marked **Rushmore (1998)** as seen. Taken off your watchlist."
    twice = await run(club, "watched add", world.bob, film="rushmore")
    assert twice.text == "You had already marked **Rushmore (1998)**."
    assert club.query("SELECT source FROM member_watched WHERE user_id = ?", (world.bob.id,)) == [("manual",)]

    undone = await run(club, "watched remove", world.bob, film="rushmore")
    assert undone.text == "Unmarked **Rushmore (1998)**."
    never = await run(club, "watched remove", world.bob, film="rushmore")
    assert never.text == "**Rushmore (1998)** was not marked as seen."

    await run(club, "watched add", world.bob, film="ray")
    form = await run(club, "review add", world.bob, film="ray", rating=4)
    await form.submit_modal({"review:rating": "8", "review:spoiler": "no"}, member=world.bob)
    kept = await run(club, "watched remove", world.bob, film="ray")
    assert kept.text == "Unmarked **Ray (2004)**. Your review of it still counts as seen; `/review delete` removes it."


async def test_only_moderators_correct_the_clubs_screenings(club: Club) -> None:
    world = club.fake.world
    refused = await run(club, "watched add", world.alice, film="woodstock", club=True)
    assert refused.ephemeral
    assert "Only moderators can do that" in refused.text
    assert club.query("SELECT count(*) FROM club_watched") == [(0,)]

    marked = await run(club, "watched add", world.moderator, film="woodstock", club=True)
    assert marked.text == "Marked **Woodstock (1970)** as watched by the club."
    assert club.query("SELECT source FROM club_watched") == [("manual",)]
    already = await run(club, "watched add", world.moderator, film="woodstock", club=True)
    assert already.text == "The club has already watched **Woodstock (1970)**."
    assert club.query("SELECT count(*) FROM member_watched WHERE user_id = ?", (world.moderator.id,)) == [(0,)]

    refused_again = await run(club, "watched remove", world.bob, film="woodstock", club=True)
    assert "Only moderators can do that" in refused_again.text
    cancelled = await run(club, "watched remove", world.moderator, film="woodstock", club=True)
    assert cancelled.text == "Removed **Woodstock (1970)** from the club's screenings."
    gone = await run(club, "watched remove", world.moderator, film="woodstock", club=True)
    assert gone.text == "The club had not watched **Woodstock (1970)**."
