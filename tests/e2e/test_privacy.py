"""/privacy show, export and delete through the loopback Discord, in the server and from a direct message: what the
member sees, the file only they get, the confirmation, and what deleting leaves (other members' data, closed polls'
results) and takes away (the review's public post, the ballot in an open poll, whose posted counts are redrawn).

One bot process serves the module; the tests build on each other in order."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember, StoredMessage
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, eventually, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATING, BODY, SPOILER = "review:rating", "review:body", "review:spoiler"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ModuleBot]:
    if default_bot_kind() != "real":
        pytest.skip("privacy needs the real bot")
    async with module_bot(tmp_path_factory.mktemp("privacy-e2e")) as (fake, bot):
        yield ModuleBot(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: ModuleBot) -> None:
    request.node._e2e_bots = [club.bot]


async def run(club: ModuleBot, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await club.discord.command(f"/{path}", member=who, options=options)


async def review(club: ModuleBot, member: FakeMember, film: str, stars: float, text: str) -> Reply:
    form = await run(club, "review add", member, film=film, rating=stars)
    assert form.response_type == 9, form.text
    return await form.submit_modal({RATING: str(int(stars * 2)), BODY: text, SPOILER: "no"}, member=member)


async def poll(club: ModuleBot, title: str) -> StoredMessage:
    world = club.fake.world
    reply = await run(
        club, "poll create", world.moderator, title=title, deadline="2d", film1="the-last-waltz", film2="dont-look-back"
    )
    message = club.fake.messages[int(reply.text.split("/")[-1].split()[0].strip(")"))]
    for member in (world.alice, world.bob):
        voted = await club.discord.click(message, "1. The Last Waltz (1978)", member=member)
        await voted.wait_followups(1)
    return message


def poll_id_of(message: StoredMessage) -> int:
    return int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])


def counts(club: ModuleBot, user_id: int) -> dict[str, int]:
    tables = ("reviews", "review_posts", "watchlist", "ballots")
    return {t: int(club.query(f"SELECT count(*) FROM {t} WHERE user_id = ?", (user_id,))[0][0]) for t in tables}


async def test_show_export_and_delete_in_the_server(club: ModuleBot) -> None:
    world = club.fake.world
    alice, bob = world.alice, world.bob
    posted = await review(club, alice, "the-last-waltz", 4.5, "Alice's take @everyone")
    assert posted.message is not None
    posted_id = posted.message.id
    await review(club, bob, "the-last-waltz", 2, "Bob's take")
    assert "watchlist" in (await run(club, "watchlist add", alice, film="dont-look-back")).text.lower()
    closed = await poll(club, "Last week")
    closed_id = poll_id_of(closed)
    await run(club, "poll end", world.moderator, poll=closed_id)
    await eventually(
        lambda: club.query("SELECT status FROM polls WHERE id = ?", (closed_id,)) == [("closed",)],
        what="the poll to close",
    )
    result_before = club.query("SELECT result FROM polls WHERE id = ?", (closed_id,))
    still_open = await poll(club, "Next week")
    open_id = poll_id_of(still_open)
    await club.discord.wait_until(
        lambda: "2 votes" in club.fake.messages[still_open.id].text, timeout=10, what="the open poll's counts"
    )
    bob_before = counts(club, bob.id)

    shown = await run(club, "privacy show", alice)
    assert shown.ephemeral
    assert "1 ratings and reviews (1 with text)" in shown.text
    assert "2 poll ballots" in shown.text and "1 films on your watchlist" in shown.text
    assert "club web page is not public" in shown.text

    exported = await run(club, "privacy export", alice)
    assert exported.ephemeral
    ((name, data),) = exported.files.items()
    assert name.startswith(f"filmclub-data-{alice.id}-") and name.endswith(".json")
    document = json.loads(data)
    (server,) = document["servers"]
    assert [r["body"] for r in server["data"]["reviews"]] == ["Alice's take @everyone"]
    assert "Bob's take" not in data.decode()

    asked = await run(club, "privacy delete", alice)
    assert asked.ephemeral and "cannot be undone" in asked.text
    assert asked.button_labels() == ["Delete my data", "Cancel"]
    kept = await club.discord.click(asked.message, "Cancel", member=alice)
    assert "Nothing was deleted" in kept.message.text
    assert counts(club, alice.id)["reviews"] == 1

    asked = await run(club, "privacy delete", alice)
    done = await club.discord.click(asked.message, "Delete my data", member=alice)
    await club.discord.wait_until(
        lambda: "Done:" in (done.message.text if done.message else ""), timeout=10, what="the deletion's answer"
    )
    text = done.message.text
    assert "1 ballots in closed polls kept without your name" in text
    assert "public post was deleted" in text
    assert club.fake.messages[posted_id].deleted  # the review's public post came down with it
    assert counts(club, alice.id) == {"reviews": 0, "review_posts": 0, "watchlist": 0, "ballots": 0}
    assert counts(club, bob.id) == bob_before
    assert club.query("SELECT result FROM polls WHERE id = ?", (closed_id,)) == result_before
    assert club.query("SELECT count(*) FROM ballots WHERE poll_id = ?", (closed_id,)) == [(2,)]
    assert club.query("SELECT count(*) FROM ballots WHERE poll_id = ?", (open_id,)) == [(1,)]
    await club.discord.wait_until(
        lambda: re.search(r"— 1 vote\b", club.fake.messages[still_open.id].text) is not None,
        timeout=10,
        what="the open poll's counts to drop to 1",
    )
    again = await run(club, "privacy show", alice)
    assert "keeps nothing about you here" in again.text


async def test_from_a_direct_message_every_server(club: ModuleBot) -> None:
    world = club.fake.world
    dm = club.fake.dm_channel(world.bob.user)
    shown = await club.discord.command("/privacy show", member=world.bob.user, channel=dm)
    assert "Film Club" in shown.text and "ratings and reviews" in shown.text
    asked = await club.discord.command("/privacy delete", member=world.bob.user, channel=dm)
    assert "in 1 server" in asked.text
    refused = await club.discord.click(asked.message, "Delete my data", member=world.carol.user)
    assert "for the member who asked" in refused.text
    done = await club.discord.click(asked.message, "Delete my data", member=world.bob.user)
    await club.discord.wait_until(
        lambda: "Done:" in (done.message.text if done.message else ""), timeout=10, what="the deletion's answer"
    )
    assert counts(club, world.bob.id) == {"reviews": 0, "review_posts": 0, "watchlist": 0, "ballots": 0}
    # The closed poll keeps both ballots, anonymously: its result stands.
    assert club.query("SELECT count(*) FROM ballots WHERE user_id < 0") == [(2,)]
    nothing = await club.discord.command("/privacy show", member=world.carol.user, channel=dm)
    assert "nothing about you in any server" in nothing.text


async def test_a_member_who_deletes_their_data_leaves_tonight_groups_whose_buttons_keep_working(
    club: ModuleBot,
) -> None:
    world = club.fake.world
    carol, olivia = world.carol, world.owner
    together = await club.discord.command("/tonight", member=carol, options={"member1": olivia, "count": 2})
    assert together.embed["title"] == "Tonight for Carol and Olivia"
    await club.fake.set_voice(olivia, world.voice)
    alone = await club.discord.command("/tonight", member=carol, options={"channel": world.voice, "count": 2})
    assert alone.embed["title"] == "Tonight for Olivia"
    await club.fake.set_voice(olivia, None)

    asked = await run(club, "privacy delete", olivia)
    done = await club.discord.click(asked.message, "Delete my data", member=olivia)
    await club.discord.wait_until(
        lambda: "Done:" in (done.message.text if done.message else ""), timeout=10, what="the deletion's answer"
    )
    assert not [row for (row,) in club.query("SELECT members FROM tonight_groups") if str(olivia.id) in row]

    turned = await together.click("Next ▶", member=carol)  # Carol's group, without Olivia
    assert turned.response_type == 7 and turned.message is not None
    assert turned.message.embeds[0]["title"] == "Tonight for Carol"
    assert turned.message.embeds[0]["fields"][0]["name"].startswith("3. ")
    gone = await alone.click("Next ▶", member=carol)  # nobody else was in Olivia's group: it is forgotten
    assert gone.ephemeral and "no longer known" in gone.text
