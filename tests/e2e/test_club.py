"""/club stats through the loopback Discord: an empty club, then a club whose members imported and wrote reviews."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember, Upload
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Club(ModuleBot):
    """The shared bot of this module."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("club statistics need the real bot")
    async with module_bot(tmp_path_factory.mktemp("club-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


def ratings_csv(*rows: tuple[str, int, float]) -> Upload:
    lines = ["Date,Name,Year,Letterboxd URI,Rating"] + [f"2025-02-01,{t},{y},u,{s:g}" for t, y, s in rows]
    return Upload("ratings.csv", ("\n".join(lines) + "\n").encode())


async def test_an_empty_club(club: Club) -> None:
    stats = await run(club, "club stats", club.fake.world.alice)
    assert not stats.ephemeral
    assert stats.embed["title"] == "Film Club in numbers"
    assert stats.embed["description"].startswith("No reviews yet")
    fields = {field["name"]: field["value"] for field in stats.embed["fields"]}
    assert fields == {"Themes watched": "No screenings recorded yet."}
    assert not stats.files


async def test_top_rated_most_reviewed_most_active_and_themes_with_a_chart(club: Club) -> None:
    world = club.fake.world
    waltz, sense, shelter = ("The Last Waltz", 1978), ("Stop Making Sense", 1984), ("Gimme Shelter", 1970)
    given = {
        world.alice: [(*waltz, 5), (*sense, 3), (*shelter, 4)],
        world.bob: [(*waltz, 4), (*sense, 3.5)],
        world.carol: [(*waltz, 5), (*sense, 2.5)],
        world.owner: [(*waltz, 5)],
        world.moderator: [(*waltz, 4)],
    }
    for member, rows in given.items():
        reply = await run(club, "letterboxd import", member, file=ratings_csv(*rows))
        assert "matched the catalog" in reply.text
    form = await run(club, "review add", world.bob, film="rocketman", rating=5)  # a single 5★ review
    await form.submit_modal({"review:rating": "10", "review:spoiler": "no"}, member=world.bob)
    for slug in ("the-last-waltz", "stop-making-sense"):
        await run(club, "watched add", world.moderator, film=slug, club=True)

    stats = await run(club, "club stats", world.carol)
    assert stats.embed["description"] == (
        "10 reviews by 5 members of 4 films · club average 4.1★\n2 films screened together."
    )
    fields = {field["name"]: field["value"] for field in stats.embed["fields"]}
    top = fields["Top rated"].splitlines()
    assert top[0] == "1. **The Last Waltz (1978)** · 4.6★ average from 5 reviews"
    assert top[1] == "2. **Rocketman (2019)** · 5.0★ average from 1 review"  # one 5★ review does not top the chart
    reviewed = fields["Most reviewed"].splitlines()
    assert reviewed[0] == "1. **The Last Waltz (1978)** · 4.6★ average from 5 reviews"
    assert reviewed[1] == "2. **Stop Making Sense (1984)** · 3.0★ average from 3 reviews"
    active = fields["Most active members"].splitlines()
    assert active[0] == f"1. <@{world.alice.id}> · 3 reviews · 4.0★"
    assert active[1] == f"2. <@{world.bob.id}> · 3 reviews · 4.2★"
    assert "film" in fields["Themes watched"] and "No screenings" not in fields["Themes watched"]
    assert stats.files["top-rated.png"].startswith(b"\x89PNG")
    assert stats.embed["image"]["url"].endswith("top-rated.png")
    assert stats.embed["footer"]["text"] == (
        "Top rated: ★ is the average of members' reviews. Ranked as if every film also had 3 reviews of 3★, so a "
        "film needs several good reviews to rank high: one review, even 5★, never outranks a film whose three or "
        "more reviews average 4★ or more."
    )
    assert "score" not in stats.text
    assert stats.message is not None and stats.message.would_ping() == ([], [], False)


async def test_one_good_review_does_not_top_three_good_ones(club: Club) -> None:
    """The footer is true in the case that broke it: in this generous club (a 4.1★ average), one 4.5★ review used
    to rank above three reviews averaging 4.2★."""
    world = club.fake.world
    stardom, dont_look_back = ("20 Feet from Stardom", 2013), ("Dont Look Back", 1967)
    for member, stars in ((world.alice, 4), (world.bob, 4), (world.carol, 4.5)):
        await run(club, "letterboxd import", member, file=ratings_csv((*stardom, stars)))
    await run(club, "letterboxd import", world.owner, file=ratings_csv((*dont_look_back, 4.5)))

    stats = await run(club, "club stats", world.alice)
    top = next(field["value"] for field in stats.embed["fields"] if field["name"] == "Top rated").splitlines()
    assert top[:4] == [
        "1. **The Last Waltz (1978)** · 4.6★ average from 5 reviews",
        "2. **20 Feet from Stardom (2013)** · 4.2★ average from 3 reviews",
        "3. **Rocketman (2019)** · 5.0★ average from 1 review",
        "4. **Dont Look Back (1967)** · 4.5★ average from 1 review",
    ]
    assert "one review, even 5★, never outranks" in stats.embed["footer"]["text"]
