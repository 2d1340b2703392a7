"""/season through the loopback Discord: a moderator programmes a season and everyone sees its page; members cannot
create or end one; bad input (a season longer than a year, a start in the past, notes too long, an unknown theme)
is answered ephemerally and writes nothing.

One bot serves the module; the tests run in order and the last ends the season the earlier ones made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

THEME = "live-on-stage"


class Club(ModuleBot):
    def counts(self) -> tuple[int, int]:
        """(seasons, season films): what a refused command must leave unchanged."""
        return (
            int(self.query("SELECT count(*) FROM seasons")[0][0]),
            int(self.query("SELECT count(*) FROM season_films")[0][0]),
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("seasons need the real bot")
    async with module_bot(tmp_path_factory.mktemp("seasons-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def test_no_season_yet(club: Club) -> None:
    reply = await run(club, "season show", club.fake.world.alice)
    assert reply.ephemeral and "No season is running or programmed" in reply.text
    ended = await run(club, "season end", club.fake.world.moderator)
    assert ended.ephemeral and "nothing to end" in ended.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weeks": 60}, "longer than a year"),
        ({"weeks": 0}, "1 to 52 weeks"),
        ({"start": "2020-01-01 20:00"}, "in the past"),
        ({"start": "in 400 days"}, "too far ahead"),
        ({"start": "whenever"}, "couldn't read"),
        ({"notes": "x" * 501}, "programme notes"),
        ({"theme": "no such theme at all"}, "theme"),
    ],
)
async def test_bad_input_is_refused_ephemerally_and_nothing_is_written(
    club: Club, options: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"theme": THEME, "weeks": 4, "start": "3d"}
    values.update(options)
    reply = await run(club, "season create", club.fake.world.moderator, **values)
    assert reply.ephemeral and message in reply.text, reply.text
    assert club.counts() == (0, 0)


async def test_members_cannot_create_or_end(club: Club) -> None:
    reply = await run(club, "season create", club.fake.world.alice, theme=THEME, weeks=4, start="3d")
    assert reply.ephemeral and "Only moderators can do that" in reply.text
    assert club.counts() == (0, 0)


async def test_a_moderator_programmes_a_season_and_members_see_it(club: Club) -> None:
    world = club.fake.world
    made = await run(
        club, "season create", world.moderator, theme=THEME, weeks=4, start="3d", notes="Loud ones first @everyone"
    )
    assert not made.ephemeral, made.text
    assert made.embed["title"] == "Season · Live on Stage"
    assert "Starts soon · 4 weeks" in made.text and "Running order: a fixed film each week." in made.text
    assert made.message is not None and made.message.would_ping() == ([], [], False)
    assert club.counts() == (1, 4)
    first = int(club.query("SELECT film_id FROM season_films WHERE week = 1")[0][0])
    title = str(club.query("SELECT title FROM films WHERE id = ?", (first,))[0][0])

    shown = await run(club, "season show", world.bob)
    assert not shown.ephemeral
    assert "Week 1 ·" in shown.text and "Week 4 ·" in shown.text and title in shown.text
    assert "Loud ones first" in shown.text

    again = await run(club, "season create", world.moderator, theme=THEME, weeks=2, start="2w", mode="poll")
    assert again.ephemeral and "already has a season" in again.text
    assert club.counts() == (1, 4)

    refused = await run(club, "season end", world.carol)
    assert refused.ephemeral and "Only moderators can do that" in refused.text
    ended = await run(club, "season end", world.moderator)
    assert ended.ephemeral and "Ended the season **Live on Stage**" in ended.text
    after = await run(club, "season show", world.alice)
    assert after.ephemeral and "No season is running" in after.text

    poll = await run(club, "season create", world.moderator, theme=THEME, weeks=52, start="1w", mode="poll")
    assert not poll.ephemeral and "a poll each week among the theme's films" in poll.text
    assert club.counts() == (2, 4)
