"""The club's web page end to end: the real bot serves it (WEB_PORT) while members use Discord (the loopback).

One bot process for the module; the page is read over real HTTP on loopback, as a visitor's browser would.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.catalog_builder import film, theme, to_toml, write_catalog

from .fake_discord import FakeDiscord, FakeMember, StoredMessage
from .harness import BotProcess, DiscordDriver, Reply

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

HOSTILE_REVIEW = '<script>alert("pwned")</script><img src=x onerror=alert(1)> Great & "loud"'


def catalog(folder: Path) -> Path:
    films = [
        film("the-last-waltz", title="The Last Waltz", runtime=117, kind="concert film", year=1978, themes=["live"]),
        film("stop-making-sense", title="Stop Making Sense", year=1984, runtime=88, themes=["live"]),
        film("gimme-shelter", title="Gimme Shelter", year=1970, runtime=91, themes=["live"]),
    ]
    return write_catalog(folder, {"catalog.toml": to_toml(themes=[theme("live")], films=films)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Club:
    fake: FakeDiscord
    bot: BotProcess
    discord: DiscordDriver
    http: aiohttp.ClientSession
    base: str

    async def get(self, url: str) -> tuple[int, str]:
        async with self.http.get(url, allow_redirects=False) as response:
            return response.status, await response.text()

    async def page_showing(self, url: str, *wanted: str, within: float = 10.0) -> str:
        """The page once it shows every ``wanted`` text: a page is rendered anew at most every PAGE_CACHE_SECONDS."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            status, html = await self.get(url)
            assert status == 200
            if all(text in html for text in wanted):
                return html
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the page never showed {wanted}:\n{html}")
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def club(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Club]:
    workdir = tmp_path_factory.mktemp("web-e2e")
    port = free_port()
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        env = {"WEB_PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_RATE_LIMIT": "0"}
        bot = BotProcess(fake, workdir, kind="real", catalog=catalog(workdir / "catalog"), env=env)
        try:
            await bot.start(timeout=60)
            yield Club(fake, bot, DiscordDriver(fake), http, f"http://127.0.0.1:{port}")
        finally:
            await bot.aclose()
        assert not fake.unknown_requests, f"the bot called routes the double lacks: {fake.unknown_requests}"


@pytest.fixture
def world(club: Club) -> Any:
    return club.fake.world


ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/c/[A-Za-z0-9_-]{24}/")


async def configure(club: Club, member: FakeMember, **options: Any) -> Reply:
    return await club.discord.command("/config web", member=member, options=options)


async def address(club: Club, member: FakeMember) -> str:
    reply = await configure(club, member)
    found = ADDRESS.search(reply.text)
    assert found is not None, reply.text
    return found[0]


async def test_a_moderator_publishes_the_page_and_members_cannot(club: Club, world: Any) -> None:
    refused = await configure(club, world.alice, public=True)
    assert refused.ephemeral and "Only moderators" in refused.text

    reply = await configure(club, world.moderator, public=True)
    assert reply.ephemeral
    assert "Web page: off → on" in reply.text
    url = ADDRESS.search(reply.text)
    assert url is not None and url[0].startswith(club.base)
    status, html = await club.get(url[0])
    assert status == 200
    assert "<h1>Film Club</h1>" in html  # the server's name, from the bot's cache
    assert str(club.fake.guild.id) not in html and club.fake.token not in html

    shown = await club.discord.command("/config show", member=world.moderator)
    assert url[0] in shown.text


async def test_a_vote_cast_in_discord_shows_on_the_page(club: Club, world: Any) -> None:
    page = await address(club, world.moderator)
    created = await club.discord.command(
        "/poll create",
        member=world.moderator,
        options={"title": "Friday's screening", "deadline": "2d", "film1": "the-last-waltz", "film2": "gimme-shelter"},
    )
    message_id = int(created.text.split("/")[-1].split()[0].strip(")"))
    message: StoredMessage = club.fake.messages[message_id]

    await club.page_showing(page, "Friday&#39;s screening", "0 ballots so far")

    voted = await club.discord.click(message, "1. The Last Waltz (1978)", member=world.alice)
    assert voted.response_type == 6
    await voted.wait_followups(1)
    html = await club.page_showing(page, "1 ballot so far")
    assert re.search(r"The Last Waltz \(1978\)</a></span><span>1 · 100%</span>", html), html

    await (await club.discord.click(message, "2. Gimme Shelter (1970)", member=world.bob)).wait_followups(1)
    await club.page_showing(page, "2 ballots so far", "<span>1 · 50%</span>")


async def test_reviews_are_escaped_and_members_named_only_when_moderators_choose(club: Club, world: Any) -> None:
    page = await address(club, world.moderator)
    form = await club.discord.command(
        "/review add", member=world.carol, options={"film": "stop-making-sense", "rating": 4.5}
    )
    assert form.response_type == 9, form.text
    done = await form.submit_modal(
        {"review:rating": "9", "review:body": HOSTILE_REVIEW, "review:spoiler": "no"}, member=world.carol
    )
    assert done.response_type == 4, done.text

    html = await club.page_showing(page, "by a member")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "by a member" in html and world.carol.display_name not in html

    named = await configure(club, world.moderator, show_members=True)
    assert "Members' names on the web page: off → on" in named.text
    await club.page_showing(page, f"by {world.carol.display_name}")


async def test_rotating_retires_the_old_address_and_taking_it_down_ends_it(club: Club, world: Any) -> None:
    old = await address(club, world.moderator)
    rotated = await configure(club, world.moderator, rotate=True)
    new = ADDRESS.search(rotated.text)
    assert new is not None and new[0] != old
    assert (await club.get(old)) == (404, "Not found")
    assert (await club.get(new[0]))[0] == 200

    down = await configure(club, world.moderator, public=False)
    assert "Not public" in down.text and ADDRESS.search(down.text) is None
    assert (await club.get(new[0])) == (404, "Not found")
    back = await configure(club, world.moderator, public=True)
    again = ADDRESS.search(back.text)
    assert again is not None and again[0] not in (old, new[0])


async def test_a_web_port_already_taken_stops_the_start_with_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeDiscord() as fake:
            bot = BotProcess(fake, tmp_path, kind="real", env={"WEB_PORT": str(port)})
            try:
                await bot.start(wait_ready=False)
                assert await bot.wait_exit(timeout=60) == 2
            finally:
                await bot.aclose()
    output = bot.output_since_launch()
    assert f"filmclub: not starting: cannot serve the web pages on 127.0.0.1:{port}" in output
    assert "change WEB_HOST or WEB_PORT" in output and "Traceback" not in output
