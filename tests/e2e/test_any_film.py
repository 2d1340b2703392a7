"""Issue 13's chain end to end, as members see it: a film the catalog lacks is nominated (chosen from TMDb's answers,
or entered in the form without a provider), approved, put on a poll from the nominations, voted on, screened (the
Discord event takes the poster as its cover when there is one), reviewed, and exported for Letterboxd; a restart in
the middle changes nothing; and a second server never sees the first one's film.

One loopback Discord (Film Club and a Second Club), one loopback TMDb and one bot for the module; the tests run in
order (the provider's chain, then the form's chain on the same bot restarted without the provider, then isolation).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image

from tests.tmdb_double import TmdbDouble, TmdbFilm

from .fake_discord import FakeMember, StoredMessage, World
from .harness import DiscordDriver, ModuleBot, Reply, default_bot_kind, module_bot
from .test_nominations_tmdb import nominate

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

LIGHTHOUSE = TmdbFilm(
    990013,
    "The Lighthouse Keeper's Daughter",
    "1998-03-01",
    101,
    ("Ines Example",),
    ("Drama",),
    ("lighthouse",),
    "A keeper's daughter waits out the winter storms.",
    "/lighthouseKeepersDaughter.jpg",
    "tt9900013",
)
LIGHTHOUSE_LABEL = "The Lighthouse Keeper's Daughter (1998)"
FESTIVAL_LABEL = "Our Street Festival (2011)"


@dataclass
class Club(ModuleBot):
    tmdb: TmdbDouble
    second: World

    def nomination(self, title: str) -> tuple[int, str]:
        rows = self.query(
            "SELECT n.id, n.status FROM nominations n JOIN films f ON f.id = n.film_id WHERE f.title = ?", (title,)
        )
        assert len(rows) == 1, rows
        return int(rows[0][0]), str(rows[0][1])

    def slug(self, title: str) -> str:
        return str(self.query("SELECT slug FROM films WHERE title = ?", (title,))[0][0])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("the chain needs the real bot")
    async with TmdbDouble() as tmdb:
        tmdb.add_film(LIGHTHOUSE)
        workdir = tmp_path_factory.mktemp("any-film-e2e")
        second: list[World] = []
        async with module_bot(workdir, lambda fake: second.append(fake.add_guild("Second Club")), tmdb=tmdb) as (
            fake,
            bot,
        ):
            yield Club(fake, DiscordDriver(fake), bot, tmdb, second[0])
        assert not tmdb.unknown_requests, tmdb.unknown_requests


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


async def approve(ctx: Club, title: str) -> None:
    number, status = ctx.nomination(title)
    assert status == "pending"
    approved = await run(ctx, "nominations approve", ctx.fake.world.moderator, nomination=number)
    assert approved.ephemeral and f"Nomination #{number} approved" in approved.text, approved.text


async def nominate_curated(ctx: Club, slug: str, title: str) -> None:
    """A second film for the poll (a poll needs two): a curated one, nominated and approved."""
    made = await run(ctx, "nominate", ctx.fake.world.owner, title=slug)
    assert "Nominated:" in made.text, made.text
    await approve(ctx, title)


async def poll_from_nominations(ctx: Club, title: str) -> StoredMessage:
    reply = await run(
        ctx,
        "poll create",
        ctx.fake.world.moderator,
        title=title,
        deadline="1d",
        source="nominations",
        screening="2d",
        screening_location="The Roxy",
    )
    message_id = int(reply.text.split("/")[-1].split()[0].strip(")"))
    return ctx.fake.messages[message_id]


def poll_button(message: StoredMessage, film_label: str) -> str:
    return next(
        c["label"] for c in message.walk_components() if c.get("type") == 2 and film_label in c.get("label", "")
    )


async def close_and_screen(ctx: Club, message: StoredMessage, film_label: str) -> dict[str, Any]:
    """The moderator ends the poll; the winner's screening gets its Discord event: returned."""
    poll_id = int(message.embeds[0]["footer"]["text"].split("#")[1].split()[0])
    events = set(ctx.fake.scheduled_events)
    ended = await run(ctx, "poll end", ctx.fake.world.moderator, poll=poll_id)
    assert "is closed" in ended.text, ended.text
    await ctx.discord.wait_until(lambda: set(ctx.fake.scheduled_events) - events, timeout=10, what="the event")
    (event_id,) = set(ctx.fake.scheduled_events) - events
    event = ctx.fake.scheduled_events[event_id]
    assert event["name"] == film_label and event["entity_metadata"]["location"] == "The Roxy"
    return event


async def review(ctx: Club, who: FakeMember, title: str, label: str) -> None:
    form = await run(ctx, "review add", who, film=ctx.slug(title), rating=4)
    saved = await form.submit_modal(
        {"review:rating": "8", "review:body": "Worth the night out.", "review:spoiler": "no"}, member=who
    )
    assert label in saved.text, saved.text


async def exported(ctx: Club, who: FakeMember) -> dict[str, dict[str, str]]:
    reply = await run(ctx, "letterboxd export", who)
    assert reply.ephemeral, reply.text
    [(name, data)] = reply.files.items()
    assert name.startswith("filmclub-for-letterboxd-")
    return {row["Title"]: row for row in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))}


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {str(f["name"]): str(f["value"]) for f in embed.get("fields", [])}


async def test_with_tmdb_nominated_approved_polled_screened_with_cover_reviewed_exported_across_restarts(
    club: Club,
) -> None:
    world = club.fake.world
    configured = await run(club, "config nominations", world.moderator, approval=True, limit=3, everyone=True)
    assert configured.ephemeral and "Saved" in configured.text, configured.text

    choices = await nominate(club.discord, world.alice, title="Lighthouse Keeper's Daughter")
    assert choices.ephemeral and "Which film do you mean?" in choices.text, choices.text
    made = await choices.select("Choose the film", [LIGHTHOUSE_LABEL], member=world.alice)
    assert f"Nominated: {LIGHTHOUSE_LABEL}" in made.text and "waits for a moderator's approval" in made.text
    assert "https://letterboxd.com/tmdb/990013/" in made.text
    await approve(club, LIGHTHOUSE.title)
    await nominate_curated(club, "stop-making-sense", "Stop Making Sense")

    await club.bot.restart()  # after approval: the approved nominations are what the poll is made of
    message = await poll_from_nominations(club, "Friday")
    label = poll_button(message, LIGHTHOUSE.title)
    await club.bot.restart(hard=True)  # with the poll open: its buttons still count votes
    await club.discord.click(message, label, member=world.alice)
    await club.discord.click(message, label, member=world.bob)
    await club.discord.click(message, poll_button(message, "Stop Making Sense"), member=world.carol)

    event = await close_and_screen(club, message, LIGHTHOUSE_LABEL)
    cover = club.fake.event_cover(int(event["id"]))
    assert cover is not None and cover.content_type == "image/jpeg" and event["image"] == cover.hash
    poster = f"{club.tmdb.image_base}/w500{LIGHTHOUSE.poster_path}"
    async with aiohttp.ClientSession() as session, session.get(poster) as served:
        assert cover.data == await served.read()  # the poster TMDb served, as the event's cover
    assert club.nomination(LIGHTHOUSE.title)[1] == "chosen"

    # The moderator moves the screening to now in Discord's client; once it is over the bot asks how it was, and
    # Bob reviews the film from that prompt.
    start = datetime.now(UTC) + timedelta(seconds=2)
    await club.fake.edit_event_as_moderator(
        int(event["id"]),
        scheduled_start_time=start.isoformat(),
        scheduled_end_time=(start + timedelta(seconds=1)).isoformat(),
    )
    prompt = await club.discord.wait_for_message(
        world.general, lambda m: f"How was {LIGHTHOUSE_LABEL}?" in m.text, timeout=15
    )
    form = await club.discord.click(prompt, "Rate it", member=world.bob)
    saved = await form.submit_modal(
        {"review:rating": "8", "review:body": "Worth the night out.", "review:spoiler": "no"}, member=world.bob
    )
    assert LIGHTHOUSE_LABEL in saved.text, saved.text
    row = (await exported(club, world.bob))[LIGHTHOUSE.title]
    assert (row["Year"], row["Rating"], row["tmdbID"], row["imdbID"]) == ("1998", "4", "990013", "tt9900013")
    assert row["Review"] == "Worth the night out."

    card = await run(club, "film", world.carol, title=club.slug(LIGHTHOUSE.title))
    assert card.embed["title"].startswith(LIGHTHOUSE_LABEL), card.embed
    assert card.embed["thumbnail"]["url"] == f"{club.tmdb.image_base}/w500{LIGHTHOUSE.poster_path}"
    links = fields(card.embed)["Links"]
    assert "[Letterboxd](https://letterboxd.com/tmdb/990013/)" in links and "tt9900013" in links
    rating = fields(card.embed)["The club's rating"]
    assert "from 1 review · the club has watched it" in rating, card.text  # Bob's, on the server's film
    choices_seen = await club.discord.autocomplete("/film", "title", "lighthouse", member=world.carol)
    assert any(c["name"].startswith(LIGHTHOUSE_LABEL) and "this server's film" in c["name"] for c in choices_seen)


async def test_without_tmdb_entered_in_the_form_and_the_chain_runs_with_a_generated_cover(club: Club) -> None:
    world = club.fake.world
    club.bot.tmdb = None  # the same club, its bot now without a film-details provider
    await club.bot.restart()
    requests_before = len(club.tmdb.requests)

    form = await run(club, "nominate", world.carol, title="Our Street Festival", year=2011)
    assert form.response_type == 9 and form.modal["title"] == "Nominate a film"
    made = await form.submit_modal({"nominate:director": "Dee Neighbour"}, member=world.carol)
    assert f"Nominated: {FESTIVAL_LABEL}" in made.text and "one of this server's films" in made.text
    await approve(club, "Our Street Festival")
    await nominate_curated(club, "the-last-waltz", "The Last Waltz")

    message = await poll_from_nominations(club, "Saturday")
    label = poll_button(message, "Our Street Festival")
    await club.discord.click(message, label, member=world.alice)
    await club.discord.click(message, label, member=world.carol)
    event = await close_and_screen(club, message, FESTIVAL_LABEL)
    cover = club.fake.event_cover(int(event["id"]))  # no poster to be had: the generated card
    assert cover is not None and cover.content_type == "image/png" and event["image"] == cover.hash
    assert Image.open(io.BytesIO(cover.data)).size == (800, 320)

    await review(club, world.alice, "Our Street Festival", FESTIVAL_LABEL)
    row = (await exported(club, world.alice))["Our Street Festival"]
    assert (row["Year"], row["Rating"], row["tmdbID"], row["imdbID"]) == ("2011", "4", "", "")
    card = await run(club, "film", world.bob, title=club.slug("Our Street Festival"))
    assert card.embed["title"].startswith(FESTIVAL_LABEL) and "thumbnail" not in card.embed
    shown = fields(card.embed)
    assert shown["Directed by"] == "Dee Neighbour" and shown["The club's rating"].endswith("from 1 review")
    assert len(club.tmdb.requests) == requests_before  # nothing asked TMDb


async def test_a_second_server_never_sees_the_first_ones_films(club: Club) -> None:
    here, there = club.fake.world, club.second
    stats = await club.discord.command("/club stats", member=here.alice, channel=here.general)
    assert LIGHTHOUSE.title in stats.text  # seen where it was reviewed ...

    for text in ("lighthouse", "street festival"):
        choices = await club.discord.autocomplete("/film", "title", text, member=there.alice, channel=there.general)
        assert not any("Lighthouse" in c["name"] or "Street Festival" in c["name"] for c in choices), choices
    for title in (club.slug(LIGHTHOUSE.title), LIGHTHOUSE.title, "Our Street Festival"):
        card = await club.discord.command("/film", member=there.alice, channel=there.general, options={"title": title})
        assert card.ephemeral and not card.embeds and card.text.startswith("No film called"), card.text
        assert "Lighthouse (" not in card.text and "Street Festival (" not in card.text  # nor suggested
    other = await club.discord.command("/club stats", member=there.alice, channel=there.general)
    assert "Lighthouse" not in other.text and "Street Festival" not in other.text  # ... never where it was not
    nothing = await club.discord.command("/letterboxd export", member=there.bob, channel=there.general)
    assert nothing.ephemeral and "Nothing to export yet" in nothing.text
