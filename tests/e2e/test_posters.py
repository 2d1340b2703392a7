"""Posters, links and where to watch, end to end: the real bot against the loopback Discord and the loopback TMDb.

/film shows the poster, links, where to watch and TMDb's attribution; when TMDb is slow or down it still answers
within Discord's three seconds with what the catalog knows, and says the details could not be fetched. A screening's
Discord event takes the film's poster as its cover, and a generated card (title, year, theme) when the poster cannot
be had.
"""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.core.details import TMDB_ATTRIBUTION, WATCH_ATTRIBUTION
from bot.ui.films import DETAILS_UNAVAILABLE
from tests.catalog_builder import film, theme, to_toml, write_catalog
from tests.tmdb_double import TmdbDouble

from .conftest import LaunchBot
from .fake_discord import FakeDiscord, FakeMember
from .harness import BotProcess, DiscordDriver

pytestmark = pytest.mark.e2e

ALIEN_POSTER = "/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg"


def catalog(folder: Path) -> Path:
    films = [
        film("alien", title="Alien", year=1979, runtime=117, imdb="tt0078748", directors=["Ridley Scott"]),
        film("stop-making-sense", title="Stop Making Sense", year=1984, runtime=88, tmdb_id=24128),
        film("the-last-waltz", title="The Last Waltz", runtime=117),  # no ids: nothing to ask TMDb
    ]
    return write_catalog(folder, {"catalog.toml": to_toml(themes=[theme("live-on-stage")], films=films)})


@pytest.fixture
async def bot(launch_bot: LaunchBot, tmdb_double: TmdbDouble, tmp_path: Path) -> BotProcess:
    return await launch_bot(tmdb=tmdb_double, catalog=catalog(tmp_path / "catalog"))


@pytest.fixture
def discord(fake_discord: FakeDiscord, bot: BotProcess) -> DiscordDriver:
    del bot
    return DiscordDriver(fake_discord)


def fields(embed: dict[str, object]) -> dict[str, str]:
    return {str(f["name"]): str(f["value"]) for f in embed.get("fields", [])}  # type: ignore[attr-defined]


async def test_film_card_shows_poster_links_where_to_watch_and_attribution(
    discord: DiscordDriver, tmdb_double: TmdbDouble, alice: FakeMember
) -> None:
    card = await discord.command("/film", member=alice, options={"title": "alien"})
    embed = card.embed
    assert embed["thumbnail"]["url"] == f"{tmdb_double.image_base}/w500{ALIEN_POSTER}"
    shown = fields(embed)
    assert shown["Links"] == (
        "[Letterboxd](https://letterboxd.com/tmdb/348/) · [IMDb](https://www.imdb.com/title/tt0078748/)"
        " · [TMDB](https://www.themoviedb.org/movie/348)"
    )
    assert shown["Genres"] == "Horror, Science Fiction"
    watch = shown["Where to watch (US)"]
    assert "**Stream:** Hulu, Disney Plus" in watch and "**Rent:** Apple TV" in watch
    assert "**Buy:** Apple TV, Amazon Video" in watch
    assert TMDB_ATTRIBUTION in embed["footer"]["text"] and WATCH_ATTRIBUTION in embed["footer"]["text"]
    assert "Details" not in shown

    plain = await discord.command("/film", member=alice, options={"title": "the-last-waltz"})
    assert "thumbnail" not in plain.embed and "Links" not in fields(plain.embed)
    assert "footer" not in plain.embed  # no TMDb data shown, no attribution claimed


@pytest.mark.parametrize("fault", ["slow", "down"])
async def test_film_answers_in_time_when_tmdb_is_slow_or_down(
    discord: DiscordDriver, tmdb_double: TmdbDouble, alice: FakeMember, fault: str
) -> None:
    if fault == "slow":
        tmdb_double.slow("*", seconds=10)
    else:
        tmdb_double.fail("*", status=500, times=None)
    card = await discord.command("/film", member=alice, options={"title": "alien"})
    assert card.response_type == 4 and card.latency is not None and card.latency < 3.0
    shown = fields(card.embed)
    assert card.embed["title"] == "Alien (1979)" and shown["Directed by"] == "Ridley Scott"  # what the catalog knows
    assert shown["Details"] == DETAILS_UNAVAILABLE
    assert "[IMDb](https://www.imdb.com/title/tt0078748/)" in shown["Links"]  # links from the catalog's own id
    assert "thumbnail" not in card.embed

    if fault == "slow":
        return  # the slow request goes on in the background; the cache fills when it ends
    tmdb_double.clear_faults()  # TMDb is back: the next card has everything
    again = await discord.command("/film", member=alice, options={"title": "alien"})
    assert again.embed["thumbnail"]["url"].endswith(ALIEN_POSTER)
    assert "Details" not in fields(again.embed)


async def test_a_screenings_event_has_the_poster_as_its_cover(
    discord: DiscordDriver, fake_discord: FakeDiscord, tmdb_double: TmdbDouble, moderator: FakeMember
) -> None:
    reply = await discord.command(
        "/screening schedule", member=moderator, options={"film": "alien", "when": "2d", "location": "The cinema"}
    )
    assert "**Alien (1979)**" in reply.text
    (event_id,) = fake_discord.scheduled_events
    cover = fake_discord.event_cover(event_id)
    assert cover is not None and cover.content_type == "image/jpeg"
    async with aiohttp.ClientSession() as session, session.get(f"{tmdb_double.image_base}/w500{ALIEN_POSTER}") as got:
        assert cover.data == await got.read()  # the poster itself, uploaded as image data
    assert fake_discord.scheduled_events[event_id]["image"] == cover.hash


async def test_an_event_gets_a_generated_card_when_the_poster_cannot_be_had(
    discord: DiscordDriver, fake_discord: FakeDiscord, tmdb_double: TmdbDouble, bot: BotProcess, moderator: FakeMember
) -> None:
    tmdb_double.fail("image", status=500, times=None)
    reply = await discord.command(
        "/screening schedule", member=moderator, options={"film": "alien", "when": "2d", "location": "The cinema"}
    )
    assert "**Alien (1979)**" in reply.text and reply.ephemeral
    (event_id,) = fake_discord.scheduled_events
    await bot.wait_for_log(r"no cover", timeout=5)
    assert_card(fake_discord, event_id)

    unposted = await discord.command(
        "/screening schedule",
        member=moderator,
        options={"film": "the-last-waltz", "when": "3d", "location": "The cinema"},
    )
    assert "**The Last Waltz (1978)**" in unposted.text  # a film TMDb does not know: a card, nothing asked
    waltz = next(id_ for id_ in fake_discord.scheduled_events if id_ != event_id)
    assert_card(fake_discord, waltz)
    assert len(fake_discord.cover_uploads) == 2


def assert_card(fake_discord: FakeDiscord, event_id: int) -> None:
    """The event's cover is a generated card: a PNG of Discord's cover size, stored as the event's image."""
    cover = fake_discord.event_cover(event_id)
    assert cover is not None and cover.content_type == "image/png"
    assert Image.open(io.BytesIO(cover.data)).size == (800, 320)
    assert fake_discord.scheduled_events[event_id]["image"] == cover.hash


async def test_a_poll_links_its_films_and_its_result_shows_the_winners_poster(
    discord: DiscordDriver, fake_discord: FakeDiscord, tmdb_double: TmdbDouble, moderator: FakeMember, bob: FakeMember
) -> None:
    await discord.command("/film", member=bob, options={"title": "stop-making-sense"})  # its details are cached now
    reply = await discord.command(
        "/poll create",
        member=moderator,
        options={
            "title": "Friday",
            "deadline": "4s",
            "film1": "alien",
            "film2": "the-last-waltz",
            "film3": "stop-making-sense",
        },
    )
    message_id = int(reply.text.split("/")[-1].split()[0].strip(")"))
    message = fake_discord.messages[message_id]
    lines = message.embeds[0]["description"]
    assert "**[Alien (1979)](https://letterboxd.com/imdb/tt0078748/)** · 117 min" in lines  # from the catalog's id
    assert "**The Last Waltz (1978)** · 117 min" in lines  # no ids, no links
    assert (
        "**[Stop Making Sense (1984)](https://letterboxd.com/tmdb/24128/)** · 88 min · "
        "[IMDb](https://www.imdb.com/title/tt0088178/) · [TMDB](https://www.themoviedb.org/movie/24128)"
    ) in lines  # its IMDb id from the cached details
    assert TMDB_ATTRIBUTION in message.embeds[0]["footer"]["text"]
    await discord.click(message, "1. Alien (1979)", member=bob)
    result = await discord.wait_for_message(
        fake_discord.world.general, lambda m: m.id > message_id and bool(m.attachments), timeout=15
    )
    embed = result.embeds[0]
    assert embed["title"] == "🏆 Friday: Alien (1979)"
    assert embed["thumbnail"]["url"] == f"{tmdb_double.image_base}/w500{ALIEN_POSTER}"
    assert "[Letterboxd](https://letterboxd.com/tmdb/348/)" in embed["description"]
    assert TMDB_ATTRIBUTION in embed["footer"]["text"]


async def test_the_weekly_picks_post_links_its_films_and_shows_a_poster(
    discord: DiscordDriver, fake_discord: FakeDiscord, tmdb_double: TmdbDouble, moderator: FakeMember
) -> None:
    world = fake_discord.world
    await discord.invoke("config channel", as_member=moderator, kind="picks", channel=world.picks)
    await discord.invoke("config picks", as_member=moderator, count=3, poll=False)
    done = await discord.invoke("picks now", as_member=moderator)
    assert "Posted this week's picks" in done.text
    (post,) = fake_discord.channel_messages(world.picks)
    embed = post.embeds[0]
    shown = fields(embed)
    alien = next(value for name, value in shown.items() if "Alien (1979)" in name)
    assert (
        "[Letterboxd](https://letterboxd.com/tmdb/348/)" in alien
        and "[IMDb](https://www.imdb.com/title/tt0078748/)" in alien
    )
    waltz = next(value for name, value in shown.items() if "The Last Waltz" in name)
    assert "[IMDb]" not in waltz  # no ids, no links
    assert embed["thumbnail"]["url"].startswith(tmdb_double.image_base)  # the first pick's poster
    assert TMDB_ATTRIBUTION in embed["footer"]["text"] and "filmclub weekly picks" in embed["footer"]["text"]


async def test_discord_refusing_the_cover_still_gets_the_event_made(
    discord: DiscordDriver, fake_discord: FakeDiscord, bot: BotProcess, moderator: FakeMember
) -> None:
    fake_discord.faults.inject("POST /guilds/{guild_id}/scheduled-events", status=400, message="Invalid image data")
    reply = await discord.command(
        "/screening schedule", member=moderator, options={"film": "alien", "when": "2d", "location": "The cinema"}
    )
    assert "**Alien (1979)**" in reply.text
    (event_id,) = fake_discord.scheduled_events
    assert fake_discord.scheduled_events[event_id]["image"] is None
    created = [r for r in fake_discord.requests if r.method == "POST" and r.path.endswith("/scheduled-events")]
    assert [r.status for r in created] == [400, 200]
    assert isinstance(created[1].body, dict) and "image" not in created[1].body
    await bot.wait_for_log(r"Discord refused the event with its cover", timeout=5)
