"""Recommendations through the loopback Discord, on the shipped catalog: /recommend and its buttons, /theme,
/film, /similar, /surprise, /forme, /tonight (named members and a voice channel), server collections, every
autocomplete, bad input, and buttons that still work after a restart. One bot process serves the module."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.core import reviews, watch
from bot.db.database import Database, open_database
from bot.ui.handoff import poll_from_films_id
from tests.clocks import StepClock

from .fake_discord import FakeDiscord, FakeMember
from .fake_discord.store import StoredMessage
from .harness import BotProcess, DiscordDriver, Reply, default_bot_kind

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Club:
    fake: FakeDiscord
    discord: DiscordDriver
    bot: BotProcess
    db: Database
    clock: StepClock

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True) as db:
            return db.execute(sql, params).fetchall()

    def film_id(self, slug: str) -> int:
        return int(self.query("SELECT id FROM films WHERE slug = ?", (slug,))[0][0])

    async def rate(self, member: FakeMember, slug: str, stars: float) -> None:
        """A rating written the way the reviews feature writes one (bot.core.reviews.rate)."""
        guild_id = self.fake.guild.id
        await reviews.rate(
            self.db, self.clock, guild_id=guild_id, user_id=member.id, film_id=self.film_id(slug), stars=stars
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    if default_bot_kind() != "real":
        pytest.skip("recommendations need the real bot")
    async with FakeDiscord() as fake:
        workdir = tmp_path_factory.mktemp("recommend-e2e")
        bot = BotProcess(fake, workdir, kind="real", db_path=workdir / "club.db")
        try:
            await bot.start()
            async with await open_database(bot.db_path) as db:
                yield Club(fake, DiscordDriver(fake), bot, db, StepClock(step=timedelta(minutes=1)))
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called unknown routes: {fake.unknown_requests}"


@pytest.fixture(autouse=True)
def _show_bot_output(request: pytest.FixtureRequest, club: Club) -> None:
    request.node._e2e_bots = [club.bot]


async def run(ctx: Club, path: str, who: FakeMember, /, **options: Any) -> Reply:
    return await ctx.discord.command(f"/{path}", member=who, options=options)


def components(message: StoredMessage) -> list[dict[str, Any]]:
    return list(message.walk_components())


def custom_ids(reply: Reply) -> list[str]:
    assert reply.message is not None
    return [c.get("custom_id", "") for c in components(reply.message) if c.get("type") in (2, 3)]


def next_button(reply: Reply) -> dict[str, Any]:
    assert reply.message is not None
    return next(c for c in components(reply.message) if c.get("label") == "Next ▶")


def field_names(reply: Reply) -> list[str]:
    return [f["name"] for f in reply.embed.get("fields", [])]


# -- discoverability ----------------------------------------------------------------------------------------------


async def test_help_lists_every_recommendation_command(club: Club) -> None:
    shown = await run(club, "help", club.fake.world.alice)
    for command in ("/recommend", "/film", "/similar", "/surprise", "/forme", "/tonight", "/theme list"):
        assert command in shown.text
    assert "/collection create" in shown.text
    assert "Finding something to watch" in shown.text and "Themes and server collections" in shown.text


# -- cold start -----------------------------------------------------------------------------------------------------


async def test_with_no_ratings_picks_lead_with_films_and_single_nobody_out(club: Club) -> None:
    """Before anyone rates anything: /forme and /tonight lead with films (not series), each with why, and /tonight
    tells nobody a film suits them "most" on a tie."""
    world = club.fake.world
    mine = await run(club, "forme", world.owner, count=5)
    assert mine.embed["description"].startswith("You haven't rated anything yet, so these are films from across")
    kinds = [f["value"].split("\n")[0] for f in mine.embed["fields"]]
    assert len(kinds) == 5 and not any(" · series · " in k or " · docuseries · " in k for k in kinds)
    assert all(k.startswith("*a core film of ") for k in kinds)
    assert len({k.split(" · ")[0] for k in kinds}) == 5  # five different themes, not a run of one
    series = await run(club, "forme", world.owner, count=3, kind="docuseries")
    assert all(" · docuseries · " in f["value"] for f in series.embed["fields"])  # asked for: offered

    tonight = await club.discord.command(
        "/tonight", member=world.alice, options={"member1": world.bob, "member2": world.carol}
    )
    assert tonight.embed["title"] == "Tonight for Alice, Bob and Carol"
    assert tonight.embed["description"].startswith("None of you has rated anything yet")
    for field in tonight.embed["fields"]:
        reason = field["value"].split("\n")[0]
        assert "most" not in reason and "%" not in reason
        assert " · series · " not in reason and " · docuseries · " not in reason


async def test_decade_offers_only_decades_that_have_films(club: Club) -> None:
    alice = club.fake.world.alice
    years = club.query("SELECT DISTINCT year / 10 * 10 FROM films WHERE retired = 0 ORDER BY 1")
    offered = await club.discord.autocomplete("/recommend", "decade", "", member=alice)
    assert [c["value"] for c in offered] == [decade for (decade,) in years][-25:]
    assert 1880 not in [c["value"] for c in offered] and 2030 not in [c["value"] for c in offered]
    assert offered[0]["name"].startswith(f"{years[0][0]}s (")
    typed = await club.discord.autocomplete("/recommend", "decade", "197", member=alice)
    assert [c["value"] for c in typed] == [1970]
    in_theme = await club.discord.autocomplete(
        "/recommend", "decade", "", member=alice, options={"theme": "making-the-album"}
    )
    theme_years = club.query(
        "SELECT DISTINCT f.year / 10 * 10 FROM films f JOIN film_themes t ON t.film_id = f.id "
        "WHERE t.theme_slug = 'making-the-album' AND f.retired = 0 ORDER BY 1"
    )
    assert [c["value"] for c in in_theme] == [decade for (decade,) in theme_years]


# -- /recommend ---------------------------------------------------------------------------------------------------


async def test_theme_autocomplete_is_fuzzy_and_the_command_revalidates(club: Club) -> None:
    alice = club.fake.world.alice
    choices = await club.discord.autocomplete("/recommend", "theme", "live on", member=alice)
    assert choices[0] == {"name": "Live on Stage (59 films)", "value": "live-on-stage"}
    typo = await club.discord.autocomplete("/recommend", "theme", "makng the albm", member=alice)
    assert typo[0]["value"] == "making-the-album"
    assert len(await club.discord.autocomplete("/recommend", "theme", "", member=alice)) == 25

    unknown = await run(club, "recommend", alice, theme="live on stagee")
    assert unknown.ephemeral
    assert unknown.text.startswith("No theme named 'live on stagee'. Did you mean Live on Stage")
    typed = await run(club, "recommend", alice, theme="Live on Stage", count=2)  # typed, not picked: accepted
    assert not typed.ephemeral and typed.embed["title"] == "Live on Stage"


async def test_recommend_shows_picks_with_reasons_and_three_kinds_of_button(club: Club) -> None:
    world = club.fake.world
    await club.rate(world.bob, "stop-making-sense", 5)
    await club.rate(world.carol, "stop-making-sense", 4)
    shown = await run(club, "recommend", world.alice, theme="live-on-stage", count=3)
    assert not shown.ephemeral
    assert shown.embed["title"] == "Live on Stage"
    assert field_names(shown)[0] == "1. Stop Making Sense (1984)"
    first = shown.embed["fields"][0]["value"]
    assert first.startswith("*concert film · 88 min · also Band Dynamics · 4.5★ from 2 members · the club hasn't")
    assert len(field_names(shown)) == 3
    assert shown.embed["footer"]["text"] == "Picks 1–3 of 59"
    ids = custom_ids(shown)
    assert ids[:2] == ["filmclub:rec:more:live-on-stage::::3:0:0", "filmclub:rec:more:live-on-stage::::3:0:1"]
    poll = next(i for i in ids if i.startswith("filmclub:poll-from:"))
    assert poll.startswith(f"filmclub:poll-from:{club.film_id('stop-making-sense')},")
    assert poll == poll_from_films_id([int(x) for x in poll.removeprefix("filmclub:poll-from:").split(",")])
    assert "filmclub:rec:watch" in ids
    assert shown.button_labels() == ["◀ Previous", "Next ▶", "Start a watch-party poll with these"]

    more = await shown.click("Next ▶", member=world.carol)
    assert more.response_type == 7  # the same message, now showing the next picks
    assert more.message is not None
    page = more.message.embeds[0]
    assert page["fields"][0]["name"].startswith("4. ")
    assert page["footer"]["text"] == "Picks 4–6 of 59"
    assert custom_ids(more)[:2] == [
        "filmclub:rec:more:live-on-stage::::3:0:0",
        "filmclub:rec:more:live-on-stage::::3:0:2",
    ]

    options = next(c for c in components(more.message) if c.get("type") == 3)["options"]
    assert [o["label"] for o in options] == [name.split(". ", 1)[1] for name in (f["name"] for f in page["fields"])]
    chosen = options[0]
    added = await more.select("filmclub:rec:watch", [chosen["value"]], member=world.bob)
    assert added.ephemeral
    assert added.text == f"Added **{chosen['label']}** to your watchlist."
    again = await more.select("filmclub:rec:watch", [chosen["value"]], member=world.bob)
    assert again.text == f"**{chosen['label']}** is already on your watchlist."
    assert club.query("SELECT user_id FROM watchlist WHERE film_id = ?", (int(chosen["value"]),)) == [(world.bob.id,)]
    back = await more.click("◀ Previous", member=world.carol)
    assert back.message is not None and back.message.embeds[0]["footer"]["text"] == "Picks 1–3 of 59"


async def test_filters_narrow_and_an_empty_result_says_what_to_widen(club: Club) -> None:
    alice = club.fake.world.alice
    seventies = await run(
        club, "recommend", alice, theme="live-on-stage", decade=1970, kind="concert film", max_runtime=120, count=10
    )
    assert seventies.embed["title"] == "Live on Stage · kind concert film, from the 1970s, up to 120 min"
    assert all("(197" in name for name in field_names(seventies))
    nothing = await run(club, "recommend", alice, theme="live-on-stage", decade=1920)
    assert nothing.ephemeral
    assert nothing.text.startswith("No film in Live on Stage fits from the 1920s that the club hasn't watched.")
    assert "drop decade (" in nothing.text


async def test_paging_keeps_working_after_a_restart(club: Club) -> None:
    alice, bob = club.fake.world.alice, club.fake.world.bob
    shown = await run(club, "recommend", alice, theme="on-the-road", count=2)
    similar = await run(club, "similar", alice, title="the-last-waltz", count=5)
    tonight = await club.discord.command("/tonight", member=alice, options={"member1": bob, "count": 5})
    assert similar.embed["footer"]["text"].startswith("Picks 1–5 of ")
    assert tonight.embed["footer"]["text"].startswith("Picks 1–5 of ")
    await club.bot.restart()
    more = await shown.click("Next ▶", member=alice)
    assert more.response_type == 7
    assert more.message is not None and more.message.embeds[0]["fields"][0]["name"].startswith("3. ")
    for first in (similar, tonight):
        turned = await first.click("Next ▶", member=bob)
        assert turned.response_type == 7 and turned.message is not None
        page = turned.message.embeds[0]
        assert page["title"] == first.embed["title"]  # the same film, the same group
        assert page["fields"][0]["name"].startswith("6. ")
        assert page["footer"]["text"].startswith("Picks 6–10 of ")
        back = await turned.click("◀ Previous", member=bob)
        assert back.message is not None and back.message.embeds[0]["fields"][0]["name"].startswith("1. ")
    tail = await run(club, "recommend", alice, theme="on-the-road", count=10)
    while tail.message is not None and not next_button(tail).get("disabled"):
        tail = await tail.click("Next ▶", member=alice)
    assert tail.message is not None
    last_shown = re.search(r"Picks \d+–(\d+) of (\d+)", tail.message.embeds[0]["footer"]["text"])
    assert last_shown is not None and last_shown[1] == last_shown[2]  # Next is off on the last page only


# -- /theme -------------------------------------------------------------------------------------------------------


async def test_theme_list_and_show_page_through_films(club: Club) -> None:
    bob = club.fake.world.bob
    listing = await run(club, "theme list", bob)
    assert listing.embed["title"] == "Themes"
    assert "**Live on Stage** — 59 films" in listing.embed["description"]
    assert listing.embed["footer"]["text"] == "Page 1 of 2 · 30 themes"
    second = await listing.click("Next ▶", member=bob)
    assert second.message is not None and second.message.embeds[0]["footer"]["text"] == "Page 2 of 2 · 30 themes"

    shown = await run(club, "theme show", bob, theme="on-the-road")
    assert shown.embed["title"] == "On the Road"
    assert shown.embed["description"].startswith("Buses, vans, chartered trains")
    assert "1. **Dont Look Back** (1967) · documentary · 96 min" in shown.embed["description"]
    turned = await shown.click("Next ▶", member=bob)
    assert turned.message is not None and "11. **" in turned.message.embeds[0]["description"]
    missing = await run(club, "theme show", bob, theme="krautrock")
    assert missing.ephemeral and missing.text.startswith("No theme named 'krautrock'.")


# -- /film, /similar ------------------------------------------------------------------------------------------------


async def test_film_autocomplete_tolerates_typos_and_tells_same_titles_apart(club: Club) -> None:
    alice = club.fake.world.alice
    waltz = await club.discord.autocomplete("/film", "title", "last walts", member=alice)
    assert waltz[0] == {"name": "The Last Waltz (1978)", "value": "the-last-waltz"}
    madonna = await club.discord.autocomplete("/film", "title", "in bed with madonna", member=alice)
    assert madonna[0]["name"] == "Madonna: Truth or Dare (1991) — “In Bed with Madonna”"
    twins = [c["name"] for c in await club.discord.autocomplete("/similar", "title", "notorious", member=alice)]
    assert "Notorious (1946)" in twins and "Notorious (2009)" in twins
    assert len(await club.discord.autocomplete("/film", "title", "the", member=alice)) <= 25


async def test_film_card_shows_the_club_and_its_buttons_work(club: Club) -> None:
    world = club.fake.world
    await club.rate(world.bob, "the-last-waltz", 4.5)
    await watch.add_to_watchlist(
        club.db, club.clock, club.fake.guild.id, world.carol.id, club.film_id("the-last-waltz")
    )
    card = await run(club, "film", world.alice, title="the-last-waltz")
    embed = card.embed
    assert embed["title"] == "The Last Waltz (1978)"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Directed by"] == "Martin Scorsese"
    assert fields["Runtime"] == "117 min" and fields["Kind"] == "concert film"
    assert fields["Themes"] == "Live on Stage, Band Dynamics, On the Road"
    assert fields["The club's rating"] == "4.5★ from 1 review"
    assert fields["On the watchlist of"] == f"<@{world.carol.id}>"
    assert fields["For the discussion"].startswith("• Who is this film really about")
    assert card.message is not None and card.message.allowed_mentions == {"parse": []}

    pinned = await card.click("Add to my watchlist", member=world.alice)
    assert pinned.ephemeral and pinned.text == "Added **The Last Waltz (1978)** to your watchlist."
    similar = await card.click("Similar films", member=world.alice)
    assert similar.ephemeral
    assert similar.embed["title"] == "Like The Last Waltz (1978)"
    assert "shares" in similar.embed["fields"][0]["value"]

    typo = await run(club, "film", world.alice, title="last walts")  # typed, not picked: one film is clearly meant
    assert not typo.ephemeral and typo.embed["title"] == "The Last Waltz (1978)"
    unclear = await run(club, "film", world.alice, title="notorius")  # two films are as close: the member chooses
    assert unclear.ephemeral and "Did you mean Notorious (1946), Notorious (2009)" in unclear.text


async def test_similar_ranks_with_reasons(club: Club) -> None:
    shown = await run(club, "similar", club.fake.world.alice, title="dont-look-back", count=4)
    assert shown.embed["title"] == "Like Dont Look Back (1967)"
    assert len(shown.embed["fields"]) == 4
    assert any("with Bob Dylan" in f["value"] for f in shown.embed["fields"])
    assert "Start a watch-party poll with these" in shown.button_labels()
    # Stop Making Sense shares only Jonathan Demme with The Silence of the Lambs: dozens of concert films come first.
    concert = await run(club, "similar", club.fake.world.alice, title="stop-making-sense", count=10)
    assert all(f["value"].startswith("*shares ") for f in concert.embed["fields"])
    assert "The Silence of the Lambs (1991)" not in " ".join(field_names(concert))
    assert concert.button_labels()[:3] == ["◀ Previous", "Next ▶", "Start a watch-party poll with these"]


# -- /surprise ------------------------------------------------------------------------------------------------------


async def test_surprise_draws_an_unwatched_film_and_draws_again(club: Club) -> None:
    world = club.fake.world
    drawn = await run(club, "surprise", world.alice, theme="artist-biopics")
    assert drawn.embed["title"].startswith("Surprise: ")
    why = next(f["value"] for f in drawn.embed["fields"] if f["name"] == "Why")
    assert why.startswith("the club hasn't seen it in Artist Biopics")
    first_title = drawn.embed["title"]
    again = await drawn.click("Another one", member=world.bob)
    assert again.response_type == 7  # the same message, redrawn
    assert again.message is not None and again.message.embeds[0]["title"] != first_title
    anywhere = await run(club, "surprise", world.alice)
    assert anywhere.embed["title"].startswith("Surprise: ")


# -- /forme ---------------------------------------------------------------------------------------------------------


async def test_for_me_explains_picks_from_my_ratings(club: Club) -> None:
    world = club.fake.world
    fresh = await run(club, "forme", world.owner, count=3)
    assert "haven't rated anything yet" in fresh.embed["description"]
    assert len(fresh.embed["fields"]) == 3

    await club.rate(world.carol, "gimme-shelter", 5)
    await club.rate(world.carol, "dont-look-back", 4.5)
    await club.rate(world.carol, "paterson", 1)
    mine = await run(club, "forme", world.carol, count=5)
    assert not mine.ephemeral
    assert mine.embed["title"] == "For you"
    assert mine.embed["author"]["name"] == "Picks for Carol"
    names = field_names(mine)
    assert not any(title in " ".join(names) for title in ("Gimme Shelter", "Dont Look Back", "Paterson"))
    assert any("because you gave" in f["value"] for f in mine.embed["fields"])
    more = await mine.click("Next ▶", member=world.carol)
    assert more.message is not None and more.message.embeds[0]["fields"][0]["name"].startswith("6. ")
    themed = await run(club, "forme", world.carol, theme="artist-biopics", count=2)
    assert themed.embed["title"] == "For you in Artist Biopics"


# -- /tonight -------------------------------------------------------------------------------------------------------


async def test_tonight_for_named_members_and_for_a_voice_channel(club: Club) -> None:
    world = club.fake.world
    await club.rate(world.alice, "monterey-pop", 5)
    named = await club.discord.command("/tonight", member=world.alice, options={"member1": world.bob, "count": 3})
    assert named.embed["title"] == "Tonight for Alice and Bob"
    first = named.embed["fields"][0]["value"]
    assert first.startswith("*suits ") and "match " in first
    assert ("Alice " in first and "Bob " in first) or "% each" in first  # equal matches name nobody
    seen = {"Monterey Pop (1968)", "Stop Making Sense (1984)"}  # Alice and Bob rated these
    assert not seen & {name.split(". ", 1)[1] for name in field_names(named)}
    assert "Start a watch-party poll with these" in named.button_labels()

    alone = await run(club, "tonight", world.alice)
    assert alone.ephemeral and "Name who is watching" in alone.text
    groups = club.query("SELECT count(*) FROM tonight_groups")
    nothing = await club.discord.command(
        "/tonight", member=world.alice, options={"member1": world.bob, "max_runtime": 1}
    )
    assert nothing.ephemeral and "raise max_runtime" in nothing.text
    assert club.query("SELECT count(*) FROM tonight_groups") == groups  # no answer, nothing stored

    voice = club.fake.world.voice
    empty = await club.discord.command("/tonight", member=world.alice, options={"channel": voice})
    assert empty.ephemeral and empty.text.startswith("Nobody is in Watch Party right now.")
    await club.fake.set_voice(world.bob, voice)
    await club.fake.set_voice(world.carol, voice)
    in_voice = await club.discord.command(
        "/tonight", member=world.alice, options={"channel": voice, "max_runtime": 100}
    )
    assert in_voice.embed["title"] == "Tonight for Bob and Carol"  # in the order they joined
    assert all("min" in f["value"] for f in in_voice.embed["fields"])
    plus = await club.discord.command(
        "/tonight", member=world.alice, options={"channel": voice, "member1": world.owner}
    )
    assert plus.embed["title"] == "Tonight for Bob, Carol and Olivia"
    await club.fake.set_voice(world.alice, voice)
    joined = await run(club, "tonight", world.alice)  # no options: the voice channel Alice sits in
    assert joined.embed["title"] == "Tonight for Bob, Carol and Alice"
    for member in (world.alice, world.bob, world.carol):
        await club.fake.set_voice(member, None)


# -- collections ----------------------------------------------------------------------------------------------------


async def test_moderators_build_a_collection_that_recommendations_use(club: Club) -> None:
    world = club.fake.world
    synced = {c["name"]: c for c in club.fake.synced_commands(club.fake.guild)}
    assert int(synced["collection"]["default_member_permissions"]) == 1 << 5  # Manage Server: a hint to clients
    assert synced["theme"].get("default_member_permissions") is None
    refused = await run(club, "collection create", world.alice, name="Friday Noir")
    assert refused.ephemeral and "Only moderators can do that" in refused.text
    assert club.query("SELECT count(*) FROM collections") == [(0,)]

    made = await run(club, "collection create", world.moderator, name="Friday Noir", description="Dark and late.")
    assert made.ephemeral and made.text == "Created the collection **Friday Noir**. Add films with `/collection add`."
    picked = await club.discord.autocomplete("/collection add", "collection", "frid", member=world.moderator)
    assert picked[0]["name"] == "Friday Noir (server collection · 0 films)"
    key = picked[0]["value"]
    for film in ("double-indemnity", "chinatown", "out-of-the-past"):
        added = await run(club, "collection add", world.moderator, collection=key, film=film)
        assert added.text.startswith("Added **")
    twice = await run(club, "collection add", world.moderator, collection="friday noir", film="chinatown")
    assert twice.text == "**Chinatown (1974)** is already in **Friday Noir**."

    themes = await club.discord.autocomplete("/recommend", "theme", "friday", member=world.alice)
    assert themes[0] == {"name": "Friday Noir (server collection · 3 films)", "value": key}
    shown = await run(club, "recommend", world.alice, theme=key)
    assert shown.embed["title"] == "Friday Noir"
    assert field_names(shown) == ["1. Double Indemnity (1944)", "2. Chinatown (1974)", "3. Out of the Past (1947)"]
    listing = await run(club, "theme show", world.alice, theme="Friday Noir")
    assert listing.embed["title"] == "Friday Noir (server collection)"

    removed = await run(club, "collection remove", world.moderator, collection=key, film="chinatown")
    assert removed.text == "Took **Chinatown (1974)** out of **Friday Noir** (2 films left)."
    deleted = await run(club, "collection delete", world.moderator, collection=key)
    assert deleted.text == "Deleted the collection **Friday Noir** (2 films were in it)."
    gone = await run(club, "recommend", world.alice, theme=key)
    assert gone.ephemeral and gone.text.startswith(f"No theme named '{key}'.")
    unknown = await run(club, "collection delete", world.moderator, collection="Friday Noir")
    assert unknown.ephemeral and "no collections yet" in unknown.text
