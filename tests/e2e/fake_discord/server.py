"""FakeDiscord: a loopback stand-in for Discord's REST API v10, gateway and CDN.

Everything runs in the caller's event loop on 127.0.0.1 and a free port. The bot under test talks to it through
``DISCORD_API_BASE_URL``; tests drive members through :mod:`tests.e2e.harness` (or the methods here) and read back
what the bot did from the stores (``messages``, ``interactions``, ``scheduled_events``, ``requests`` ...).
"""

# ruff: noqa: ASYNC109 - every wait in the harness takes an explicit, bounded timeout by design

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.loopback import serve

from .faults import API_PREFIX, FaultInjector, normalise_route
from .gateway import Gateway, GatewaySession, Intents
from .http_util import json_response
from .interactions import (
    InteractionBuildError,
    Resolver,
    Upload,
    build_command_data,
    button_data,
    find_component,
    modal_submit_data,
    select_data,
)
from .snowflake import SnowflakeFactory, iso, shard_of, snowflake_time
from .store import (
    EPHEMERAL,
    LOADING,
    SUPPRESS_EMBEDS,
    CallbackAttempt,
    InteractionRecord,
    RecordedRequest,
    StoredAttachment,
    StoredImage,
    StoredMessage,
    SyncRecord,
)
from .validation import (
    FormErrors,
    read_image_data,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)
from .world import (
    JSON,
    ChannelType,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Perm,
    World,
    build_default_world,
)

log = logging.getLogger("fake_discord")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PARSED_BODY = web.RequestKey("parsed_body", object)

# Message flags a bot may set when it creates a message.
_CREATE_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | (1 << 12) | (1 << 15)  # + suppress notifications, components v2
_INTERACTION_MESSAGE_TYPES = {2: 20, 3: 0, 5: 0}  # application command -> CHAT_INPUT_COMMAND


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: FormErrors | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def response(self) -> web.Response:
        body = self.errors.payload() if self.errors else {"message": self.message, "code": self.code}
        return json_response(body, status=self.status)


def _not_found(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def _snowflake(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FakeDiscord:
    """The double. ``async with FakeDiscord() as fake:`` starts it; ``fake.api_base`` is what the bot uses."""

    def __init__(
        self,
        *,
        token: str | None = None,
        application_name: str = "filmclub",
        guild_name: str = "Film Club",
        interaction_deadline: float | None = 3.0,
        host: str = "127.0.0.1",
        shard_count: int = 1,
    ) -> None:
        self.ids = SnowflakeFactory()
        self.host = host
        self.port = 0
        self.application_id = self.ids.next()
        encoded_id = base64.b64encode(str(self.application_id).encode()).decode().rstrip("=")
        self.token = token or f"{encoded_id}.{secrets.token_urlsafe(5)}.{secrets.token_urlsafe(27)}"
        self.bot_user = FakeUser(id=self.application_id, username=application_name, bot=True)
        self.app_owner = FakeUser(id=self.ids.next(), username="club-dev", global_name="Club Dev")
        #: The shards the bot must use, as ``GET /gateway/bot`` recommends them; IDENTIFY is held to it.
        self.shard_count = shard_count
        self.world: World = build_default_world(self.ids, self.bot_user, guild_name=guild_name)
        self.guilds: dict[int, FakeGuild] = {self.world.guild.id: self.world.guild}
        #: Servers the bot was removed from (``remove_bot``): kept here, but no longer sent to the bot.
        self.removed_from: set[int] = set()
        self.channels: dict[int, FakeChannel] = {c.id: c for c in self.world.guild.channels}
        self.users: dict[int, FakeUser] = {m.user.id: m.user for m in self.world.guild.members}
        self.users[self.app_owner.id] = self.app_owner
        self.interaction_deadline = interaction_deadline

        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.commands: dict[int | None, list[JSON]] = {}
        self.sync_log: list[SyncRecord] = []
        self.scheduled_events: dict[int, JSON] = {}
        self.deleted_events: list[JSON] = []
        self.event_subscribers: dict[int, list[int]] = {}
        #: Every cover image Discord took, by its hash (an event's ``image``); ``event_cover(id)`` reads one back.
        self.images: dict[str, StoredImage] = {}
        self.cover_uploads: list[tuple[int, StoredImage]] = []  # (event id, image) for each cover taken, in order
        self.poll_votes: dict[int, dict[int, list[int]]] = {}
        self.cdn: dict[int, StoredAttachment] = {}
        self.cdn_downloads: list[int] = []  # attachment ids fetched from /cdn, in order (a bot may refuse before)
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.late_callbacks: list[InteractionRecord] = []
        self.role_changes: list[tuple[str, int, int]] = []
        self.typing: list[int] = []
        self.faults = FaultInjector()
        self.gateway = Gateway(self)

        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway-resume"

    @property
    def guild(self) -> FakeGuild:
        return self.world.guild

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway-resume", self.gateway.handle)
        app.router.add_get("/cdn/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        for method, path, handler in self._routes():
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner, self.port = await serve(app, self.host, shutdown_timeout=1.0)
        log.info("fake Discord listening on %s", self.base_url)
        return self

    async def close(self) -> None:
        for conn in list(self.gateway.connections):
            if not conn.ws.closed:
                await conn.ws.close(code=1001, message=b"double shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- waiting ----------------------------------------------------------------------------------
    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every request / gateway event)."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what or predicate}") from None
        return predicate()

    # -- the HTTP plumbing ------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        info = request.match_info
        resource = info.route.resource if info.route is not None else None
        template = resource.canonical if resource is not None else request.path
        started = time.perf_counter()
        body: Any = None
        fault = None
        if request.path.startswith(API_PREFIX):
            fault = self.faults.take(request.method, template, request.path)
        if fault is not None:
            response: web.StreamResponse = fault.response()
        else:
            try:
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
                if exc.errors:
                    log.warning("%s %s rejected: %s", request.method, request.path, exc.errors.summary())
            except web.HTTPException as exc:
                response = exc
        if not getattr(response, "prepared", False):
            response.headers.setdefault("Via", "1.1 google")
        if request.path.startswith(API_PREFIX):
            body = request.get(PARSED_BODY)
            record = RecordedRequest(
                method=request.method,
                path=request.path[len(API_PREFIX) :],
                route=normalise_route(template),
                status=response.status,
                at=started,
                query=dict(request.query),
                body=body,
                injected=fault is not None,
            )
            self.requests.append(record)
            if template == "/{tail}" or template.startswith("/{tail"):
                self.unknown_requests.append(record)
            await self.notify()
        return response

    async def _unknown(self, request: web.Request) -> web.Response:
        log.warning("unknown route %s %s", request.method, request.path)
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")

    async def _read(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes, str | None]]]:
        """The JSON body, plus files[n] parts of a multipart request (in index order)."""
        files: dict[int, tuple[str, bytes, str | None]] = {}
        body: Any = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                name = getattr(part, "name", None) or ""
                if name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                elif name.startswith("files["):
                    index = int(name[6:-1])
                    data = bytes(await part.read())  # type: ignore[union-attr]
                    filename = getattr(part, "filename", None) or f"file{index}"
                    files[index] = (filename, data, None)
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                body = json.loads(raw)
        request[PARSED_BODY] = body
        return body, [files[i] for i in sorted(files)]

    def _routes(self) -> list[tuple[str, str, Handler]]:
        a = self._authed
        return [
            ("GET", "/users/{user_id}", a(self._get_user)),
            ("POST", "/users/@me/channels", a(self._create_dm)),
            ("GET", "/oauth2/applications/@me", a(self._get_application)),
            ("GET", "/applications/@me", a(self._get_application)),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", a(self._get_gateway_bot)),
            # application commands
            ("GET", "/applications/{app_id}/commands", a(self._get_commands)),
            ("PUT", "/applications/{app_id}/commands", a(self._put_commands)),
            ("POST", "/applications/{app_id}/commands", a(self._post_command)),
            ("GET", "/applications/{app_id}/commands/{command_id}", a(self._get_command)),
            ("DELETE", "/applications/{app_id}/commands/{command_id}", a(self._delete_command)),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", a(self._get_commands)),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", a(self._put_commands)),
            ("POST", "/applications/{app_id}/guilds/{guild_id}/commands", a(self._post_command)),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands/permissions", a(self._get_command_permissions)),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}", a(self._get_command)),
            ("DELETE", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}", a(self._delete_command)),
            # interactions (no bot auth: the token in the URL is the credential)
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self._create_followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self._delete_webhook_message),
            # channels and messages
            ("GET", "/channels/{channel_id}", a(self._get_channel)),
            ("PATCH", "/channels/{channel_id}", a(self._edit_channel)),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", a(self._thread_from_message)),
            ("GET", "/channels/{channel_id}/messages", a(self._list_messages)),
            ("POST", "/channels/{channel_id}/messages", a(self._create_message)),
            ("GET", "/channels/{channel_id}/messages/{message_id}", a(self._get_message)),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", a(self._edit_message)),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", a(self._delete_message)),
            ("POST", "/channels/{channel_id}/typing", a(self._typing)),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", a(self._add_reaction)),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", a(self._remove_reaction)),
            ("POST", "/channels/{channel_id}/polls/{message_id}/expire", a(self._expire_poll)),
            ("GET", "/channels/{channel_id}/polls/{message_id}/answers/{answer_id}", a(self._poll_voters)),
            # guilds
            ("GET", "/guilds/{guild_id}", a(self._get_guild)),
            ("GET", "/guilds/{guild_id}/channels", a(self._get_guild_channels)),
            ("GET", "/guilds/{guild_id}/roles", a(self._get_guild_roles)),
            ("GET", "/guilds/{guild_id}/members", a(self._list_members)),
            ("GET", "/guilds/{guild_id}/members/{user_id}", a(self._get_member)),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", a(self._add_member_role)),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", a(self._remove_member_role)),
            ("GET", "/guilds/{guild_id}/scheduled-events", a(self._list_events)),
            ("POST", "/guilds/{guild_id}/scheduled-events", a(self._create_event)),
            ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", a(self._get_event)),
            ("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", a(self._edit_event)),
            ("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", a(self._delete_event)),
            ("GET", "/guilds/{guild_id}/scheduled-events/{event_id}/users", a(self._event_users)),
        ]

    def _authed(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self._check_auth(request)
            return await handler(request)

        wrapped.__name__ = handler.__name__
        return wrapped

    # -- look-ups ---------------------------------------------------------------------------------
    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.channels.get(_snowflake(request.match_info["channel_id"]) or 0)
        if channel is None:
            raise _not_found("Channel", 10003)
        return channel

    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.guilds.get(_snowflake(request.match_info["guild_id"]) or 0)
        if guild is None:
            raise _not_found("Guild", 10004)
        return guild

    def _message(self, channel: FakeChannel, message_id: str) -> StoredMessage:
        message = self.messages.get(_snowflake(message_id) or 0)
        if message is None or message.deleted or message.channel_id != channel.id:
            raise _not_found("Message", 10008)
        return message

    def member_of(self, user: FakeUser, guild: FakeGuild | None = None) -> FakeMember | None:
        guild = guild or self.guild
        return guild.get_member(user.id)

    def channel_permissions(self, member: FakeMember, channel: FakeChannel) -> int:
        guild = self.guilds[member.guild_id]
        return guild.channel_permissions(member, channel)

    async def set_voice(self, member: FakeMember, channel: FakeChannel | None) -> None:
        """Put a member in a voice channel (``None``: out of voice). A bot with the GUILD_VOICE_STATES intent gets
        VOICE_STATE_UPDATE, and every later GUILD_CREATE carries the voice state, as on Discord."""
        guild = self.guilds[member.guild_id]
        if channel is None:
            guild.voice_channels.pop(member.id, None)
        else:
            guild.voice_channels[member.id] = channel.id
        if self.gateway.has_intent(Intents.GUILD_VOICE_STATES, guild.id):
            payload = guild.voice_state_payload(member, channel.id if channel is not None else None)
            await self.gateway.dispatch("VOICE_STATE_UPDATE", payload)

    async def remove_member(self, member: FakeMember) -> None:
        """The member leaves the server (or is kicked): gone from the guild, its member routes answer 404 (10007), and
        a bot with the GUILD_MEMBERS intent gets GUILD_MEMBER_REMOVE, as on Discord (without it, nothing)."""
        guild = self.guilds[member.guild_id]
        guild.members.remove(member)
        guild.voice_channels.pop(member.id, None)
        if self.gateway.has_intent(Intents.GUILD_MEMBERS, guild.id):
            payload = {"guild_id": str(guild.id), "user": member.user.payload()}
            await self.gateway.dispatch("GUILD_MEMBER_REMOVE", payload)
        await self.notify()

    async def add_text_channel(
        self, name: str, *, overwrites: list[JSON] | None = None, kind: int = ChannelType.TEXT
    ) -> FakeChannel:
        """A new text channel (or, with ``kind``, a voice or stage one) in the Film Club guild (CHANNEL_CREATE is
        dispatched if the bot is connected).

        ``overwrites`` are Discord permission overwrites, e.g. deny the bot's role Send Messages:
        ``[{"id": world.bot_role.id, "type": 0, "allow": 0, "deny": Perm.SEND_MESSAGES}]``.
        """
        guild = self.guild
        channel = FakeChannel(
            id=self.ids.next(),
            name=name,
            type=kind,
            guild_id=guild.id,
            position=len(guild.channels),
            overwrites=list(overwrites or []),
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        await self.gateway.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_guild(self, name: str, *, shard: int | None = None) -> World:
        """Another server with the bot in it, peopled like Film Club (its own owner, moderator, members, channels and
        roles); with ``shard``, its id puts it on that shard of ``shard_count``. Add servers before the bot connects:
        a connected bot is not told (no GUILD_CREATE is sent)."""
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(shard, self.shard_count)
        world = build_default_world(self.ids, self.bot_user, guild_name=name, guild_id=guild_id)
        self.guilds[world.guild.id] = world.guild
        self.channels.update({c.id: c for c in world.guild.channels})
        self.users.update({m.user.id: m.user for m in world.guild.members if m.user.id != self.bot_user.id})
        return world

    def channel_messages(self, channel: FakeChannel | int, *, include_ephemeral: bool = False) -> list[StoredMessage]:
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and (include_ephemeral or not m.ephemeral)
        ]

    # -- gateway payloads ---------------------------------------------------------------------------
    def ready_payload(self, session: GatewaySession) -> JSON:
        user = self.bot_user.payload()
        user.update({"verified": True, "mfa_enabled": False, "email": None, "flags": 0})
        data: JSON = {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds_of(session)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["fake-discord",{}]'],
        }
        shard = session.identify.get("shard")
        if shard is not None:
            data["shard"] = shard
        return data

    def guilds_of(self, session: GatewaySession) -> list[FakeGuild]:
        """The servers a session gets (READY, GUILD_CREATE): those of its shard."""
        return [
            g
            for g in self.guilds.values()
            if shard_of(g.id, self.shard_count) == session.shard_id and g.id not in self.removed_from
        ]

    def guild_create_payloads(self, session: GatewaySession) -> list[JSON]:
        return [self.guild_create_payload(session, guild) for guild in self.guilds_of(session)]

    def guild_create_payload(self, session: GatewaySession, guild: FakeGuild) -> JSON:
        if session.intents & Intents.GUILD_MEMBERS:
            members = list(guild.members)
        else:  # without the privileged intent Discord only sends the bot itself (and voice members)
            members = [m for m in guild.members if m.id == self.bot_user.id or m.id in guild.voice_channels]
        events = [e for e in self.scheduled_events.values() if int(e["guild_id"]) == guild.id]
        return guild.create_payload(members=members, scheduled_events=events)

    # -- the bot removed from and added to servers, and outages -----------------------------------------------------
    async def remove_bot(self, guild: FakeGuild) -> None:
        """The bot is removed from the server (kicked, or the server deleted): GUILD_DELETE without ``unavailable``,
        as Discord sends it; later connections no longer get the server."""
        self.removed_from.add(guild.id)
        await self._guild_dispatch(guild, "GUILD_DELETE", {"id": str(guild.id)})

    async def guild_outage(self, guild: FakeGuild) -> None:
        """The server is unavailable (a Discord outage), the bot still in it: GUILD_DELETE with ``unavailable``."""
        await self._guild_dispatch(guild, "GUILD_DELETE", {"id": str(guild.id), "unavailable": True})

    async def add_bot(self, guild: FakeGuild) -> None:
        """The bot is added (back) to the server, or the server is available again after an outage: GUILD_CREATE
        with the whole server, as on Discord."""
        joined = guild.id in self.removed_from
        self.removed_from.discard(guild.id)
        session = self.gateway.session_for(guild.id)
        if session is None:
            raise RuntimeError("no gateway session for the server's shard")
        payload = self.guild_create_payload(session, guild)
        if joined:  # a server joined has no ``unavailable`` (discord.py then dispatches guild_join, not available)
            payload.pop("unavailable", None)
        await self._guild_dispatch(guild, "GUILD_CREATE", payload)

    async def _guild_dispatch(self, guild: FakeGuild, event: str, data: JSON) -> None:
        session = self.gateway.session_for(guild.id)
        if session is None:
            raise RuntimeError("no gateway session for the server's shard")
        await session.dispatch(event, data)
        await self.notify()

    def member_chunk_payload(self, request: JSON) -> JSON:
        guild = self.guilds.get(int(request.get("guild_id", 0))) or self.guild
        members = list(guild.members)
        if request.get("user_ids"):
            wanted = {int(x) for x in request["user_ids"]}
            members = [m for m in members if m.id in wanted]
        elif request.get("query"):
            query = str(request["query"]).lower()
            members = [m for m in members if m.user.username.lower().startswith(query)]
        limit = int(request.get("limit") or 0)
        if limit:
            members = members[:limit]
        data: JSON = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if request.get("nonce"):
            data["nonce"] = request["nonce"]
        return data

    async def _dispatch_message_event(self, event: str, message: StoredMessage) -> None:
        if message.ephemeral:
            return
        intent = Intents.GUILD_MESSAGES if message.guild_id else Intents.DIRECT_MESSAGES
        if not self.gateway.has_intent(intent, message.guild_id):
            return
        if event == "MESSAGE_DELETE":
            data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id:
                data["guild_id"] = str(message.guild_id)
        else:
            data = message.payload()
        await self.gateway.dispatch(event, data)

    # -- identity routes ------------------------------------------------------------------------
    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if user_id == "@me":
            payload = self.bot_user.payload()
            payload.update({"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None})
            return json_response(payload)
        user = self.users.get(_snowflake(user_id) or 0)
        if user is None:
            raise _not_found("User", 10013)
        return json_response(user.payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        del request
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "A film club bot (loopback double)",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": secrets.token_hex(32),
                "flags": 0,
                "owner": self.app_owner.payload(),
                "team": None,
                "bot": self.bot_user.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        del request
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        del request
        return json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
            }
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        body, _ = await self._read(request)
        user = self.users.get(_snowflake(body.get("recipient_id")) or 0)
        if user is None:
            raise _not_found("User", 10013)
        channel = self.dm_channel(user)
        return json_response(channel.payload())

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        for channel in self.channels.values():
            if channel.type == ChannelType.DM and channel.recipients == [user]:
                return channel
        channel = FakeChannel(id=self.ids.next(), name=f"dm-{user.username}", type=ChannelType.DM, guild_id=None)
        channel.recipients = [user]
        self.channels[channel.id] = channel
        return channel

    # -- application commands ---------------------------------------------------------------------
    def _scope(self, request: web.Request) -> int | None:
        if _snowflake(request.match_info["app_id"]) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        if _snowflake(guild_id) not in self.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return int(guild_id)

    def _stored_command(self, scope: int | None, data: JSON, existing: list[JSON]) -> JSON:
        kind = int(data.get("type", 1))
        previous = next((c for c in existing if c["name"] == data["name"] and c.get("type", 1) == kind), None)
        command: JSON = {
            "id": previous["id"] if previous else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": kind,
            "name": data["name"],
            "description": data.get("description", ""),
            "options": data.get("options", []),
            "default_member_permissions": data.get("default_member_permissions"),
            "dm_permission": data.get("dm_permission", True),
            "nsfw": data.get("nsfw", False),
            "contexts": data.get("contexts"),
            "integration_types": data.get("integration_types", [0]),
            "name_localizations": data.get("name_localizations"),
            "description_localizations": data.get("description_localizations"),
        }
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.get(self._scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body, _ = await self._read(request)
        payload: list[JSON] = body if isinstance(body, list) else []
        errors = validate_commands(payload)
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        existing = self.commands.get(scope, [])
        stored = [self._stored_command(scope, c, existing) for c in payload]
        self.commands[scope] = stored
        self.sync_log.append(SyncRecord(scope, [c["name"] for c in stored], time.perf_counter(), payload))
        await self.notify()
        return json_response(stored)

    async def _post_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        body, _ = await self._read(request)
        errors = validate_commands([body])
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        existing = self.commands.setdefault(scope, [])
        stored = self._stored_command(scope, body, existing)
        existing[:] = [c for c in existing if c["id"] != stored["id"]] + [stored]
        await self.notify()
        return json_response(stored, status=201)

    async def _get_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        command = next((c for c in self.commands.get(scope, []) if c["id"] == request.match_info["command_id"]), None)
        if command is None:
            raise _not_found("application command", 10063)
        return json_response(command)

    async def _delete_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        before = self.commands.get(scope, [])
        after = [c for c in before if c["id"] != request.match_info["command_id"]]
        if len(after) == len(before):
            raise _not_found("application command", 10063)
        self.commands[scope] = after
        return web.Response(status=204)

    async def _get_command_permissions(self, request: web.Request) -> web.Response:
        self._scope(request)
        return json_response([])

    def synced_commands(self, guild: FakeGuild | int | None = None) -> list[JSON]:
        """Commands visible in ``guild``: its guild commands first, then global ones."""
        guild_id = guild.id if isinstance(guild, FakeGuild) else guild
        commands = list(self.commands.get(guild_id, [])) if guild_id is not None else []
        names = {(c["name"], c.get("type", 1)) for c in commands}
        commands += [c for c in self.commands.get(None, []) if (c["name"], c.get("type", 1)) not in names]
        return commands

    def command_names(self, guild: FakeGuild | int | None = None) -> set[str]:
        """Every invocable chat-input path, e.g. {"help", "config channel", "config show"}."""
        guild_id = guild.id if isinstance(guild, FakeGuild) else (guild if guild is not None else self.guild.id)
        out: set[str] = set()

        def walk(prefix: str, options: list[JSON]) -> None:
            subs = [o for o in options if o["type"] in (1, 2)]
            if not subs:
                out.add(prefix)
            for sub in subs:
                walk(f"{prefix} {sub['name']}", sub.get("options", []))

        for command in self.synced_commands(guild_id):
            if command.get("type", 1) == 1:
                walk(command["name"], command.get("options", []))
        return out

    # -- building and dispatching interactions ----------------------------------------------------------
    def resolver(self, invoker: FakeMember | None, guild: FakeGuild | None = None) -> Resolver:
        return Resolver(
            guild or self.guild,
            self.store_upload,
            self.channel_permissions,
            lambda user: self.member_of(user, guild),
            invoker=invoker,
        )

    def store_upload(self, upload: Upload, *, channel_id: int = 0, ephemeral: bool = True) -> StoredAttachment:
        attachment_id = self.ids.next()
        stored = StoredAttachment(
            id=attachment_id,
            filename=upload.filename,
            data=upload.data,
            url=f"{self.base_url}/cdn/attachments/{channel_id}/{attachment_id}/{upload.filename}",
            content_type=upload.content_type,
            ephemeral=ephemeral,
        )
        self.cdn[attachment_id] = stored
        return stored

    def new_interaction(
        self,
        *,
        kind: int,
        data: JSON,
        member: FakeMember | FakeUser,
        channel: FakeChannel,
        message: StoredMessage | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        interaction_id = self.ids.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(40)
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        fake_member: FakeMember | None = None
        if guild is not None:
            if isinstance(member, FakeUser):
                found = guild.get_member(member.id)
                if found is None:
                    raise InteractionBuildError(f"{member} is not a member of {guild.name}")
                member = found
            fake_member = member
            perms = self.channel_permissions(member, channel)
            bot_perms = self.channel_permissions(guild.get_member(self.bot_user.id) or member, channel)
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": guild.partial_payload(),
                    "guild_locale": guild.preferred_locale,
                    "member": member.payload(permissions=perms),
                    "channel": channel.payload(permissions=perms),
                    "app_permissions": str(bot_perms),
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
            user = member.user
        else:
            user = member.user if isinstance(member, FakeMember) else member
            payload.update(
                {
                    "user": user.payload(),
                    "channel": channel.payload(),
                    "app_permissions": str(1 << 31 | 1 << 11 | 1 << 14 | 1 << 15),
                    "authorizing_integration_owners": {"1": str(user.id)},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = message.payload()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            member=fake_member,
            user=user,
            channel=channel,
            message_id=message.id if message is not None else None,
        )
        self.interactions[interaction_id] = record
        self._by_token[token] = record
        return record

    async def dispatch_interaction(self, record: InteractionRecord) -> InteractionRecord:
        guild_id = record.channel.guild_id
        if self.gateway.session_for(guild_id) is None:
            shard = shard_of(guild_id, self.shard_count) if guild_id else 0
            raise RuntimeError(f"the bot has no gateway session for shard {shard}: is it running and ready?")

        def stamp() -> None:
            record.dispatched_at = time.perf_counter()

        await self.gateway.dispatch("INTERACTION_CREATE", record.payload, on_send=stamp)
        return record

    def command_interaction(
        self,
        path: str,
        options: dict[str, Any] | None = None,
        *,
        member: FakeMember | FakeUser,
        channel: FakeChannel,
        focused: str | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        commands = self.synced_commands(guild)
        invoker = member if isinstance(member, FakeMember) else (self.member_of(member, guild) if guild else None)
        resolver = self.resolver(invoker, guild)
        data = build_command_data(commands, path, dict(options or {}), resolver, focused=focused)
        return self.new_interaction(
            kind=4 if focused is not None else 2, data=data, member=member, channel=channel, locale=locale
        )

    def component_interaction(
        self,
        message: StoredMessage,
        target: str,
        *,
        member: FakeMember | FakeUser,
        values: list[Any] | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        if message.deleted:
            raise InteractionBuildError(f"message {message.id} was deleted")
        channel = self.channels[message.channel_id]
        comp = find_component(message, target)
        invoker = member if isinstance(member, FakeMember) else None
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        data = button_data(comp) if values is None else select_data(comp, list(values), self.resolver(invoker, guild))
        return self.new_interaction(kind=3, data=data, member=member, channel=channel, message=message, locale=locale)

    def modal_interaction(
        self,
        source: InteractionRecord,
        values: dict[str, Any],
        *,
        member: FakeMember | FakeUser | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        modal = source.modal
        if modal is None:
            raise InteractionBuildError(f"interaction {source.id} was not answered with a modal")
        who: FakeMember | FakeUser = member or source.member or source.user
        invoker = who if isinstance(who, FakeMember) else None
        guild = self.guilds.get(source.channel.guild_id) if source.channel.guild_id is not None else None
        data = modal_submit_data(modal, values, self.resolver(invoker, guild))
        message = self.messages.get(source.message_id) if source.message_id else None
        return self.new_interaction(
            kind=5, data=data, member=who, channel=source.channel, message=message, locale=locale
        )

    # -- interaction callback -----------------------------------------------------------------------
    def _record_by_token(self, token: str) -> InteractionRecord:
        record = self._by_token.get(token)
        if record is None:
            raise _not_found("Webhook", 10015)
        return record

    async def _interaction_callback(self, request: web.Request) -> web.StreamResponse:
        record = self.interactions.get(_snowflake(request.match_info["interaction_id"]) or 0)
        now = time.perf_counter()
        body, files = await self._read(request)
        if record is None or record.token != request.match_info["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        response_type = body.get("type")
        if (
            self.interaction_deadline is not None
            and record.dispatched_at is not None
            and now - record.dispatched_at > self.interaction_deadline
            and record.response_type is None
        ):
            record.attempts.append(CallbackAttempt(now, 404, response_type, body))
            self.late_callbacks.append(record)
            raise ApiError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            record.attempts.append(CallbackAttempt(now, 400, response_type, body))
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        allowed = {
            1: {1},
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6, 7},
        }[record.type]
        if response_type not in allowed:
            record.attempts.append(CallbackAttempt(now, 400, response_type, body))
            raise ApiError(
                400, 50035, f"Interaction response type {response_type} is invalid for interaction type {record.type}"
            )
        data: JSON = body.get("data") or {}
        message: StoredMessage | None = None
        ephemeral = False
        if response_type in (4, 5):
            flags = int(data.get("flags") or 0)
            ephemeral = bool(flags & EPHEMERAL)
            if response_type == 4:
                errors = validate_message(data, creating=True, file_count=len(files), prefix="data.")
                if errors:
                    record.attempts.append(CallbackAttempt(now, 400, response_type, body))
                    raise ApiError(400, 50035, "Invalid Form Body", errors)
            message = self._new_message(record.channel, interaction=record, ephemeral=ephemeral)
            if response_type == 4:
                self._apply_body(message, data, files, creating=True, interaction=True)
            else:
                message.flags = LOADING | (EPHEMERAL if ephemeral else 0)
            record.original_message_id = message.id
        elif response_type in (6, 7):
            if record.message_id is None:
                raise ApiError(400, 50035, "This interaction has no message to update")
            message = self.messages[record.message_id]
            ephemeral = message.ephemeral
            record.original_message_id = message.id
            if response_type == 7:
                errors = validate_message(data, creating=False, file_count=len(files), prefix="data.")
                if errors:
                    record.attempts.append(CallbackAttempt(now, 400, response_type, body))
                    raise ApiError(400, 50035, "Invalid Form Body", errors)
                self._apply_body(message, data, files, creating=False, interaction=True)
                message.edited_at = dt.datetime.now(dt.UTC)
                message.edits += 1
        elif response_type == 8:
            errors = validate_choices(data)
            if errors:
                record.attempts.append(CallbackAttempt(now, 400, response_type, body))
                raise ApiError(400, 50035, "Invalid Form Body", errors)
        elif response_type == 9:
            errors = validate_modal(data)
            if errors:
                record.attempts.append(CallbackAttempt(now, 400, response_type, body))
                raise ApiError(400, 50035, "Invalid Form Body", errors)
        record.callback_at = now
        record.response_type = response_type
        record.response_data = data
        record.attempts.append(CallbackAttempt(now, 200, response_type, body))
        record.responded.set()
        if message is not None and response_type == 4:
            self.messages[message.id] = message
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        elif message is not None and response_type == 5:
            self.messages[message.id] = message
        elif message is not None and response_type == 7:
            await self._dispatch_message_event("MESSAGE_UPDATE", message)
        await self.notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        result: JSON = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": str(message.id) if message is not None else None,
                "response_message_loading": response_type == 5,
                "response_message_ephemeral": ephemeral,
            }
        }
        if message is not None and response_type in (4, 5, 7):
            result["resource"] = {"type": response_type, "message": message.payload()}
        elif response_type == 9:
            result["resource"] = {"type": 9}
        return json_response(result)

    # -- messages: shared machinery ------------------------------------------------------------------
    def _new_message(
        self,
        channel: FakeChannel,
        *,
        interaction: InteractionRecord | None = None,
        ephemeral: bool = False,
        author: FakeUser | None = None,
    ) -> StoredMessage:
        author = author or self.bot_user
        guild = self.guilds.get(channel.guild_id) if channel.guild_id is not None else None
        message = StoredMessage(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            author_member=guild.get_member(author.id) if guild is not None else None,
            flags=EPHEMERAL if ephemeral else 0,
        )
        if interaction is not None:
            message.webhook_id = self.application_id
            message.application_id = self.application_id
            message.interaction_id = interaction.id
            message.type = _INTERACTION_MESSAGE_TYPES.get(interaction.type, 0)
            metadata: JSON = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
            }
            if interaction.type == 2:
                metadata["name"] = interaction.data.get("name")
                metadata["command_type"] = interaction.data.get("type", 1)
            if interaction.message_id is not None:
                metadata["interacted_message_id"] = str(interaction.message_id)
            message.interaction_metadata = metadata
        return message

    def _normalise_embed(self, embed: JSON, attachments: list[StoredAttachment]) -> JSON:
        out = dict(embed)
        out.setdefault("type", "rich")
        for key in ("image", "thumbnail"):
            media = out.get(key)
            if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                name = str(media["url"])[len("attachment://") :]
                match = next((a for a in attachments if a.filename == name), None)
                if match is not None:
                    out[key] = {**media, "url": match.url, "proxy_url": match.url, "width": 0, "height": 0}
        return out

    def _number_components(self, components: list[JSON]) -> list[JSON]:
        counter = 0

        def visit(comp: JSON) -> JSON:
            nonlocal counter
            counter += 1
            out = dict(comp)
            out.setdefault("id", counter)
            if isinstance(out.get("components"), list):
                out["components"] = [visit(c) for c in out["components"]]
            for key in ("accessory", "component"):
                if isinstance(out.get(key), dict):
                    out[key] = visit(out[key])
            return out

        return [visit(c) for c in components]

    def _apply_body(
        self,
        message: StoredMessage,
        body: JSON,
        files: list[tuple[str, bytes, str | None]],
        *,
        creating: bool,
        interaction: bool,
    ) -> None:
        message.touched_at = time.perf_counter()
        if "content" in body:
            message.content = body["content"] or ""
        if "attachments" in body or files:
            entries: list[JSON] | None = body.get("attachments")
            if entries is None:
                entries = [{"id": i, "filename": f[0]} for i, f in enumerate(files)]
            kept: list[StoredAttachment] = []
            existing = {a.id: a for a in message.attachments}
            for entry in entries:
                entry_id = _snowflake(entry.get("id"))
                if entry_id is not None and entry_id < len(files) and entry_id not in existing:
                    filename, data, content_type = files[entry_id]
                    stored = self.store_upload(
                        Upload(entry.get("filename") or filename, data, content_type),
                        channel_id=message.channel_id,
                        ephemeral=False,
                    )
                    stored.description = entry.get("description")
                    kept.append(stored)
                elif entry_id in existing:
                    kept.append(existing[entry_id])
            message.attachments = kept
        if "embeds" in body or "embed" in body:
            embeds = body.get("embeds")
            if embeds is None and body.get("embed") is not None:
                embeds = [body["embed"]]
            message.embeds = [self._normalise_embed(e, message.attachments) for e in (embeds or [])]
        if "components" in body:
            message.components = self._number_components(body.get("components") or [])
        if "flags" in body and body["flags"] is not None:
            flags = int(body["flags"])
            if creating:
                allowed = _CREATE_FLAGS if interaction else _CREATE_FLAGS & ~EPHEMERAL
                message.flags = (message.flags & (EPHEMERAL | LOADING)) | (flags & allowed)
            else:
                message.flags = (message.flags & ~SUPPRESS_EMBEDS) | (flags & SUPPRESS_EMBEDS)
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if creating:
            message.tts = bool(body.get("tts", False))
            message.nonce = body.get("nonce")
            message.message_reference = body.get("message_reference")
            if message.message_reference is not None:
                message.type = 19
            message.sticker_ids = [str(s) for s in body.get("sticker_ids") or []]
            if body.get("poll") is not None:
                message.poll = self._expand_poll(body["poll"], message.created_at)

    def _expand_poll(self, poll: JSON, created: dt.datetime) -> JSON:
        duration = float(poll.get("duration", 24) or 24)
        answers = [
            {"answer_id": index, "poll_media": answer.get("poll_media", {})}
            for index, answer in enumerate(poll.get("answers", []), start=1)
        ]
        return {
            "question": poll.get("question", {}),
            "answers": answers,
            "expiry": iso(created + dt.timedelta(hours=duration)),
            "allow_multiselect": bool(poll.get("allow_multiselect", False)),
            "layout_type": poll.get("layout_type", 1),
            "results": {
                "is_finalized": False,
                "answer_counts": [{"id": a["answer_id"], "count": 0, "me_voted": False} for a in answers],
            },
        }

    # -- channel message routes -------------------------------------------------------------------------
    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        return json_response(channel.payload())

    def threads_of(self, channel: FakeChannel) -> list[FakeChannel]:
        """The threads opened in a channel, oldest first."""
        return [c for c in self.channels.values() if c.is_thread and c.parent_id == channel.id]

    async def _thread_from_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{id}/threads: a public thread from a message; it takes the message's id.
        Discord's rules: Create Public Threads (and View Channel) on the parent, a name of 1 to 100 characters, an
        auto-archive duration of 60, 1440, 4320 or 10080 minutes, one thread a message (400 160004)."""
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        body, _files = await self._read(request)
        if channel.type not in (ChannelType.TEXT, ChannelType.NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        bot_member = self.guilds[channel.guild_id].get_member(self.bot_user.id) if channel.guild_id else None
        if bot_member is not None:
            granted = self.channel_permissions(bot_member, channel)
            needed = Perm.VIEW_CHANNEL | Perm.CREATE_PUBLIC_THREADS
            if granted & needed != needed:
                raise ApiError(403, 50013, "Missing Permissions")
        name = body.get("name") if isinstance(body, dict) else None
        duration = body.get("auto_archive_duration", 4320) if isinstance(body, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100 or duration not in (60, 1440, 4320, 10080):
            raise ApiError(400, 50035, "Invalid Form Body")
        if message.id in self.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        thread = FakeChannel(
            id=message.id,
            name=name,
            type=ChannelType.PUBLIC_THREAD,
            guild_id=channel.guild_id,
            parent_id=channel.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=duration,
        )
        self.channels[thread.id] = thread
        payload = thread.payload()
        await self.gateway.dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        await self.notify()
        return json_response(payload)

    async def _edit_channel(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}; the double knows threads' ``archived`` and ``auto_archive_duration`` (the thread's
        owner or Manage Threads), and answers THREAD_UPDATE."""
        channel = self._channel(request)
        body, _files = await self._read(request)
        if not channel.is_thread:
            raise ApiError(400, 50035, "Invalid Form Body")
        bot_member = self.guilds[channel.guild_id].get_member(self.bot_user.id) if channel.guild_id else None
        if bot_member is not None and channel.owner_id != self.bot_user.id:
            parent = self.channels[channel.parent_id or 0]
            if not self.channel_permissions(bot_member, parent) & Perm.MANAGE_THREADS:
                raise ApiError(403, 50013, "Missing Permissions")
        if "archived" in body:
            channel.archived = bool(body["archived"])
        if "auto_archive_duration" in body:
            channel.auto_archive_duration = int(body["auto_archive_duration"])
        payload = channel.payload()
        await self.gateway.dispatch("THREAD_UPDATE", payload)
        await self.notify()
        return json_response(payload)

    async def _list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = min(int(request.query.get("limit", 50)), 100)
        messages = sorted(self.channel_messages(channel), key=lambda m: m.id, reverse=True)
        if "before" in request.query:
            before = int(request.query["before"])
            messages = [m for m in messages if m.id < before]
        if "after" in request.query:
            after = int(request.query["after"])
            messages = sorted((m for m in messages if m.id > after), key=lambda m: m.id)
            messages = list(reversed(messages[:limit]))
        return json_response([m.payload() for m in messages[:limit]])

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body, files = await self._read(request)
        if not channel.is_text:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        bot_member = self.guilds[channel.guild_id].get_member(self.bot_user.id) if channel.guild_id else None
        if bot_member is not None:
            # In a thread, the parent's permissions apply, with Send Messages in Threads for Send Messages.
            parent = self.channels[channel.parent_id] if channel.is_thread and channel.parent_id else channel
            granted = self.channel_permissions(bot_member, parent)
            send = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
            if granted & (Perm.VIEW_CHANNEL | send) != Perm.VIEW_CHANNEL | send:
                raise ApiError(403, 50013, "Missing Permissions")
            if channel.is_thread and channel.archived:
                channel.archived = False  # as Discord: a message in an archived (unlocked) thread reopens it
        errors = validate_message(body, creating=True, file_count=len(files))
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        message = self._new_message(channel)
        self._apply_body(message, body, files, creating=True, interaction=False)
        self.messages[message.id] = message
        await self._dispatch_message_event("MESSAGE_CREATE", message)
        await self.notify()
        return json_response(message.payload())

    async def _get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        if message.ephemeral:
            raise _not_found("Message", 10008)
        return json_response(message.payload())

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        body, files = await self._read(request)
        if message.author.id != self.bot_user.id and set(body) - {"flags"}:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        errors = validate_message(body, creating=False, file_count=len(files))
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        self._apply_body(message, body, files, creating=False, interaction=False)
        message.edited_at = dt.datetime.now(dt.UTC)
        message.edits += 1
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        await self.notify()
        return json_response(message.payload())

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        message.deleted = True
        await self._dispatch_message_event("MESSAGE_DELETE", message)
        await self.notify()
        return web.Response(status=204)

    async def _typing(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.typing.append(channel.id)
        return web.Response(status=204)

    async def _add_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        message.reactions.setdefault(request.match_info["emoji"], set()).add(self.bot_user.id)
        await self.notify()
        return web.Response(status=204)

    async def _remove_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        message.reactions.get(request.match_info["emoji"], set()).discard(self.bot_user.id)
        await self.notify()
        return web.Response(status=204)

    # -- polls -----------------------------------------------------------------------------------
    async def _expire_poll(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        if message.poll is None:
            raise ApiError(400, 520001, "This message does not have a poll")
        if message.author.id != self.bot_user.id:
            raise ApiError(403, 50005, "Cannot expire a poll authored by another user")
        self.finalize_poll(message)
        await self._dispatch_message_event("MESSAGE_UPDATE", message)
        await self.notify()
        return json_response(message.payload())

    def finalize_poll(self, message: StoredMessage) -> None:
        assert message.poll is not None
        message.poll["expiry"] = iso()
        message.poll["results"]["is_finalized"] = True

    async def _poll_voters(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(channel, request.match_info["message_id"])
        voters = self.poll_votes.get(message.id, {}).get(int(request.match_info["answer_id"]), [])
        after = int(request.query.get("after", 0))
        limit = int(request.query.get("limit", 25))
        users = [self.users[u].payload() for u in sorted(voters) if u > after][:limit]
        return json_response({"users": users})

    async def vote(self, message: StoredMessage, answer_id: int, member: FakeMember | FakeUser) -> None:
        """A member votes in a poll: results update and MESSAGE_POLL_VOTE_ADD goes to the bot."""
        if message.poll is None or message.poll["results"]["is_finalized"]:
            raise InteractionBuildError("that poll is closed or missing")
        votes = self.poll_votes.setdefault(message.id, {})
        if not message.poll["allow_multiselect"]:
            for answer, voters in votes.items():
                if member.id in voters and answer != answer_id:
                    await self.unvote(message, answer, member)
        voters = votes.setdefault(answer_id, [])
        if member.id in voters:
            return
        voters.append(member.id)
        self._recount(message)
        if self.gateway.has_intent(Intents.GUILD_MESSAGE_POLLS, message.guild_id):
            await self.gateway.dispatch("MESSAGE_POLL_VOTE_ADD", self._vote_payload(message, answer_id, member))
        await self.notify()

    async def unvote(self, message: StoredMessage, answer_id: int, member: FakeMember | FakeUser) -> None:
        voters = self.poll_votes.get(message.id, {}).get(answer_id, [])
        if member.id not in voters:
            return
        voters.remove(member.id)
        self._recount(message)
        if self.gateway.has_intent(Intents.GUILD_MESSAGE_POLLS, message.guild_id):
            await self.gateway.dispatch("MESSAGE_POLL_VOTE_REMOVE", self._vote_payload(message, answer_id, member))
        await self.notify()

    def _recount(self, message: StoredMessage) -> None:
        assert message.poll is not None
        votes = self.poll_votes.get(message.id, {})
        message.poll["results"]["answer_counts"] = [
            {"id": a["answer_id"], "count": len(votes.get(a["answer_id"], [])), "me_voted": False}
            for a in message.poll["answers"]
        ]

    def _vote_payload(self, message: StoredMessage, answer_id: int, member: FakeMember | FakeUser) -> JSON:
        data: JSON = {
            "user_id": str(member.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "answer_id": answer_id,
        }
        if message.guild_id:
            data["guild_id"] = str(message.guild_id)
        return data

    # -- follow-ups and the original response ------------------------------------------------------
    def _webhook_record(self, request: web.Request) -> InteractionRecord:
        if _snowflake(request.match_info["app_id"]) != self.application_id:
            raise _not_found("Webhook", 10015)
        return self._record_by_token(request.match_info["token"])

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> StoredMessage:
        if message_id == "@original":
            if record.original_message_id is None:
                raise _not_found("Message", 10008)
            target = record.original_message_id
        else:
            target = _snowflake(message_id) or 0
            if target not in record.followup_ids and target != record.original_message_id:
                raise _not_found("Message", 10008)
        message = self.messages.get(target)
        if message is None or message.deleted:
            raise _not_found("Message", 10008)
        return message

    async def _create_followup(self, request: web.Request) -> web.StreamResponse:
        record = self._webhook_record(request)
        body, files = await self._read(request)
        if record.response_type is None:
            raise _not_found("Webhook", 10015)
        if record.response_type in (8, 9):
            raise ApiError(400, 50027, "Invalid Webhook Token")
        errors = validate_message(body, creating=True, file_count=len(files))
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        original = self.messages.get(record.original_message_id or 0)
        if record.response_type == 5 and original is not None and original.loading:
            # The first follow-up after a deferred "thinking" response becomes that message; its ephemeral
            # state is the one chosen at defer time.
            message = original
            message.flags &= ~LOADING
            self._apply_body(
                message, {k: v for k, v in body.items() if k != "flags"}, files, creating=True, interaction=True
            )
            message.created_at = dt.datetime.now(dt.UTC)
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        else:
            ephemeral = bool(int(body.get("flags") or 0) & EPHEMERAL)
            message = self._new_message(record.channel, interaction=record, ephemeral=ephemeral)
            self._apply_body(message, body, files, creating=True, interaction=True)
            self.messages[message.id] = message
            record.followup_ids.append(message.id)
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        await self.notify()
        if request.query.get("wait") in ("true", "1", "True"):
            return json_response(message.payload())
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        return json_response(message.payload())

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        body, files = await self._read(request)
        errors = validate_message(body, creating=False, file_count=len(files))
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        was_loading = message.loading
        message.flags &= ~LOADING
        self._apply_body(message, body, files, creating=False, interaction=True)
        if was_loading:
            message.created_at = dt.datetime.now(dt.UTC)
            await self._dispatch_message_event("MESSAGE_CREATE", message)
        else:
            message.edited_at = dt.datetime.now(dt.UTC)
            message.edits += 1
            await self._dispatch_message_event("MESSAGE_UPDATE", message)
        await self.notify()
        return json_response(message.payload())

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        message.deleted = True
        await self._dispatch_message_event("MESSAGE_DELETE", message)
        await self.notify()
        return web.Response(status=204)

    # -- guild routes -----------------------------------------------------------------------------
    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        payload = guild.create_payload(members=[], scheduled_events=[])
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "guild_scheduled_events",
            "stage_instances",
            "soundboard_sounds",
            "joined_at",
            "large",
            "member_count",
            "lazy",
        ):
            payload.pop(key, None)
        if request.query.get("with_counts") in ("true", "1"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return json_response(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([c.payload() for c in guild.channels])

    async def _get_guild_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([r.payload() for r in guild.roles])

    async def _list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        limit = min(int(request.query.get("limit", 1)), 1000)
        after = int(request.query.get("after", 0))
        members = sorted((m for m in guild.members if m.id > after), key=lambda m: m.id)[:limit]
        return json_response([m.payload() for m in members])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.get_member(_snowflake(request.match_info["user_id"]) or 0)
        if member is None:
            raise _not_found("Member", 10007)
        return json_response(member.payload())

    def _member_and_role(self, request: web.Request) -> tuple[FakeGuild, FakeMember, FakeRole]:
        guild = self._guild(request)
        member = guild.get_member(_snowflake(request.match_info["user_id"]) or 0)
        if member is None:
            raise _not_found("Member", 10007)
        role = guild.get_role(_snowflake(request.match_info["role_id"]) or 0)
        if role is None:
            raise _not_found("Role", 10011)
        bot = guild.get_member(self.bot_user.id)
        top = max((r.position for r in bot.roles), default=0) if bot else 0
        if role.position >= top or role.managed or role.id == guild.id:
            raise ApiError(403, 50013, "Missing Permissions")
        return guild, member, role

    async def _add_member_role(self, request: web.Request) -> web.Response:
        guild, member, role = self._member_and_role(request)
        if role not in member.roles:
            member.roles.append(role)
            self.role_changes.append(("add", member.id, role.id))
            await self._member_update(guild, member)
        return web.Response(status=204)

    async def _remove_member_role(self, request: web.Request) -> web.Response:
        guild, member, role = self._member_and_role(request)
        if role in member.roles:
            member.roles.remove(role)
            self.role_changes.append(("remove", member.id, role.id))
            await self._member_update(guild, member)
        return web.Response(status=204)

    async def _member_update(self, guild: FakeGuild, member: FakeMember) -> None:
        if self.gateway.has_intent(Intents.GUILD_MEMBERS, guild.id):
            await self.gateway.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(guild.id), **member.payload()})
        await self.notify()

    # -- scheduled events ---------------------------------------------------------------------------
    def _event(self, request: web.Request) -> tuple[FakeGuild, JSON]:
        guild = self._guild(request)
        event = self.scheduled_events.get(_snowflake(request.match_info["event_id"]) or 0)
        if event is None or int(event["guild_id"]) != guild.id:
            raise _not_found("Guild Scheduled Event", 10070)
        return guild, event

    def _event_payload(self, event: JSON, *, with_count: bool) -> JSON:
        out = dict(event)
        if with_count:
            out["user_count"] = len(self.event_subscribers.get(int(event["id"]), []))
        else:
            out.pop("user_count", None)
        return out

    def _validate_event(self, guild: FakeGuild, event: JSON, *, creating: bool) -> None:
        errors = FormErrors()
        name = str(event.get("name") or "")
        if not 1 <= len(name) <= 100:
            errors.add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if len(str(event.get("description") or "")) > 1000:
            errors.add("description", "BASE_TYPE_MAX_LENGTH", "Must be 1000 or fewer in length.")
        kind = event.get("entity_type")
        if kind == 3:
            if not (event.get("entity_metadata") or {}).get("location"):
                errors.add("entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required")
            if not event.get("scheduled_end_time"):
                errors.add("scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required")
            if event.get("channel_id"):
                errors.add("channel_id", "GUILD_SCHEDULED_EVENT_EXTERNAL_CHANNEL", "External events have no channel")
        elif kind in (1, 2):
            channel = guild.get_channel(_snowflake(event.get("channel_id")) or 0)
            expected = ChannelType.STAGE if kind == 1 else ChannelType.VOICE
            if channel is None or channel.type != expected:
                errors.add("channel_id", "CHANNEL_TYPE_INVALID", "Channel must be a voice or stage channel")
        else:
            errors.add("entity_type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        try:
            start = dt.datetime.fromisoformat(str(event.get("scheduled_start_time")))
        except ValueError:
            errors.add("scheduled_start_time", "DATE_TIME_TYPE_PARSE", "Could not parse the date/time")
        else:
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.UTC)
            if creating and start < dt.datetime.now(dt.UTC):
                errors.add(
                    "scheduled_start_time", "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past."
                )
            end_raw = event.get("scheduled_end_time")
            if end_raw:
                end = dt.datetime.fromisoformat(str(end_raw))
                end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
                if end <= start:
                    errors.add(
                        "scheduled_end_time", "GUILD_SCHEDULED_EVENT_END_BEFORE_START", "End must be after start"
                    )
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors)

    async def _list_events(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        with_count = request.query.get("with_user_count") in ("true", "1", "True")
        events = [
            self._event_payload(e, with_count=with_count)
            for e in self.scheduled_events.values()
            if int(e["guild_id"]) == guild.id
        ]
        return json_response(events)

    async def _create_event(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        body, _ = await self._read(request)
        self._validate_event(guild, body, creating=True)
        cover = self._read_cover(body)
        event_id = self.ids.next()
        event: JSON = {
            "id": str(event_id),
            "guild_id": str(guild.id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(self.bot_user.id),
            "creator": self.bot_user.payload(),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": 1,
            "entity_type": body["entity_type"],
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "image": None if cover is None else cover.hash,
            "recurrence_rule": body.get("recurrence_rule"),
            "user_count": 0,
        }
        self.scheduled_events[event_id] = event
        self.event_subscribers[event_id] = []
        if cover is not None:
            self.cover_uploads.append((event_id, cover))
        await self._event_dispatch("GUILD_SCHEDULED_EVENT_CREATE", event)
        await self.notify()
        return json_response(self._event_payload(event, with_count=False))

    def _read_cover(self, body: JSON) -> StoredImage | None:
        """The event's cover from the body's ``image`` (image data, checked as Discord does), or None without one.
        Discord keeps the image and names it by a hash; so does the double (``images``, ``event_cover``)."""
        raw = body.get("image")
        if raw is None:
            return None
        errors = FormErrors()
        read = read_image_data(errors, "image", raw)
        if read is None:
            raise ApiError(400, 50035, "Invalid Form Body", errors)
        content_type, data = read
        image = StoredImage(hashlib.blake2b(data, digest_size=16).hexdigest(), content_type, data)
        self.images[image.hash] = image
        return image

    def event_cover(self, event_id: int) -> StoredImage | None:
        """The cover image of a scheduled event (as uploaded), or None when it has none."""
        event = self.scheduled_events.get(event_id)
        if event is None:
            event = next((e for e in self.deleted_events if int(e["id"]) == event_id), None)
        image_hash = event.get("image") if event is not None else None
        return self.images.get(image_hash) if image_hash else None

    async def _get_event(self, request: web.Request) -> web.Response:
        _, event = self._event(request)
        with_count = request.query.get("with_user_count") in ("true", "1", "True")
        return json_response(self._event_payload(event, with_count=with_count))

    async def _edit_event(self, request: web.Request) -> web.Response:
        guild, event = self._event(request)
        body, _ = await self._read(request)
        await self._apply_event_edit(guild, event, body)
        return json_response(self._event_payload(event, with_count=False))

    async def _apply_event_edit(self, guild: FakeGuild, event: JSON, body: JSON) -> None:
        status = body.get("status")
        if status is not None:
            allowed = {1: {2, 4}, 2: {3}}.get(int(event["status"]), set())
            if int(status) != int(event["status"]) and int(status) not in allowed:
                raise ApiError(400, 180000, "Cannot update event status this way")
        updated = {**event, **{k: v for k, v in body.items() if k != "image"}}
        self._validate_event(guild, updated, creating=False)
        if "image" in body:  # a new cover, or null to remove it
            cover = self._read_cover(body)
            updated["image"] = None if cover is None else cover.hash
            if cover is not None:
                self.cover_uploads.append((int(event["id"]), cover))
        event.update(updated)
        await self._event_dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        await self.notify()

    async def _delete_event(self, request: web.Request) -> web.Response:
        _, event = self._event(request)
        await self._remove_event(event)
        return web.Response(status=204)

    async def _remove_event(self, event: JSON) -> None:
        del self.scheduled_events[int(event["id"])]
        self.deleted_events.append(event)
        await self._event_dispatch("GUILD_SCHEDULED_EVENT_DELETE", event)
        await self.notify()

    async def edit_event_as_moderator(self, event_id: int, **changes: Any) -> None:
        """A moderator edits a scheduled event in Discord's client (e.g. ``scheduled_start_time`` as an ISO
        string, or ``status``): the same rules as the bot's PATCH, and the same GUILD_SCHEDULED_EVENT_UPDATE."""
        event = self.scheduled_events[event_id]
        await self._apply_event_edit(self.guilds[int(event["guild_id"])], event, changes)

    async def delete_event_as_moderator(self, event_id: int) -> None:
        """A moderator deletes a scheduled event in Discord's client."""
        await self._remove_event(self.scheduled_events[event_id])

    async def _event_users(self, request: web.Request) -> web.Response:
        guild, event = self._event(request)
        limit = min(int(request.query.get("limit", 100)), 100)
        with_member = request.query.get("with_member") in ("true", "1", "True")
        ids = sorted(self.event_subscribers.get(int(event["id"]), []))
        if "before" in request.query:
            before = int(request.query["before"])
            ids = [i for i in ids if i < before][-limit:]
        elif "after" in request.query:
            after = int(request.query["after"])
            ids = [i for i in ids if i > after][:limit]
        else:
            ids = ids[:limit]
        out = []
        for user_id in ids:
            entry: JSON = {"guild_scheduled_event_id": event["id"], "user": self.users[user_id].payload()}
            member = guild.get_member(user_id)
            if with_member and member is not None:
                entry["member"] = member.payload(include_user=False)
            out.append(entry)
        return json_response(out)

    async def _event_dispatch(self, name: str, event: JSON) -> None:
        if self.gateway.has_intent(Intents.GUILD_SCHEDULED_EVENTS, int(event["guild_id"])):
            await self.gateway.dispatch(name, self._event_payload(event, with_count=False))

    async def subscribe(self, event_id: int, member: FakeMember | FakeUser) -> None:
        """A member clicks "Interested" on a scheduled event."""
        event = self.scheduled_events[event_id]
        subscribers = self.event_subscribers.setdefault(event_id, [])
        if member.id in subscribers:
            return
        subscribers.append(member.id)
        if self.gateway.has_intent(Intents.GUILD_SCHEDULED_EVENTS, int(event["guild_id"])):
            await self.gateway.dispatch(
                "GUILD_SCHEDULED_EVENT_USER_ADD",
                {"guild_scheduled_event_id": str(event_id), "user_id": str(member.id), "guild_id": event["guild_id"]},
            )
        await self.notify()

    async def unsubscribe(self, event_id: int, member: FakeMember | FakeUser) -> None:
        event = self.scheduled_events[event_id]
        subscribers = self.event_subscribers.setdefault(event_id, [])
        if member.id not in subscribers:
            return
        subscribers.remove(member.id)
        if self.gateway.has_intent(Intents.GUILD_SCHEDULED_EVENTS, int(event["guild_id"])):
            await self.gateway.dispatch(
                "GUILD_SCHEDULED_EVENT_USER_REMOVE",
                {"guild_scheduled_event_id": str(event_id), "user_id": str(member.id), "guild_id": event["guild_id"]},
            )
        await self.notify()

    # -- members acting outside interactions -----------------------------------------------------------
    async def post_as_member(self, member: FakeMember, channel: FakeChannel, content: str) -> StoredMessage:
        """A member writes in a channel: the bot gets MESSAGE_CREATE if it asked for GUILD_MESSAGES."""
        message = self._new_message(channel, author=member.user)
        message.content = content
        self.messages[message.id] = message
        if self.gateway.has_intent(Intents.GUILD_MESSAGES, channel.guild_id):
            payload = message.payload()
            if not self.gateway.has_intent(Intents.MESSAGE_CONTENT, channel.guild_id):
                payload["content"] = ""
            await self.gateway.dispatch("MESSAGE_CREATE", payload)
        await self.notify()
        return message

    # -- CDN ------------------------------------------------------------------------------------
    async def _cdn(self, request: web.Request) -> web.Response:
        stored = self.cdn.get(_snowflake(request.match_info["attachment_id"]) or 0)
        if stored is None or stored.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        self.cdn_downloads.append(stored.id)
        return web.Response(body=stored.data, content_type=stored.content_type or "application/octet-stream")

    # -- misc ------------------------------------------------------------------------------------
    def created_at(self, snowflake: int) -> dt.datetime:
        return snowflake_time(snowflake)
