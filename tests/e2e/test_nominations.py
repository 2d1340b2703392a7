"""/nominate, /nominations and /config nominations through the loopback Discord, without a film-details provider:
curated films first (did you mean), a new film entered in the form, approval, a poll from the nominations whose
winner gets its screening and is reviewed, and bad input answered ephemerally with nothing half-written.

One bot serves the module; each test uses its own films and members' limits, and sets the settings it relies on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from .fake_discord import FakeMember, StoredMessage
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Club(ModuleBot):
    """The shared bot of this module."""

    def counts(self) -> tuple[int, int]:
        """(films, nominations): what a refused nomination must leave unchanged."""
        films = self.query("SELECT count(*) FROM films")[0][0]
        nominations = self.query("SELECT count(*) FROM nominations")[0][0]
        return int(films), int(nominations)

    def nomination(self, title: str) -> tuple[int, str, int]:
        """(id, status, member) of the nomination of the film called ``title``."""
        rows = self.query(
            "SELECT n.id, n.status, n.member_id FROM nominations n JOIN films f ON f.id = n.film_id WHERE f.title = ?",
            (title,),
        )
        assert len(rows) == 1, rows
        return int(rows[0][0]), str(rows[0][1]), int(rows[0][2])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("nominations need the real bot")
    async with module_bot(tmp_path_factory.mktemp("nominations-e2e")) as (fake, bot):
        yield Club(fake, DiscordDriver(fake), bot)


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def configure(ctx: Club, **options: Any) -> None:
    reply = await run(ctx, "config nominations", ctx.fake.world.moderator, **options)
    assert reply.ephemeral and ("Saved" in reply.text or "Nothing changed" in reply.text), reply.text


async def test_bad_input_is_refused_briefly_and_nothing_is_written(club: Club) -> None:
    world = club.fake.world
    await configure(club, approval=False, limit=3, everyone=True)
    before = club.counts()
    for options, expected in [
        ({"title": "   "}, "The title is empty"),
        ({"title": "x" * 300}, "That title is 300 characters long; a title has at most 200."),
        ({"title": "Some Film", "year": 1500}, "The year must be between 1874 and"),
        ({"title": "Some Film", "year": 3000}, "The year must be between 1874 and"),
    ]:
        reply = await run(club, "nominate", world.carol, **options)
        assert reply.ephemeral and expected in reply.text, (options, reply.text)
    # The form: a year that is not a number, or out of range, or an empty title (typed over the default).
    form = await run(club, "nominate", world.carol, title="A Film Nobody Knows")
    assert form.response_type == 9 and form.modal["title"] == "Nominate a film"
    for fields, expected in [
        ({"nominate:year": "19x9"}, "The year must be a number"),
        ({"nominate:year": "1700"}, "The year must be between 1874 and"),
        ({"nominate:year": "2001", "nominate:title": "  "}, "The title is empty"),
    ]:
        refused = await form.submit_modal(fields, member=world.carol)
        assert refused.ephemeral and expected in refused.text, (fields, refused.text)
    assert club.counts() == before


async def test_a_curated_film_is_nominated_as_itself_with_did_you_mean_for_typos(club: Club) -> None:
    world = club.fake.world
    await configure(club, approval=False, limit=3, everyone=True)
    made = await run(club, "nominate", world.alice, title="the-last-waltz")  # what autocomplete sends
    assert made.ephemeral and made.embed["title"] == "Nominated: The Last Waltz (1978)"
    assert "It can go on the next poll" in made.text
    again = await run(club, "nominate", world.bob, title="The Last Waltz", year=1978)
    assert again.ephemeral and "**The Last Waltz (1978)** is already nominated" in again.text
    assert f"by <@{world.alice.id}>" in again.text and again.message is not None
    assert again.message.would_ping() == ([], [], False)

    typo = await run(club, "nominate", world.bob, title="stop makng sense")
    assert typo.ephemeral and "Did you mean" in typo.text
    assert "Nominate Stop Making Sense (1984)" in typo.button_labels()
    assert "No, another film" in typo.button_labels()
    chosen = await typo.click("Nominate Stop Making Sense (1984)", member=world.bob)
    assert "Nominated: Stop Making Sense (1984)" in chosen.text
    assert club.nomination("Stop Making Sense")[1:] == ("approved", world.bob.id)

    listed = await run(club, "nominations list", world.carol)
    assert not listed.ephemeral
    lines = listed.embed["description"].splitlines()
    assert "Stop Making Sense (1984)" in lines[0] and f"by <@{world.bob.id}>" in lines[0] and "approved" in lines[0]
    assert "The Last Waltz (1978)" in lines[1] and f"by <@{world.alice.id}>" in lines[1]
    assert listed.message is not None and listed.message.would_ping() == ([], [], False)


async def test_a_new_film_approved_polled_screened_and_reviewed(club: Club) -> None:
    world = club.fake.world
    await configure(club, approval=True, limit=3, everyone=True)
    form = await run(club, "nominate", world.carol, title="Our Town's Home Movie", year=2001)
    assert form.response_type == 9
    made = await form.submit_modal({"nominate:director": "Ann Example"}, member=world.carol)
    assert made.ephemeral and "Nominated: Our Town's Home Movie (2001)" in made.text
    assert "one of this server's films" in made.text and "waits for a moderator's approval" in made.text
    number, status, member = club.nomination("Our Town's Home Movie")
    assert (status, member) == ("pending", world.carol.id)
    slug, guild = club.query("SELECT slug, guild_id FROM films WHERE title = ?", ("Our Town's Home Movie",))[0]
    assert str(slug).startswith("~") and int(guild) == club.fake.guild.id

    # The same film entered again is caught: no second film.
    twice = await run(club, "nominate", world.bob, title="our towns home movie", year=2001)
    assert twice.ephemeral and "is already nominated" in twice.text

    refused = await run(club, "nominations approve", world.alice, nomination=number)
    assert refused.ephemeral and "Only moderators can do that" in refused.text
    approved = await run(club, "nominations approve", world.moderator, nomination=number)
    assert approved.ephemeral and f"Nomination #{number} approved" in approved.text
    pending = await run(club, "nominations list", world.carol, show="approved")
    assert "Our Town's Home Movie (2001)" in pending.text and "this server's film" in pending.text

    # Two approved nominations at least: this one and an earlier test's (approval was off then).
    poll = await run(
        club,
        "poll create",
        world.moderator,
        title="From the nominations",
        deadline="1d",
        source="nominations",
        screening="2d",
        screening_location="The Roxy",
    )
    message_id = int(poll.text.split("/")[-1].split()[0].strip(")"))
    message: StoredMessage = club.fake.messages[message_id]
    label = next(
        c["label"] for c in message.walk_components() if c.get("type") == 2 and "Our Town" in c.get("label", "")
    )
    await club.discord.click(message, label, member=world.alice)
    poll_id = int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])
    events = len(club.fake.scheduled_events)
    ended = await run(club, "poll end", world.moderator, poll=poll_id)
    assert "is closed" in ended.text
    await club.discord.wait_until(lambda: len(club.fake.scheduled_events) > events, timeout=10, what="the event")
    event = club.fake.scheduled_events[max(club.fake.scheduled_events)]
    assert event["name"] == "Our Town's Home Movie (2001)"
    assert club.nomination("Our Town's Home Movie")[1] == "chosen"

    form = await run(club, "review add", world.bob, film=str(slug), rating=4)
    saved = await form.submit_modal({"review:rating": "8", "review:spoiler": "no"}, member=world.bob)
    assert "Our Town's Home Movie (2001)" in saved.text


async def test_banned_films_and_the_limit(club: Club) -> None:
    world = club.fake.world
    await configure(club, approval=False, limit=1, everyone=True)
    made = await run(club, "nominate", world.owner, title="Gimme Shelter")
    assert "Nominated: Gimme Shelter (1970)" in made.text
    number = club.nomination("Gimme Shelter")[0]
    before = club.counts()
    over = await run(club, "nominate", world.owner, title="Monterey Pop")
    assert over.ephemeral and "You already have 1 open nomination, the most this server allows" in over.text
    no_form = await run(club, "nominate", world.owner, title="Another Home Movie", year=1999)
    assert no_form.ephemeral and "You already have 1 open nomination" in no_form.text  # asked before the form
    assert club.counts() == before  # the film the form described was not added either

    banned = await run(club, "nominations ban", world.moderator, nomination=number)
    assert f"Nomination #{number} banned" in banned.text
    again = await run(club, "nominate", world.carol, title="Gimme Shelter")
    assert again.ephemeral and "**Gimme Shelter (1970)** is banned from nominations in this server." in again.text
    gone = await run(club, "nominations withdraw", world.carol, nomination=number)
    assert gone.ephemeral and "Only the member who nominated a film" in gone.text

    await configure(club, role=world.moderator_role)
    not_allowed = await run(club, "nominate", world.alice, title="Monterey Pop")
    assert not_allowed.ephemeral and "Only members with the" in not_allowed.text
    assert club.counts() == before
    await configure(club, everyone=True, limit=3)


async def test_the_list_pages_and_its_buttons_read_the_current_page(club: Club) -> None:
    world = club.fake.world
    await configure(club, approval=False, limit=25, everyone=True)
    taken = {row[0] for row in club.query("SELECT film_id FROM nominations")}
    slugs = [
        str(slug)
        for film_id, slug in club.query("SELECT id, slug FROM films WHERE guild_id IS NULL AND retired = 0 ORDER BY id")
        if film_id not in taken
    ][:12]
    for slug in slugs:
        made = await run(club, "nominate", world.moderator, title=slug)
        assert "Nominated:" in made.text, made.text
    listed = await run(club, "nominations list", world.alice, show="open")
    assert listed.embed["footer"]["text"].startswith("Page 1 of 2")
    assert len(listed.embed["description"].splitlines()) == 10
    assert listed.button_labels() == ["◀ Previous", "Next ▶"]
    second = await listed.click("Next ▶", member=world.bob)
    assert second.response_type == 7 and second.message is not None
    assert second.message.embeds[0]["footer"]["text"].startswith("Page 2 of 2")
    choices = await club.discord.autocomplete("/nominations withdraw", "nomination", "", member=world.moderator)
    total = club.query("SELECT count(*) FROM nominations")[0][0]
    assert len(choices) == min(25, total) and choices[0]["name"].startswith(f"#{total} ")  # newest first
    await configure(club, limit=3)


@pytest.mark.asyncio(loop_scope="function")
async def test_the_form_works_after_a_restart(discord: DiscordDriver, bot: Any, alice: FakeMember) -> None:
    """A bot of its own: a form opened before a restart still nominates (it is answered from its custom id)."""
    form = await discord.command("/nominate", member=alice, options={"title": "Before The Restart", "year": 2020})
    assert form.response_type == 9
    await bot.restart()
    made = await form.submit_modal({}, member=alice)
    assert "Nominated: Before The Restart (2020)" in made.text
