"""The double itself, driven by a discord.py bot that uses every feature it models (tests/e2e/probe_bot.py).

These pin down that the payloads the double sends parse in discord.py and that what it records is what a member
would see, so the real bot's e2e tests can trust it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import aiohttp
import pytest

from tests.images import FORMATS, data_uri, image_bytes

from .conftest import LaunchBot
from .fake_discord import (
    Close,
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeRole,
    Intents,
    InteractionBuildError,
    Upload,
    World,
    shard_of,
)
from .harness import DiscordDriver

pytestmark = pytest.mark.e2e


@pytest.fixture
async def probe(fake_discord: FakeDiscord, launch_bot: LaunchBot) -> DiscordDriver:
    await launch_bot(kind="probe", catalog=None)
    return DiscordDriver(fake_discord)


async def test_options_of_every_type_are_typed_and_resolved(
    probe: DiscordDriver,
    moderator: FakeMember,
    alice: FakeMember,
    bob: FakeMember,
    member_role: FakeRole,
    picks: FakeChannel,
) -> None:
    reply = await probe.invoke(
        "probe echo",
        as_member=moderator,
        text="hi",
        count=3,
        ratio=0.5,
        flag=True,
        who=bob,
        role=member_role,
        where=picks,
        upload=Upload("note.txt", b"hello", "text/plain"),
    )
    assert reply.ephemeral
    seen = json.loads(reply.content)
    assert seen == {
        "text": "hi",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "who": "bob",
        "who_is_member": True,
        "role": "Member",
        "where": "picks",
        "invoker": "maya",
        "manage_guild": True,
        "app_send": True,
        "locale": "en-US",
        "upload": "hello",
    }
    as_alice = await probe.invoke(
        "probe echo", as_member=alice, text="x", count=1, ratio=1, flag=False, who=bob, role=member_role, where=picks
    )
    assert json.loads(as_alice.content)["manage_guild"] is False


async def test_the_tree_decides_what_a_member_can_send(probe: DiscordDriver) -> None:
    reply = await probe.invoke("probe settings set", key="Picks channel", value="x")
    assert reply.content == "picks=x"
    assert not reply.ephemeral
    with pytest.raises(InteractionBuildError, match="not one of the choices"):
        await probe.invoke("probe settings set", key="nope", value="x")
    with pytest.raises(InteractionBuildError, match="missing required"):
        await probe.invoke("probe settings set", key="polls")
    with pytest.raises(InteractionBuildError, match="is a group"):
        await probe.command("/probe settings")
    with pytest.raises(InteractionBuildError, match="did not sync"):
        await probe.command("/nope")


async def test_autocomplete_returns_the_bots_choices(probe: DiscordDriver) -> None:
    choices = await probe.autocomplete("/probe search", "title", "al")
    assert [c["name"] for c in choices] == ["Alien", "Aliens"]
    reply = await probe.command("/probe search", title=choices[0]["value"])
    assert reply.content == "you chose alien"


async def test_buttons_selects_and_modals(probe: DiscordDriver, bob: FakeMember) -> None:
    panel = await probe.command("/probe panel")
    assert panel.button_labels() == ["Update", "Slow", "Review"]

    updated = await panel.click("Update", member=bob)
    assert updated.response_type == 7
    assert panel.content == "updated by bob"
    assert panel.message is not None and panel.message.component("panel:update")["disabled"] is True
    with pytest.raises(InteractionBuildError, match="disabled"):
        await panel.click("Update")

    slow = await panel.click("Slow")
    assert slow.response_type == 6
    await slow.wait_edit(edits=2)
    assert panel.content == "slow edit done"

    genres = await panel.select("Pick genres", ["horror", "Comedy"])
    assert genres.content == "genres: horror,comedy" and genres.ephemeral
    with pytest.raises(InteractionBuildError, match="not an option"):
        await panel.select("panel:genre", ["western"])

    form = await panel.click("Review")
    assert form.modal["title"] == "Write a review"
    review = await form.submit_modal({"Film": "Alien", "review:body": "Still great."})
    assert review.content == "review of Alien: Still great."
    with pytest.raises(InteractionBuildError, match="required"):
        await form.submit_modal({"Film": "Alien"})


async def test_deferred_answers_and_follow_ups(probe: DiscordDriver) -> None:
    reply = await probe.command("/probe later")
    await reply.wait_followups(1)
    assert reply.response_type == 5
    assert reply.content == "first" and not reply.ephemeral  # the first follow-up fills the "thinking" message
    assert [m.content for m in reply.followups] == ["second"]
    assert reply.followups[0].ephemeral

    private = await probe.command("/probe later", private=True)
    assert private.ephemeral and private.content == "first"


async def test_files_are_stored_and_served(probe: DiscordDriver) -> None:
    reply = await probe.command("/probe file")
    assert reply.files == {"chart.txt": b"data!"}
    url = reply.embed["image"]["url"]
    assert url == reply.attachments[0].url
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert await response.read() == b"data!"


async def test_polls_are_posted_and_expired(probe: DiscordDriver, polls: FakeChannel) -> None:
    await probe.command("/probe poll", channel=polls)
    message = await probe.wait_for_message(polls, lambda m: m.poll is not None)
    assert message.poll is not None
    assert [a["poll_media"]["text"] for a in message.poll["answers"]] == ["Alien", "Brazil"]
    poll = message.poll
    await probe.wait_until(lambda: poll["results"]["is_finalized"], what="the poll to be expired")


async def test_scheduled_events_and_their_subscribers(
    probe: DiscordDriver, fake_discord: FakeDiscord, bob: FakeMember, carol: FakeMember
) -> None:
    reply = await probe.command("/probe event")
    (event_id,) = fake_discord.scheduled_events
    assert reply.content == f"event {event_id}"
    assert fake_discord.scheduled_events[event_id]["entity_metadata"] == {"location": "The cinema"}
    await fake_discord.subscribe(event_id, bob)
    await fake_discord.subscribe(event_id, carol)
    listed = await probe.command("/probe interested")
    assert listed.content == "interested: bob,carol"


async def test_rest_checks_like_discord(fake_discord: FakeDiscord) -> None:
    """Without a bot: auth, validation errors, unknown routes and injected faults."""
    api = fake_discord.api_base
    channel = fake_discord.world.general.id
    auth = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{api}/users/@me", headers={"Authorization": "Bot wrong"}) as response:
            assert response.status == 401
        async with session.post(f"{api}/channels/{channel}/messages", json={"content": "x" * 2001}, headers=auth) as r:
            assert r.status == 400
            body = await r.json()
            assert body["code"] == 50035 and "content" in body["errors"]
        async with session.post(f"{api}/channels/{channel}/messages", json={}, headers=auth) as r:
            assert r.status == 400
        fake_discord.faults.inject("POST /channels/{channel_id}/messages", status=429, retry_after=0.5)
        async with session.post(f"{api}/channels/{channel}/messages", json={"content": "hi"}, headers=auth) as r:
            assert r.status == 429
            assert r.headers["X-RateLimit-Remaining"] == "0" and r.headers["Via"]
            assert (await r.json())["global"] is False
        async with session.post(f"{api}/channels/{channel}/messages", json={"content": "hi"}, headers=auth) as r:
            assert r.status == 200
        async with session.get(f"{api}/no/such/route", headers=auth) as response:
            assert response.status == 404
    assert [r.path for r in fake_discord.unknown_requests] == ["/no/such/route"]
    fake_discord.unknown_requests.clear()  # this test hit it on purpose
    assert [m.content for m in fake_discord.channel_messages(fake_discord.world.general)] == ["hi"]


async def test_event_covers_are_image_data_checked_like_discord(fake_discord: FakeDiscord) -> None:
    """A scheduled event's cover is image data (a data URI): PNG, JPEG, GIF or WebP that really is an image, at most
    10 MiB. Discord keeps it under a hash, and so does the double; a PATCH replaces it, or removes it with null."""
    api, guild = fake_discord.api_base, fake_discord.guild.id
    auth = {"Authorization": f"Bot {fake_discord.token}"}
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    end = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1, hours=2)).isoformat()
    event = {
        "name": "Alien (1979)",
        "scheduled_start_time": start,
        "scheduled_end_time": end,
        "privacy_level": 2,
        "entity_type": 3,
        "entity_metadata": {"location": "The cinema"},
    }
    url = f"{api}/guilds/{guild}/scheduled-events"
    async with aiohttp.ClientSession(headers=auth) as session:

        async def create(image: object) -> tuple[int, dict[str, Any]]:
            async with session.post(url, json={**event, "image": image}) as response:
                return response.status, await response.json()

        for content_type in FORMATS:
            data = image_bytes(content_type)
            status, body = await create(data_uri(data, content_type))
            assert status == 200, body
            cover = fake_discord.event_cover(int(body["id"]))
            assert cover is not None and cover.hash == body["image"] and len(cover.hash) == 32
            assert (cover.content_type, cover.data) == (content_type, data)
        created = len(fake_discord.scheduled_events)
        png = image_bytes("image/png")
        refused = [
            data_uri(png, "image/svg+xml"),  # not a type Discord takes
            data_uri(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),  # says PNG, is not an image
            data_uri(png[:40], "image/png"),  # cut short
            "https://example.com/poster.jpg",  # a URL is not image data
            base64.b64encode(png).decode(),  # neither is bare base64
            "",
        ]
        for image in refused:
            status, body = await create(image)
            assert (status, body["errors"]["image"]["_errors"][0]["code"]) == (400, "IMAGE_INVALID"), image[:40]
        status, body = await create(data_uri(png + bytes(10 * 1024 * 1024), "image/png"))
        assert (status, body["errors"]["image"]["_errors"][0]["code"]) == (400, "BINARY_TYPE_MAX_SIZE")
        assert len(fake_discord.scheduled_events) == created  # nothing refused was created

        status, body = await create(None)
        assert status == 200 and body["image"] is None
        event_id = int(body["id"])
        assert fake_discord.event_cover(event_id) is None
        gif = image_bytes("image/gif")
        async with session.patch(f"{url}/{event_id}", json={"image": data_uri(gif, "image/gif")}) as response:
            assert response.status == 200
            assert (await response.json())["image"] == fake_discord.scheduled_events[event_id]["image"]
        assert (cover := fake_discord.event_cover(event_id)) is not None and cover.data == gif
        async with session.patch(f"{url}/{event_id}", json={"image": "data:image/gif;base64,AAAA"}) as response:
            assert response.status == 400
        assert fake_discord.event_cover(event_id) == cover  # a refused edit changes nothing
        async with session.patch(f"{url}/{event_id}", json={"image": None}) as response:
            assert response.status == 200 and (await response.json())["image"] is None
        assert fake_discord.event_cover(event_id) is None


# -- shards ------------------------------------------------------------------------------------------------------------


class RawShard:
    """A bare gateway client for one shard, to see exactly what the double sends and refuses."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def identify(
        cls, http: aiohttp.ClientSession, fake: FakeDiscord, shard: list[int] | None, intents: int = Intents.GUILDS
    ) -> RawShard:
        ws = await http.ws_connect(f"{fake.gateway_url}?v=10&encoding=json")
        connection = cls(ws)
        assert (await connection.receive())["op"] == 10  # HELLO
        identify: dict[str, object] = {"token": fake.token, "intents": intents, "properties": {}}
        if shard is not None:
            identify["shard"] = shard
        await ws.send_json({"op": 2, "d": identify})
        return connection

    async def receive(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=10)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"closed with {self.ws.close_code}: {message.extra}")
        payload: dict[str, Any] = json.loads(message.data)
        return payload

    async def dispatches(self, count: int) -> list[tuple[str, dict[str, Any]]]:
        return [((p := await self.receive())["t"], p["d"]) for _ in range(count)]

    async def refused_with(self) -> int | None:
        message = await self.ws.receive(timeout=10)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return self.ws.close_code


@pytest.fixture
def sharded(fake_discord: FakeDiscord) -> tuple[FakeDiscord, World]:
    """The double with two shards: Film Club wherever its id puts it, and a second club on the other shard."""
    fake_discord.shard_count = 2
    other = 1 - shard_of(fake_discord.guild.id, 2)
    return fake_discord, fake_discord.add_guild("Second Club", shard=other)


async def test_snowflakes_can_be_made_for_a_chosen_shard(fake_discord: FakeDiscord) -> None:
    made = [fake_discord.ids.next_on_shard(shard, 5) for shard in (3, 0, 4, 4, 1)]
    assert [shard_of(snowflake, 5) for snowflake in made] == [3, 0, 4, 4, 1]
    assert made == sorted(made) and len(set(made)) == 5
    assert fake_discord.ids.next() > made[-1]  # later ids keep increasing
    with pytest.raises(ValueError, match=r"not one of 0\.\.4"):
        fake_discord.ids.next_on_shard(5, 5)


async def test_each_shard_gets_the_servers_of_its_shard_and_their_events(sharded: tuple[FakeDiscord, World]) -> None:
    fake, second = sharded
    film_club = fake.world
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{fake.api_base}/gateway/bot", headers={"Authorization": f"Bot {fake.token}"})
        assert (await response.json())["shards"] == 2
        intents = Intents.GUILDS | Intents.GUILD_MESSAGES
        shards = {s: await RawShard.identify(http, fake, [s, 2], intents) for s in (0, 1)}
        for shard_id, connection in shards.items():
            (ready, ready_data), (create, guild) = await connection.dispatches(2)
            mine = film_club if shard_of(film_club.guild.id, 2) == shard_id else second
            assert (ready, create) == ("READY", "GUILD_CREATE")
            assert ready_data["shard"] == [shard_id, 2]
            assert [g["id"] for g in ready_data["guilds"]] == [guild["id"]] == [str(mine.guild.id)]

        await fake.post_as_member(second.alice, second.general, "hello from the second club")
        await fake.post_as_member(film_club.alice, film_club.general, "hello from Film Club")
        for world in (second, film_club):  # each on its own shard's connection, and nowhere else
            event, message = (await shards[shard_of(world.guild.id, 2)].dispatches(1))[0]
            assert event == "MESSAGE_CREATE"
            assert (message["guild_id"], message["channel_id"]) == (str(world.guild.id), str(world.general.id))
        assert fake.gateway.session_for(second.guild.id) is fake.gateway.by_shard[shard_of(second.guild.id, 2)]


@pytest.mark.parametrize(
    ("shard", "code"),
    [
        (None, Close.SHARDING_REQUIRED),  # an unsharded IDENTIFY would get every server
        ([0, 1], Close.SHARDING_REQUIRED),  # fewer shards than Discord requires
        ([2, 2], Close.INVALID_SHARD),  # no such shard
        ([0, 3], Close.INVALID_SHARD),  # a count other than the bot's
        ([-1, 2], Close.INVALID_SHARD),
        (["0", 2], Close.INVALID_SHARD),
    ],
)
async def test_an_identify_with_a_wrong_shard_is_refused(
    sharded: tuple[FakeDiscord, World], shard: list[int] | None, code: int
) -> None:
    fake, _ = sharded
    async with aiohttp.ClientSession() as http:
        refused = await RawShard.identify(http, fake, shard)
        assert await refused.refused_with() == code
    assert fake.gateway.identify_count == 0 and fake.gateway.by_shard == {}
    assert [c for c, _ in fake.gateway.refusals] == [code]


async def test_a_shard_already_connected_is_refused_until_it_goes(sharded: tuple[FakeDiscord, World]) -> None:
    fake, _ = sharded
    async with aiohttp.ClientSession() as http:
        first = await RawShard.identify(http, fake, [1, 2])
        assert (await first.dispatches(1))[0][0] == "READY"
        second = await RawShard.identify(http, fake, [1, 2])
        assert await second.refused_with() == Close.INVALID_SHARD
        await first.ws.close()
        await fake.wait_until(lambda: not fake.gateway.by_shard[1].connected, what="shard 1's connection to close")
        again = await RawShard.identify(http, fake, [1, 2])  # as a restarted process does
        assert (await again.dispatches(1))[0][0] == "READY"
    assert fake.gateway.identify_count == 2
