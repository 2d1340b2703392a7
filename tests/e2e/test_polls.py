"""Watch-party polls end to end: the real bot against the loopback Discord, as moderators and members see them.

One bot process is shared by the whole module (launching one costs seconds); each test makes its own polls. The
deadlines that matter are a few seconds ahead and run through the real persisted timers.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.ui.handoff import poll_from_films_id
from tests.catalog_builder import film, theme, to_toml, write_catalog

from .fake_discord import FakeChannel, FakeDiscord, FakeMember, FakeUser, Perm, StoredMessage
from .harness import BotProcess, DiscordDriver, Reply

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

LONG_TITLE = "An Extraordinarily Long Documentary Title About a Band That Never Stopped Touring"


def catalog(folder: Path) -> Path:
    films = [
        film("the-last-waltz", title="The Last Waltz", runtime=117, kind="concert film", year=1978),
        film("dont-look-back", title="Dont Look Back", year=1967, runtime=96),
        film("stop-making-sense", title="Stop Making Sense", year=1984, runtime=88, kind="concert film"),
        film("gimme-shelter", title="Gimme Shelter", year=1970, runtime=91),
        film("monterey-pop", title="Monterey Pop", year=1968, runtime=78, kind="concert film"),
        film("long-one", title=LONG_TITLE, year=2001, runtime=100),
        *(
            film(f"festival-{i:02d}", title=f"Festival Reel {i:02d}", year=1990 + i, themes=["festivals"])
            for i in range(22)
        ),
    ]
    return write_catalog(
        folder, {"catalog.toml": to_toml(themes=[theme("live-on-stage"), theme("festivals")], films=films)}
    )


@dataclass
class Club:
    fake: FakeDiscord
    bot: BotProcess
    discord: DiscordDriver

    @property
    def db_path(self) -> Path:
        return self.bot.db_path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5) as db:
            return list(db.execute(sql, params).fetchall())

    def film_id(self, slug: str) -> int:
        return int(self.query("SELECT id FROM films WHERE slug = ?", (slug,))[0][0])

    def set_polls_channel(self, channel: FakeChannel | None) -> None:
        with sqlite3.connect(self.db_path, timeout=5) as db:
            db.execute(
                "INSERT INTO guild_settings (guild_id, polls_channel_id) VALUES (?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET polls_channel_id = excluded.polls_channel_id",
                (self.fake.guild.id, channel.id if channel else None),
            )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    workdir = tmp_path_factory.mktemp("polls-e2e")
    async with FakeDiscord() as fake:
        bot = BotProcess(fake, workdir, kind="real", catalog=catalog(workdir / "catalog"))
        try:
            await bot.start(timeout=60)
            yield Club(fake, bot, DiscordDriver(fake))
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called routes the double lacks: {fake.unknown_requests}"


@pytest.fixture
def discord(club: Club) -> DiscordDriver:
    return club.discord


@pytest.fixture
def world(club: Club) -> Any:
    return club.fake.world


def poll_message(club: Club, reply: Reply) -> StoredMessage:
    """The poll message the bot posted, found from the link in its confirmation."""
    message_id = int(reply.text.split("/")[-1].split()[0].strip(")"))
    return club.fake.messages[message_id]


async def create(discord: DiscordDriver, member: FakeMember, **options: Any) -> Reply:
    options.setdefault("title", "Friday's screening")
    options.setdefault("deadline", "2d")
    return await discord.command("/poll create", member=member, options=options)


def ballots(club: Club, poll_id: int) -> dict[int, str]:
    return dict(club.query("SELECT user_id, choices FROM ballots WHERE poll_id = ?", (poll_id,)))  # type: ignore[arg-type]


async def confirmation(reply: Reply) -> str:
    """A vote is acknowledged at once (after it is committed) and confirmed in an ephemeral follow-up."""
    assert reply.response_type == 6, reply
    (message,) = await reply.wait_followups(1)
    assert message.ephemeral
    return message.text


def seen(reply: Reply) -> str:
    """What the member sees after the reply (an update in place has no new message)."""
    assert reply.message is not None
    return reply.message.text


def poll_id_of(message: StoredMessage) -> int:
    footer = message.embeds[0]["footer"]["text"]
    return int(footer.split("#")[1].split()[0])


# -- creating -------------------------------------------------------------------------------------------------------


async def test_a_moderator_creates_a_poll_and_members_vote_and_change_their_vote(club: Club, world: Any) -> None:
    discord = club.discord
    maya, alice, bob = world.moderator, world.alice, world.bob
    reply = await create(
        discord, maya, film1="the-last-waltz", film2="dont-look-back", films="Stop Making Sense; gimme-shelter"
    )
    assert reply.ephemeral
    assert "is open in" in reply.text
    message = poll_message(club, reply)
    assert message.channel_id == world.general.id  # no polls channel configured: where it was invoked
    assert message.embeds[0]["title"] == "🎬 Friday's screening"
    labels = [c.get("label") for c in message.walk_components() if c.get("type") == 2]
    assert labels == [
        "1. The Last Waltz (1978)",
        "2. Dont Look Back (1967)",
        "3. Stop Making Sense (1984)",
        "4. Gimme Shelter (1970)",
        "My ballot",
    ]
    poll_id = poll_id_of(message)

    voted = await discord.click(message, "1. The Last Waltz (1978)", member=alice)
    assert "Your vote for **The Last Waltz (1978)** is in" in await confirmation(voted)
    changed = await discord.click(message, "3. Stop Making Sense (1984)", member=alice)
    assert "Your vote for **Stop Making Sense (1984)** is in" in await confirmation(changed)
    await discord.click(message, "3. Stop Making Sense (1984)", member=bob)
    stop = club.film_id("stop-making-sense")
    assert ballots(club, poll_id) == {alice.id: f"[{stop}]", bob.id: f"[{stop}]"}

    mine = await discord.click(message, "My ballot", member=alice)
    assert mine.ephemeral
    assert "Stop Making Sense (1984)" in mine.text
    assert "Withdraw my vote" in mine.button_labels()

    # Live counts: one redraw for the burst, a moment later.
    await discord.wait_until(
        lambda: re.search(
            r"Stop Making Sense \(1984\)\S*\*\* · 88 min( · \S+)* — 2 votes", club.fake.messages[message.id].text
        ),
        timeout=8,
        what="the live counts",
    )
    status = await discord.command("/poll status", member=alice, options={"poll": poll_id})
    assert status.ephemeral
    assert "2 ballots" in status.text
    assert "Your ballot" in status.text

    listed = await discord.command("/poll list", member=bob)
    assert f"#{poll_id}" in listed.text and "Friday's screening" in listed.text

    withdrawn = await mine.click("Withdraw my vote", member=alice)
    assert "Your vote was withdrawn" in withdrawn.content
    assert alice.id not in ballots(club, poll_id)


async def test_a_configured_polls_channel_and_a_voter_role(club: Club, world: Any) -> None:
    discord = club.discord
    club.set_polls_channel(world.polls)
    try:
        reply = await create(
            discord,
            world.moderator,
            title="Members of the board only",
            film1="the-last-waltz",
            film2="monterey-pop",
            voter_role=world.moderator_role,
            hide_counts=True,
        )
    finally:
        club.set_polls_channel(None)
    message = poll_message(club, reply)
    assert message.channel_id == world.polls.id
    assert f"<@&{world.moderator_role.id}>" in message.text
    assert "counts hidden until the close" in message.text
    refused = await discord.click(message, "1. The Last Waltz (1978)", member=world.alice)
    assert refused.ephemeral
    assert f"Only members with the <@&{world.moderator_role.id}> role can vote" in refused.text
    accepted = await discord.click(message, "2. Monterey Pop (1968)", member=world.moderator)
    text = await confirmation(accepted)
    assert "is in" in text and "hidden until the poll closes" in text
    assert ballots(club, poll_id_of(message)) == {world.moderator.id: f"[{club.film_id('monterey-pop')}]"}


async def test_bad_input_is_refused_and_nothing_is_created(club: Club, world: Any) -> None:
    discord = club.discord
    before = club.query("SELECT count(*) FROM polls")[0][0]
    cases = [
        (world.alice, {"film1": "the-last-waltz", "film2": "monterey-pop"}, "Only moderators"),
        (world.moderator, {"film1": "the-last-waltz"}, "at least 2 films"),
        (world.moderator, {"film1": "the-last-waltz", "films": "The Last Waltz"}, "on the list twice"),
        (world.moderator, {"film1": "the-last-waltz", "film2": "Festival Reel"}, "Did you mean"),  # 22 reels
        (world.moderator, {"film1": "the-last-waltz", "film2": "monterey-pop", "deadline": "2020-01-01 20:00"}, "past"),
        (
            world.moderator,
            {"film1": "the-last-waltz", "film2": "monterey-pop", "deadline": "whenever"},
            "couldn't read",
        ),
        (
            world.moderator,
            {"film1": "the-last-waltz", "film2": "monterey-pop", "native": True, "method": "ranked"},
            "ranked choice",
        ),
    ]
    for member, options, expected in cases:
        reply = await create(discord, member, **options)
        assert reply.ephemeral, options
        assert expected in reply.text, (options, reply.text)
    assert club.query("SELECT count(*) FROM polls")[0][0] == before


async def test_film_options_autocomplete(club: Club, world: Any) -> None:
    choices = await club.discord.autocomplete(
        "/poll create", "film1", "stop mak", member=world.moderator, options={"title": "x", "deadline": "1d"}
    )
    assert choices[0] == {"name": "Stop Making Sense (1984)", "value": "stop-making-sense"}
    listed = await club.discord.autocomplete(
        "/poll create",
        "films",
        "the-last-waltz; gimme",
        member=world.moderator,
        options={"title": "x", "deadline": "1d"},
    )
    assert listed[0]["value"] == "the-last-waltz; gimme-shelter"


async def test_a_poll_of_more_than_twenty_films_from_a_theme_votes_with_a_menu(club: Club, world: Any) -> None:
    discord = club.discord
    reply = await create(
        discord, world.moderator, title="Festival night", method="approval", theme="festivals", count=22
    )
    message = poll_message(club, reply)
    menu = message.component("Choose every film you'd watch")
    assert menu["type"] == 3 and len(menu["options"]) == 22 and menu["max_values"] == 22
    picked = await discord.select(
        message,
        "Choose every film you'd watch",
        ["4. Festival Reel 03 (1993)", "8. Festival Reel 07 (1997)"],
        member=world.bob,
    )
    text = await confirmation(picked)
    assert "**Festival Reel 03 (1993)**, **Festival Reel 07 (1997)**" in text
    poll_id = poll_id_of(message)
    stored = ballots(club, poll_id)[world.bob.id]
    assert stored == f"[{club.film_id('festival-03')}, {club.film_id('festival-07')}]"


async def test_a_poll_from_a_server_collection(club: Club, world: Any) -> None:
    # /poll create theme: offers and resolves the server's collections as well as the curated themes.
    discord, maya = club.discord, world.moderator
    made = await discord.invoke("collection create", as_member=maya, name="Friday Concerts")
    assert "Created the collection" in made.text
    for film_slug in ("stop-making-sense", "the-last-waltz", "monterey-pop"):
        await discord.invoke("collection add", as_member=maya, collection="Friday Concerts", film=film_slug)
    offered = await discord.autocomplete(
        "/poll create", "theme", "friday conc", member=maya, options={"title": "x", "deadline": "1d"}
    )
    assert offered[0]["name"] == "Friday Concerts (server collection · 3 films)"
    reply = await create(discord, maya, title="Concert night", theme=offered[0]["value"], count=3)
    assert "is open in" in reply.text, reply.text
    message = poll_message(club, reply)
    for title in ("Stop Making Sense (1984)", "The Last Waltz (1978)", "Monterey Pop (1968)"):
        assert title in message.text
    by_name = await create(discord, maya, title="Concert night again", theme="friday concerts", count=2)
    assert "is open in" in by_name.text, by_name.text


# -- ranked choice --------------------------------------------------------------------------------------------------


async def test_a_member_ranks_films_in_an_ephemeral_ballot_and_changes_it(club: Club, world: Any) -> None:
    discord, alice = club.discord, world.alice
    reply = await create(
        discord,
        world.moderator,
        title="Ranked",
        method="ranked",
        film1="the-last-waltz",
        film2="dont-look-back",
        film3="gimme-shelter",
    )
    message = poll_message(club, reply)
    poll_id = poll_id_of(message)
    assert [c.get("label") for c in message.walk_components() if c.get("type") == 2] == ["Rank your choices"]

    ballot = await discord.click(message, "Rank your choices", member=alice)
    assert ballot.ephemeral
    assert "You have not voted" in ballot.text
    step = await ballot.select("Add your 1st choice", ["Gimme Shelter (1970)"], member=alice)
    assert step.response_type == 7
    assert "1. Gimme Shelter (1970)" in seen(step) and "Saved" in seen(step)
    step = await ballot.select("Add your 2nd choice", ["The Last Waltz (1978)"], member=alice)
    assert "2. The Last Waltz (1978)" in seen(step)
    assert ballots(club, poll_id)[alice.id] == f"[{club.film_id('gimme-shelter')}, {club.film_id('the-last-waltz')}]"
    step = await ballot.click("Remove last", member=alice)
    assert "2. The Last Waltz" not in seen(step)
    step = await ballot.select("Add your 2nd choice", ["Dont Look Back (1967)"], member=alice)
    assert ballots(club, poll_id)[alice.id] == f"[{club.film_id('gimme-shelter')}, {club.film_id('dont-look-back')}]"

    # Seen again later (a fresh ephemeral ballot) it shows what was saved.
    again = await discord.click(message, "Rank your choices", member=alice)
    assert "1. Gimme Shelter (1970)" in again.text and "2. Dont Look Back (1967)" in again.text

    for member in (world.bob, world.carol):
        editor = await discord.click(message, "Rank your choices", member=member)
        await editor.select("Add your 1st choice", ["Dont Look Back (1967)"], member=member)
    ended = await discord.command("/poll end", member=world.moderator, options={"poll": poll_id})
    assert "is closed" in ended.text
    result = await discord.wait_for_message(world.general, lambda m: m.id > message.id and bool(m.attachments))
    assert "🏆 Ranked: Dont Look Back (1967)" in result.text
    assert "Round 1" in result.text


# -- closing --------------------------------------------------------------------------------------------------------


def closes_at(club: Club, poll_id: int) -> datetime:
    text = club.query("SELECT closes_at FROM polls WHERE id = ?", (poll_id,))[0][0]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def test_a_poll_closes_on_its_timer_after_a_restart_and_names_how_a_tie_was_broken(
    club: Club, world: Any
) -> None:
    discord = club.discord
    reply = await create(
        discord, world.moderator, title="Quick", deadline="4s", film1="gimme-shelter", film2="monterey-pop"
    )
    message = poll_message(club, reply)
    poll_id = poll_id_of(message)
    await discord.click(message, "1. Gimme Shelter (1970)", member=world.alice)
    await discord.click(message, "2. Monterey Pop (1968)", member=world.bob)
    assert await club.bot.stop() == 0
    # The deadline passes while the bot is down.
    remaining = (closes_at(club, poll_id) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, remaining) + 0.3)
    assert club.query("SELECT status FROM polls WHERE id = ?", (poll_id,)) == [("open",)]
    await club.bot.start(timeout=60)

    result = await discord.wait_for_message(
        world.general, lambda m: m.id > message.id and bool(m.attachments), timeout=15
    )
    text = result.text
    assert "Gimme Shelter (1970) and Monterey Pop (1968) tied for first place" in text
    assert f"a draw seeded by the poll id (#{poll_id})" in text
    assert "1 vote (50%)" in text
    png = result.attachments[0]
    assert png.filename == f"poll-{poll_id}.png" and png.data.startswith(b"\x89PNG")
    assert result.message_reference is not None and int(result.message_reference["message_id"]) == message.id
    closed = club.fake.messages[message.id]

    def disabled() -> bool:
        buttons = [c for c in closed.walk_components() if c.get("type") == 2]
        return bool(buttons) and all(c.get("disabled") for c in buttons)

    await discord.wait_until(disabled, timeout=5, what="the voting buttons to be disabled")
    assert "Closed" in closed.text
    ((status, winner),) = club.query("SELECT status, winner_film_id FROM polls WHERE id = ?", (poll_id,))
    assert status == "closed" and winner in (club.film_id("gimme-shelter"), club.film_id("monterey-pop"))


async def review(club: Club, member: FakeMember, film: str, stars: float) -> None:
    """A member's review, written the way members write one: /review add, then its form."""
    form = await club.discord.command("/review add", member=member, options={"film": film, "rating": stars})
    assert form.response_type == 9, form.text
    done = await form.submit_modal(
        {"review:rating": str(int(stars * 2)), "review:body": "", "review:spoiler": "no"}, member=member
    )
    assert done.response_type == 4, done.text


async def test_a_tie_goes_to_the_higher_club_rating_and_shows_the_averages_members_know(club: Club, world: Any) -> None:
    """Four 4.5★ reviews beat one 5★ review in a tie (the one club rating, as in /club stats); the announcement shows
    each film's plain average and number of reviews, and how it ranked."""
    discord = club.discord
    await review(club, world.moderator, "festival-10", 5.0)
    for member in (world.alice, world.bob, world.carol, world.owner):
        await review(club, member, "festival-11", 4.5)
    reply = await create(
        discord, world.moderator, title="Reels", deadline="4s", film1="festival-10", film2="festival-11"
    )
    message = poll_message(club, reply)
    await discord.click(message, "1. Festival Reel 10 (2000)", member=world.alice)
    await discord.click(message, "2. Festival Reel 11 (2001)", member=world.bob)

    result = await discord.wait_for_message(
        world.general, lambda m: m.id > message.id and bool(m.attachments), timeout=15
    )
    assert (
        "Festival Reel 10 (2000) and Festival Reel 11 (2001) tied for first place; broken by higher club rating "
        "(Festival Reel 10 5.0★ from 1 review, Festival Reel 11 4.5★ from 4 reviews; ranked as if every film also "
        "had 3 reviews of 3★): **Festival Reel 11 (2001)** wins."
    ) in result.text


async def test_a_native_discord_poll_is_read_once_discord_finalises_it(club: Club, world: Any) -> None:
    discord, fake = club.discord, club.fake
    reply = await create(
        discord,
        world.moderator,
        title="Native",
        deadline="5s",
        native=True,
        method="approval",
        film1="long-one",
        film2="monterey-pop",
        film3="dont-look-back",
    )
    message = poll_message(club, reply)
    assert message.poll is not None
    answers = [a["poll_media"]["text"] for a in message.poll["answers"]]
    assert answers[0] == LONG_TITLE[:54] + "…" and len(answers[0]) == 55
    assert answers[1:] == ["Monterey Pop (1968)", "Dont Look Back (1967)"]
    assert message.poll["allow_multiselect"] is True
    await fake.vote(message, 2, world.alice)
    await fake.vote(message, 3, world.alice)
    await fake.vote(message, 2, world.bob)
    await fake.vote(message, 1, world.carol)
    result = await discord.wait_for_message(
        world.general, lambda m: m.id > message.id and bool(m.attachments), timeout=15
    )
    assert message.poll["results"]["is_finalized"]
    assert "🏆 Native: Monterey Pop (1968)" in result.text
    assert "Counted by Discord's own poll" in result.text
    assert "2 approvals" in result.text


async def test_the_start_a_poll_button_of_other_features_opens_a_form_for_moderators(club: Club, world: Any) -> None:
    fake, discord = club.fake, club.discord
    ids = [club.film_id("the-last-waltz"), club.film_id("gimme-shelter"), club.film_id("monterey-pop")]
    offer = StoredMessage(
        id=fake.ids.next(),
        channel_id=world.general.id,
        guild_id=fake.guild.id,
        author=fake.bot_user,
        content="This week's picks",
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Start a watch-party poll", "custom_id": poll_from_films_id(ids)}
                ],
            }
        ],
    )
    fake.messages[offer.id] = offer
    refused = await discord.click(offer, "Start a watch-party poll", member=world.alice)
    assert refused.ephemeral and "Only moderators start watch-party polls" in refused.text
    form = await discord.click(offer, "Start a watch-party poll", member=world.moderator)
    assert form.response_type == 9
    assert form.modal["title"] == "Start a watch-party poll"
    done = await form.submit_modal({"Deadline": "1d", "poll:method": "approval"}, member=world.moderator)
    assert done.ephemeral and "is open in" in done.text
    message = poll_message(club, done)
    assert "Watch party: The Last Waltz, Gimme Shelter or Monterey Pop?" in message.text
    (method,) = club.query("SELECT method FROM polls WHERE id = ?", (poll_id_of(message),))[0]
    assert method == "approval"
    ballot = await discord.click(message, "2. Gimme Shelter (1970)", member=world.bob)
    assert "Added **Gimme Shelter (1970)**" in await confirmation(ballot)


# -- crash ----------------------------------------------------------------------------------------------------------


async def test_every_acknowledged_vote_survives_kill_9_during_a_burst(club: Club, world: Any) -> None:
    fake, discord = club.fake, club.discord
    reply = await create(discord, world.moderator, title="Burst", film1="the-last-waltz", film2="monterey-pop")
    message = poll_message(club, reply)
    poll_id = poll_id_of(message)
    voters = []
    for index in range(120):
        user = FakeUser(id=fake.ids.next(), username=f"crowd{index}")
        member = FakeMember(user=user, guild_id=fake.guild.id, roles=[world.member_role])
        fake.guild.members.append(member)
        fake.users[user.id] = user
        voters.append(member)
    await asyncio.sleep(0.2)  # a member's reaction time
    custom_id = message.component("1. The Last Waltz (1978)")["custom_id"]
    records = [fake.component_interaction(message, custom_id, member=member) for member in voters]
    burst = asyncio.gather(*(fake.dispatch_interaction(r) for r in records))
    await discord.wait_until(lambda: any(r.responded.is_set() for r in records), timeout=15, what="a first ack")
    await club.bot.kill()
    await burst
    acknowledged = {r.member.id for r in records if r.responded.is_set() and r.member is not None}
    await club.bot.start(timeout=60)
    stored = set(ballots(club, poll_id))
    assert acknowledged, "no vote was acknowledged before the kill"
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged vote(s) lost"
    # Still one ballot each, and the bot takes votes again after the restart.
    again = await discord.click(message, "2. Monterey Pop (1968)", member=voters[0])
    assert "is in" in await confirmation(again)
    assert len(ballots(club, poll_id)) == len(stored | {voters[0].id})


def posts_of(club: Club, channel: FakeChannel, poll_id: int) -> list[StoredMessage]:
    """The poll's own posts in the channel (not its result): what members see of it."""
    return [
        m
        for m in club.fake.channel_messages(channel)
        if m.embeds and m.embeds[0]["footer"]["text"].startswith(f"Poll #{poll_id} · ") and not m.attachments
    ]


def crash_when_recording(club: Club, title: str) -> None:
    """The database refuses to record the message of the poll titled ``title`` (or to cancel it), as a crash right
    after Discord took the post would leave it."""
    with sqlite3.connect(club.db_path, timeout=5) as db:
        db.execute(
            f"CREATE TRIGGER crash BEFORE UPDATE ON polls WHEN OLD.title = '{title}' "
            "BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
        )


async def assert_posted_once_and_voted_on(club: Club, world: Any, poll_id: int) -> None:
    """After the restart the poll's post is recorded, not repeated (not even by one more kill -9), and it works."""
    discord, bot = club.discord, club.bot
    await bot.wait_for_log(rf"timer \d+ \(polls\.publish {poll_id}\) done")
    await bot.restart(hard=True, timeout=60)
    await bot.wait_for_log("timers re-armed")
    await asyncio.sleep(0.75)  # give a wrongly repeated post the chance to show up before counting
    posts = posts_of(club, world.general, poll_id)
    assert len(posts) == 1, f"the poll was posted {len(posts)} times"
    post = posts[0]
    assert club.query("SELECT status, message_id FROM polls WHERE id = ?", (poll_id,)) == [("open", post.id)]
    # The post the bot found is the poll: a vote on it counts.
    if post.poll is None:
        voted = await discord.click(post, "2. Monterey Pop (1968)", member=world.carol)
        assert "Your vote for **Monterey Pop (1968)** is in" in await confirmation(voted)
        assert ballots(club, poll_id) == {world.carol.id: f"[{club.film_id('monterey-pop')}]"}
    else:  # Discord's own poll: Discord keeps the vote, and the bot counts it when the poll ends
        await club.fake.vote(post, 2, world.carol)
        await discord.command("/poll end", member=world.moderator, options={"poll": poll_id})
        result = await discord.wait_for_message(world.general, lambda m: m.id > post.id and bool(m.attachments))
        assert ": Monterey Pop (1968)" in result.text and "1 vote" in result.text, result.text


@pytest.mark.parametrize("native", [False, True], ids=["buttons", "discords-own-poll"])
async def test_a_kill_9_between_posting_a_new_poll_and_recording_its_message_does_not_post_it_twice(
    club: Club, world: Any, native: bool
) -> None:
    discord, bot = club.discord, club.bot
    title = f"Posted once{' (native)' if native else ''}"
    crash_when_recording(club, title)
    # Nor is the post taken down: Discord keeps it, as after a crash.
    refused_take_down = discord.inject("DELETE /channels/{id}/messages/{id}", status=503, times=1)
    await discord.command(
        "/poll create",
        member=world.moderator,
        options={
            "title": title,
            "deadline": "2d",
            "film1": "the-last-waltz",
            "film2": "monterey-pop",
            "native": native,
        },
        wait="callback",
    )
    ((poll_id,),) = club.query("SELECT id FROM polls WHERE title = ?", (title,))
    await discord.wait_until(lambda: posts_of(club, world.general, poll_id) != [], timeout=10, what="the post")
    await bot.wait_for_log("injected crash")
    await discord.wait_until(lambda: refused_take_down.remaining == 0, what="the refused take-down")
    await bot.kill()  # the bot dies right there (kill -9): Discord has the post, the database does not
    with sqlite3.connect(club.db_path, timeout=5) as db:
        db.execute("DROP TRIGGER crash")
    assert club.query("SELECT status, message_id FROM polls WHERE id = ?", (poll_id,)) == [("open", None)]
    await bot.start(timeout=60)  # the unposted poll gets its publish timer back at start-up
    await assert_posted_once_and_voted_on(club, world, poll_id)


async def test_a_kill_9_between_the_publish_timer_posting_a_poll_and_recording_it_does_not_post_it_twice(
    club: Club, world: Any
) -> None:
    # A poll another feature opened (weekly picks' watch party) is posted by its publish timer.
    fake, bot = club.fake, club.bot
    assert await bot.stop() == 0
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sqlite3.connect(club.db_path, timeout=5) as db:
        poll_id = db.execute(
            "INSERT INTO polls (guild_id, channel_id, creator_id, title, method, created_at, closes_at) "
            "VALUES (?, ?, ?, 'Watch party: once', 'plurality', ?, ?)",
            (fake.guild.id, world.general.id, world.moderator.id, stamp, later),
        ).lastrowid
        for position, slug in enumerate(("gimme-shelter", "monterey-pop"), start=1):
            db.execute(
                "INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (?, ?, ?, ?)",
                (poll_id, position, club.film_id(slug), stamp),
            )
    assert poll_id is not None
    crash_when_recording(club, "Watch party: once")
    await bot.start(timeout=60)
    await bot.wait_for_log(rf"timer \d+ \(polls\.publish {poll_id}\) failed; retrying")
    await bot.kill()  # the bot dies right there (kill -9): Discord has the post, the database does not
    assert len(posts_of(club, world.general, poll_id)) == 1
    with sqlite3.connect(club.db_path, timeout=5) as db:
        db.execute("DROP TRIGGER crash")
        # The failed timer's retry is due now rather than after its back-off.
        db.execute(
            "UPDATE timers SET due_at = ? WHERE kind = 'polls.publish' AND key = ? AND done_at IS NULL",
            (datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(poll_id)),
        )
    await bot.start(timeout=60)
    await assert_posted_once_and_voted_on(club, world, poll_id)


# -- out-of-range input ---------------------------------------------------------------------------------------------

HUGE = 2**70  # beyond SQLite's (and Discord's) 64-bit integers


async def forged_command(club: Club, member: FakeMember, path: str, **options: Any) -> Reply:
    """A command whose options Discord would not send (beyond their min/max): built in range, then rewritten, the way
    a modified client or an API change could deliver them. The bot must check on its side too."""
    real = {name: (2 if value == HUGE else value) for name, value in options.items()}
    record = club.fake.command_interaction(path, real, member=member, channel=club.fake.world.general)
    (sub,) = record.payload["data"]["options"]
    for option in sub["options"]:
        if options.get(option["name"]) == HUGE:
            option["value"] = HUGE
    return await club.discord._run(record, "visible", None)


def offer(club: Club, components: list[dict[str, Any]]) -> StoredMessage:
    """A bot message carrying the given components (as an older version of the bot could have posted them)."""
    fake = club.fake
    message = StoredMessage(
        id=fake.ids.next(),
        channel_id=fake.world.general.id,
        guild_id=fake.guild.id,
        author=fake.bot_user,
        content="An older message",
        components=[{"type": 1, "components": components}],
    )
    fake.messages[message.id] = message
    return message


def short_ephemeral(reply: Reply) -> str:
    assert reply.ephemeral, reply
    assert "Something went wrong" not in reply.text, reply.text
    assert len(reply.text) < 300, reply.text
    return reply.text


async def test_ids_and_numbers_out_of_range_get_a_short_answer(club: Club, world: Any) -> None:
    discord, maya = club.discord, world.moderator
    for path in ("/poll status", "/poll end", "/poll cancel"):
        reply = await forged_command(club, maya, path, poll=HUGE)
        assert "There is no poll" in short_ephemeral(reply), path
    assert await discord.autocomplete("/poll status", "poll", str(HUGE), member=maya) == []
    counted = await forged_command(
        club, maya, "/poll create", title="Big", deadline="1d", source="watchlist", count=HUGE
    )
    assert "between 2 and 25" in short_ephemeral(counted)

    reply = await create(discord, maya, title="Ranges", film1="the-last-waltz", film2="monterey-pop")
    poll_id = poll_id_of(poll_message(club, reply))
    forged = offer(
        club,
        [
            {"type": 2, "style": 2, "label": "Old ballot", "custom_id": f"filmclub:poll:{HUGE}:ballot"},
            {"type": 2, "style": 1, "label": "Old offer", "custom_id": f"filmclub:poll-from:{HUGE},{poll_id}"},
        ],
    )
    clicked = await discord.click(forged, "Old ballot", member=world.alice)
    assert "no longer exists" in short_ephemeral(clicked)
    offered = await discord.click(forged, "Old offer", member=maya)
    assert "not in the catalog" in short_ephemeral(offered)
    menu = offer(
        club,
        [
            {
                "type": 3,
                "custom_id": f"filmclub:poll:{poll_id}:pick",
                "options": [{"label": "Huge", "value": str(HUGE)}, {"label": "Word", "value": "alien"}],
            }
        ],
    )
    for value in ("Huge", "Word"):
        picked = await discord.select(menu, f"filmclub:poll:{poll_id}:pick", [value], member=world.bob)
        assert "not on this poll's ballot" in short_ephemeral(picked), value
    assert ballots(club, poll_id) == {}


async def test_the_three_second_minimum_deadline_is_accepted_and_absurd_ones_are_refused(
    club: Club, world: Any
) -> None:
    # "3s" is the documented minimum: it is read and checked against one clock reading, so it is exactly 3 s.
    discord, maya = club.discord, world.moderator
    club.set_polls_channel(world.polls)  # its result lands in #polls, away from the other tests' results
    try:
        reply = await create(discord, maya, title="Blink", deadline="3s", film1="the-last-waltz", film2="monterey-pop")
    finally:
        club.set_polls_channel(None)
    assert "is open in" in reply.text, reply.text
    before = club.query("SELECT count(*) FROM polls")[0][0]
    for options in (
        {"deadline": "99999999999999999999w"},
        {"deadline": "9999-12-31 20:00"},
        {"deadline": "2d", "screening": "3d", "screening_location": "The pub", "remind": "9" * 40 + "h"},
        {"deadline": "2d", "screening": "9" * 90 + "d", "screening_location": "The pub"},
    ):
        refused = await create(discord, maya, film1="the-last-waltz", film2="monterey-pop", **options)
        assert "at most" in short_ephemeral(refused), options
    assert club.query("SELECT count(*) FROM polls")[0][0] == before


# -- a channel the bot cannot post in -------------------------------------------------------------------------------


def pending_timers(club: Club, poll_id: int) -> list[str]:
    return [
        kind
        for (kind,) in club.query("SELECT kind FROM timers WHERE key = ? AND done_at IS NULL", (str(poll_id),))
        if kind.startswith("polls.")
    ]


async def test_a_poll_discord_refuses_to_post_is_explained_and_leaves_nothing_open(club: Club, world: Any) -> None:
    discord, fake, maya = club.discord, club.fake, world.moderator
    locked = await fake.add_text_channel(
        "locked-polls", overwrites=[{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}]
    )
    club.set_polls_channel(locked)
    try:
        reply = await create(discord, maya, title="Invisible", film1="the-last-waltz", film2="monterey-pop")
    finally:
        club.set_polls_channel(None)
    text = short_ephemeral(reply)
    assert "I can't post in #locked-polls" in text and "Send Messages" in text, text
    assert club.query("SELECT id FROM polls WHERE title = 'Invisible'") == []  # refused before anything was stored
    assert fake.channel_messages(locked) == []

    # The permissions look right, but Discord keeps refusing the message: the poll is cancelled, its timers gone.
    # Discord changed the channel's permissions without the bot hearing of it: its cache says all is well.
    deny = {"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}
    world.general.overwrites.append(deny)
    try:
        reply = await create(discord, maya, title="Stale", film1="the-last-waltz", film2="monterey-pop")
    finally:
        world.general.overwrites.remove(deny)
    text = short_ephemeral(reply)
    assert f"I can't post in #{world.general.name}: Discord refused" in text and "The poll is cancelled" in text
    ((poll_id, status),) = club.query("SELECT id, status FROM polls WHERE title = 'Stale'")
    assert status == "cancelled" and pending_timers(club, poll_id) == []

    discord.inject("POST /channels/{id}/messages", status=503, times=1)
    reply = await create(discord, maya, title="Refused", film1="the-last-waltz", film2="monterey-pop")
    text = short_ephemeral(reply)
    assert f"I couldn't post in #{world.general.name}: Discord answered 503" in text, text
    assert "The poll is cancelled" in text
    ((poll_id, status),) = club.query("SELECT id, status FROM polls WHERE title = 'Refused'")
    assert status == "cancelled"
    assert pending_timers(club, poll_id) == []


def refuse_recording_the_message(club: Club, title: str) -> None:
    """The database refuses to record the message of the poll titled ``title`` (a failing disk, say), while the bot
    lives on and may still cancel it."""
    with sqlite3.connect(club.db_path, timeout=5) as db:
        db.execute(
            f"CREATE TRIGGER unrecorded BEFORE UPDATE OF message_id ON polls "
            f"WHEN OLD.title = '{title}' AND NEW.message_id IS NOT NULL "
            "BEGIN SELECT RAISE(ABORT, 'injected disk error'); END"
        )


async def test_a_poll_posted_but_not_recorded_is_taken_down_or_kept_open_never_cancelled_while_visible(
    club: Club, world: Any
) -> None:
    discord, maya = club.discord, world.moderator
    refuse_recording_the_message(club, "Unrecorded")
    try:
        # The post is taken down: the poll is cancelled and nothing of it is left to vote on.
        reply = await create(discord, maya, title="Unrecorded", film1="the-last-waltz", film2="monterey-pop")
        assert "I couldn't record it, so I took it down again and cancelled it" in short_ephemeral(reply)
        ((poll_id, status),) = club.query("SELECT id, status FROM polls WHERE title = 'Unrecorded'")
        assert status == "cancelled" and pending_timers(club, poll_id) == []
        assert posts_of(club, world.general, poll_id) == []

        # Discord will not take the post down either: the poll is visible, so it stays open, and its publish timer
        # will find the post and record it.
        discord.inject("DELETE /channels/{id}/messages/{id}", status=503, times=1)
        with sqlite3.connect(club.db_path, timeout=5) as db:
            db.execute("UPDATE polls SET title = 'Done with' WHERE title = 'Unrecorded'")
        reply = await create(discord, maya, title="Unrecorded", film1="the-last-waltz", film2="monterey-pop")
        text = short_ephemeral(reply)
        assert "is posted in" in text and "couldn't record it yet" in text, text
        ((poll_id, status),) = club.query("SELECT id, status FROM polls WHERE title = 'Unrecorded'")
        assert status == "open" and "polls.publish" in pending_timers(club, poll_id)
        (post,) = posts_of(club, world.general, poll_id)
        # The publish timer's first try meets the same refusal, and is retried later (30 s)...
        await club.bot.wait_for_log(rf"timer \d+ \(polls\.publish {poll_id}\) failed; retrying")
    finally:
        with sqlite3.connect(club.db_path, timeout=5) as db:
            db.execute("DROP TRIGGER unrecorded")
    # ... but the poll is closed before that: the close finds the post too, and counts the vote cast on it.
    voted = await discord.click(post, "2. Monterey Pop (1968)", member=world.carol)
    assert "Your vote for **Monterey Pop (1968)** is in" in await confirmation(voted)
    ended = await discord.command("/poll end", member=maya, options={"poll": poll_id})
    assert "is closed; the result is posted" in short_ephemeral(ended), ended.text
    assert club.query("SELECT status, message_id, winner_film_id FROM polls WHERE id = ?", (poll_id,)) == [
        ("closed", post.id, club.film_id("monterey-pop"))
    ]
    assert posts_of(club, world.general, poll_id) == [post]


async def test_a_poll_from_another_feature_that_discord_refuses_is_cancelled_not_left_invisible(
    club: Club, world: Any
) -> None:
    # Weekly picks (or a crash before posting) leave a poll for the publish timer. If Discord refuses its channel
    # for good, nobody could ever see or vote in it: it is cancelled at once, with its timers.
    fake = club.fake
    locked = await fake.add_text_channel(
        "locked-picks", overwrites=[{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}]
    )
    assert await club.bot.stop() == 0
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sqlite3.connect(club.db_path, timeout=5) as db:
        poll_id = db.execute(
            "INSERT INTO polls (guild_id, channel_id, creator_id, title, method, created_at, closes_at) "
            "VALUES (?, ?, ?, 'Watch party: locked', 'plurality', ?, ?)",
            (fake.guild.id, locked.id, world.moderator.id, stamp, later),
        ).lastrowid
        for position, slug in enumerate(("gimme-shelter", "monterey-pop"), start=1):
            db.execute(
                "INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (?, ?, ?, ?)",
                (poll_id, position, club.film_id(slug), stamp),
            )
    assert poll_id is not None
    await club.bot.start(timeout=60)
    # Logged once the cancellation is committed (a change in the database wakes no wait of the double).
    await club.bot.wait_for_log(rf"poll {poll_id} cancelled: I can't post in #locked-picks: missing Send Messages")
    assert club.query("SELECT status FROM polls WHERE id = ?", (poll_id,)) == [("cancelled",)]
    assert pending_timers(club, poll_id) == []
    assert fake.channel_messages(locked) == []


async def test_ending_a_poll_discord_never_took_says_it_is_cancelled_not_that_a_result_is_posted(
    club: Club, world: Any
) -> None:
    # A poll another feature opened, whose publish timer Discord answered 503: it waits for its retry, unposted.
    fake, bot = club.fake, club.bot
    assert await bot.stop() == 0
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sqlite3.connect(club.db_path, timeout=5) as db:
        poll_id = db.execute(
            "INSERT INTO polls (guild_id, channel_id, creator_id, title, method, created_at, closes_at) "
            "VALUES (?, ?, ?, 'Watch party: unseen', 'plurality', ?, ?)",
            (fake.guild.id, world.general.id, world.moderator.id, stamp, later),
        ).lastrowid
        for position, slug in enumerate(("gimme-shelter", "monterey-pop"), start=1):
            db.execute(
                "INSERT INTO poll_candidates (poll_id, position, film_id, nominated_at) VALUES (?, ?, ?, ?)",
                (poll_id, position, club.film_id(slug), stamp),
            )
    club.discord.inject("POST /channels/{id}/messages", status=503, times=1)
    await bot.start(timeout=60)
    await bot.wait_for_log(rf"timer \d+ \(polls\.publish {poll_id}\) failed; retrying")
    ended = await club.discord.command("/poll end", member=world.moderator, options={"poll": poll_id})
    text = short_ephemeral(ended)
    assert "never posted" in text and "cancelled" in text and "result is posted" not in text, text
    assert club.query("SELECT status FROM polls WHERE id = ?", (poll_id,)) == [("cancelled",)]
    assert posts_of(club, world.general, poll_id) == []


# -- the quick-poll form --------------------------------------------------------------------------------------------


def poll_offer(club: Club, slugs: list[str]) -> StoredMessage:
    """A /recommend or weekly-picks message offering "Start a watch-party poll" among these films."""
    ids = [club.film_id(slug) for slug in slugs]
    return offer(
        club,
        [{"type": 2, "style": 1, "label": "Start a watch-party poll", "custom_id": poll_from_films_id(ids)}],
    )


async def test_the_quick_poll_form_survives_a_restart_between_opening_and_submitting(club: Club, world: Any) -> None:
    discord, maya = club.discord, world.moderator
    message = poll_offer(club, ["dont-look-back", "gimme-shelter"])
    form = await discord.click(message, "Start a watch-party poll", member=maya)
    assert form.response_type == 9
    await club.bot.restart()
    # Each field's range is checked on the server; nothing is stored until all of them pass.
    before = club.query("SELECT count(*) FROM polls")[0][0]
    for fields, expected in [
        ({"Deadline": "99999999999999999999w"}, "at most 12 weeks"),
        ({"Deadline": "2d", "Title": "   "}, "Give the poll a title"),
        ({"Deadline": "2d", "poll:method": "coin toss"}, "plurality, approval or ranked"),
    ]:
        refused = await form.submit_modal(fields, member=maya)
        assert expected in short_ephemeral(refused), fields
    assert club.query("SELECT count(*) FROM polls")[0][0] == before
    done = await form.submit_modal({"Deadline": "1d", "poll:method": "ranked"}, member=maya)
    assert done.ephemeral and "is open in" in done.text, done.text
    posted = poll_message(club, done)
    assert "Watch party: Dont Look Back or Gimme Shelter?" in posted.text
    assert club.query("SELECT method FROM polls WHERE id = ?", (poll_id_of(posted),)) == [("ranked",)]


async def test_an_unexpected_error_in_the_quick_poll_form_is_logged_under_the_forms_name(
    club: Club, world: Any
) -> None:
    discord, maya = club.discord, world.moderator
    message = poll_offer(club, ["the-last-waltz", "stop-making-sense"])
    form = await discord.click(message, "Start a watch-party poll", member=maya)
    discord.inject("POST /interactions/{id}/{token}/callback", status=400, times=1)
    failed = await form.submit_modal({"Title": "Fails once", "Deadline": "1d"}, member=maya)
    assert failed.ephemeral and "Something went wrong" in failed.text
    line = await club.bot.wait_for_log(r"unexpected error in .*filmclub:poll-form:\d+,\d+")
    assert "filmclub:poll-form:" in line
    # Nothing half-made stays behind: the poll it had stored is cancelled, with no timer.
    for poll_id, status in club.query("SELECT id, status FROM polls WHERE title = 'Fails once'"):
        assert status == "cancelled" and pending_timers(club, poll_id) == []
