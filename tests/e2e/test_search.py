"""Finding a theme or a film by what a member types, through the loopback Discord: theme autocomplete ranks whole
words above fragments and reads descriptions, and a mistyped film title that is clear enough is accepted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from .harness import DiscordDriver, ModuleBot, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Search(ModuleBot):
    """The shared bot of this module (the shipped catalog)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def search(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Search]:
    if default_bot_kind() != "real":
        pytest.skip("search needs the real bot")
    async with module_bot(tmp_path_factory.mktemp("search-e2e")) as (fake, bot):
        yield Search(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, search: Search) -> None:
    request.node._e2e_bots = [search.bot]


async def test_theme_autocomplete_ranks_a_word_above_a_fragment(search: Search) -> None:
    """ "road" is a word of "On the Road" but only a fragment of "Holiday Broadcasts ..."."""
    for command in ("/recommend", "/theme show"):
        choices = await search.discord.autocomplete(command, "theme", "road", member=search.fake.world.alice)
        names = [choice["name"] for choice in choices]
        assert names[0].startswith("On the Road (")
        assert names.index(next(n for n in names if n.startswith("Holiday Broadcasts"))) > 0


async def test_theme_autocomplete_finds_a_theme_by_its_description(search: Search) -> None:
    """The Unsung's description speaks of "backing singers, session players": its title shares no word with them."""
    choices = await search.discord.autocomplete("/recommend", "theme", "backup sing", member=search.fake.world.alice)
    assert choices[0]["value"] == "unsung-players"
    assert choices[0]["name"].startswith("The Unsung (")
    assert choices[0]["name"].endswith("films) · “Backing singers, session players, house bands…”")  # why it is here
    shown = await search.discord.command(
        "/theme show", member=search.fake.world.alice, options={"theme": choices[0]["value"]}
    )
    assert "20 Feet from Stardom" in shown.text


async def test_a_clearly_mistyped_film_title_is_accepted(search: Search) -> None:
    card = await search.discord.command("/film", member=search.fake.world.alice, options={"title": "last walts"})
    assert not card.ephemeral
    assert card.embed["title"] == "The Last Waltz (1978)"
