"""The gateway half of the double: HELLO, IDENTIFY, heartbeats, READY, dispatches, RESUME and compression."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import WSMsgType, web

from .snowflake import shard_of
from .world import JSON

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger("fake_discord.gateway")


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE = 3
    VOICE_STATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Close:
    """Close codes the double ends a connection with (https://discord.com/developers/docs/topics/opcodes-and-status-codes)."""

    #: The IDENTIFY named a shard that does not exist (``[id, count]`` malformed, ``id >= count``), a count other than
    #: the one the double's ``GET /gateway/bot`` recommends, or a shard another connection already runs.
    INVALID_SHARD = 4010
    #: The session would handle too many servers: the IDENTIFY had no shard, or fewer shards than recommended.
    SHARDING_REQUIRED = 4011


class Intents:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_VOICE_STATES = 1 << 7
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16
    GUILD_MESSAGE_POLLS = 1 << 24
    DIRECT_MESSAGE_POLLS = 1 << 25


class _Compressor(Protocol):
    def __call__(self, text: str) -> bytes | str: ...


def _make_compressor(kind: str | None) -> _Compressor:
    """One compression context per connection, like Discord's transport compression."""
    if kind in (None, ""):
        return lambda text: text
    if kind == "zlib-stream":
        context = zlib.compressobj()

        def zlib_compress(text: str) -> bytes:
            return context.compress(text.encode()) + context.flush(zlib.Z_SYNC_FLUSH)

        return zlib_compress
    if kind == "zstd-stream":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ValueError("zstd-stream requested but the zstandard module is not installed") from exc
        cobj = zstandard.ZstdCompressor().compressobj()

        def zstd_compress(text: str) -> bytes:
            out: bytes = cobj.compress(text.encode()) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
            return out

        return zstd_compress
    raise ValueError(f"unsupported transport compression {kind!r}")


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    compression: str | None
    compress: _Compressor
    path: str
    opened_at: float = field(default_factory=time.perf_counter)
    session: GatewaySession | None = None
    heartbeats: int = 0
    closed_by_double: int | None = None

    async def send(self, payload: JSON) -> None:
        data = self.compress(json.dumps(payload, separators=(",", ":")))
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)


@dataclass(eq=False)
class GatewaySession:
    """A gateway session survives its connection: dispatches queue up and are replayed on RESUME."""

    id: str
    identify: JSON
    seq: int = 0
    backlog: list[tuple[int, str, JSON]] = field(default_factory=list)
    connection: Connection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    resumes: int = 0
    replayed: list[tuple[int, str]] = field(default_factory=list)
    presence: JSON | None = None
    invalidated: bool = False

    @property
    def intents(self) -> int:
        value: int = self.identify.get("intents", 0)
        return value

    @property
    def shard_id(self) -> int:
        """The shard this session runs (0 for an IDENTIFY without ``shard``, as Discord treats it)."""
        shard: list[int] = self.identify.get("shard") or [0, 1]
        return shard[0]

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.ws.closed

    async def dispatch(self, event: str, data: JSON, *, on_send: Callable[[], None] | None = None) -> int:
        async with self.lock:
            self.seq += 1
            seq = self.seq
            self.backlog.append((seq, event, data))
            conn = self.connection
            if conn is not None and not conn.ws.closed:
                if on_send is not None:
                    on_send()
                try:
                    await conn.send({"op": Op.DISPATCH, "t": event, "s": seq, "d": data})
                except (ConnectionResetError, RuntimeError):
                    log.info("dispatch %s #%d queued: the connection went away", event, seq)
                    self.connection = None
            elif on_send is not None:
                on_send()  # it will go out on RESUME; latency then includes the outage, as on Discord
            return seq


class Gateway:
    """Owns the websocket endpoint and the sessions; ``FakeDiscord`` mounts ``handle`` at /gateway.

    One session per shard, as many at once as the bot has shards (from one process or several): a server's events
    go to the session of its shard, ``(guild_id >> 22) % shard_count``, and events of no server to shard 0.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None  # the session identified last
        self.by_shard: dict[int, GatewaySession] = {}  # each shard's latest session
        self.refusals: list[tuple[int, str]] = []  # (close code, reason) of every IDENTIFY refused
        self.connections: list[Connection] = []
        self.heartbeat_interval_ms = 41_250
        self.identify_count = 0
        self.resume_count = 0
        self.compressions: list[str | None] = []
        self.closes: list[int | None] = []
        self.member_requests: list[JSON] = []

    # -- state queries ------------------------------------------------------------------------
    async def _notify(self) -> None:
        await self.fake.notify()

    @property
    def connected(self) -> bool:
        return self.current is not None and self.current.connected

    # -- control ------------------------------------------------------------------------------
    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session Discord would send this server's events to (shard 0's for events of no server)."""
        return self.by_shard.get(shard_of(guild_id, self.fake.shard_count) if guild_id else 0)

    async def drop(self, *, code: int = 4000, message: str = "dropped by the double") -> None:
        """Close the live connection the way Discord does on a gateway hiccup (client then RESUMEs)."""
        session = self.current
        if session is None or session.connection is None:
            raise RuntimeError("no live gateway connection to drop")
        conn = session.connection
        async with session.lock:
            session.connection = None
        conn.closed_by_double = code
        await conn.ws.close(code=code, message=message.encode())
        await self._notify()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs."""
        session = self._require_session()
        assert session.connection is not None
        await session.connection.send({"op": Op.RECONNECT, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9: with resumable=False the client must IDENTIFY again (a fresh session)."""
        session = self._require_session()
        session.invalidated = not resumable
        assert session.connection is not None
        await session.connection.send({"op": Op.INVALID_SESSION, "d": resumable})

    def _require_session(self) -> GatewaySession:
        if self.current is None or not self.current.connected:
            raise RuntimeError("no live gateway session")
        return self.current

    async def dispatch(self, event: str, data: JSON, *, on_send: Callable[[], None] | None = None) -> int | None:
        """Send a dispatch on the session of the shard of its server (``data["guild_id"]``); it is queued for RESUME
        when that session's socket is down."""
        session = self.session_for(_guild_of(data))
        if session is None:
            log.debug("dropping %s: no gateway session for its shard yet", event)
            return None
        seq = await session.dispatch(event, data, on_send=on_send)
        await self._notify()
        return seq

    def has_intent(self, bit: int, guild_id: int | None = None) -> bool:
        """Whether the session that gets this server's events asked for the intent ``bit``."""
        session = self.session_for(guild_id)
        return session is not None and bool(session.intents & bit)

    # -- the websocket endpoint ---------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        encoding = request.query.get("encoding", "json")
        compression = request.query.get("compress")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if encoding != "json":
            await ws.close(code=4002, message=b"the double only speaks encoding=json")
            return ws
        try:
            compressor = _make_compressor(compression)
        except ValueError as exc:
            await ws.close(code=4000, message=str(exc).encode())
            return ws
        conn = Connection(ws=ws, compression=compression, compress=compressor, path=request.path)
        self.connections.append(conn)
        self.compressions.append(compression)
        await conn.send({"op": Op.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await self._on_message(conn, json.loads(msg.data.decode()))
                elif msg.type is WSMsgType.ERROR:
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
            self.closes.append(ws.close_code)
            await self._notify()
        return ws

    async def _on_message(self, conn: Connection, msg: JSON) -> None:
        op = msg.get("op")
        data: Any = msg.get("d")
        handlers: dict[int, Callable[[Connection, Any], Awaitable[None]]] = {
            Op.HEARTBEAT: self._on_heartbeat,
            Op.IDENTIFY: self._on_identify,
            Op.RESUME: self._on_resume,
            Op.PRESENCE: self._on_presence,
            Op.REQUEST_MEMBERS: self._on_request_members,
            Op.VOICE_STATE: self._ignore,
        }
        handler = handlers.get(op if isinstance(op, int) else -1)
        if handler is None:
            await conn.ws.close(code=4001, message=b"unknown opcode")
            return
        await handler(conn, data)

    async def _ignore(self, conn: Connection, data: Any) -> None:
        del conn, data

    async def _on_heartbeat(self, conn: Connection, data: Any) -> None:
        del data
        conn.heartbeats += 1
        await conn.send({"op": Op.HEARTBEAT_ACK})

    async def _on_presence(self, conn: Connection, data: Any) -> None:
        if conn.session is not None:
            conn.session.presence = data

    async def _on_identify(self, conn: Connection, data: JSON) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"already authenticated")
            return
        if data.get("token") != self.fake.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        refusal = self._shard_refusal(data.get("shard"))
        if refusal is not None:
            self.refusals.append(refusal)
            await conn.ws.close(code=refusal[0], message=refusal[1].encode())
            await self._notify()
            return
        session = GatewaySession(id=secrets.token_hex(16), identify=data)
        self.sessions[session.id] = session
        self.current = self.by_shard[session.shard_id] = session
        self.identify_count += 1
        async with session.lock:
            conn.session = session
            session.connection = conn
            session.seq += 1
            ready = self.fake.ready_payload(session)
            session.backlog.append((session.seq, "READY", ready))
            await conn.send({"op": Op.DISPATCH, "t": "READY", "s": session.seq, "d": ready})
            for guild_payload in self.fake.guild_create_payloads(session):
                session.seq += 1
                session.backlog.append((session.seq, "GUILD_CREATE", guild_payload))
                await conn.send({"op": Op.DISPATCH, "t": "GUILD_CREATE", "s": session.seq, "d": guild_payload})
        await self._notify()

    def _shard_refusal(self, shard: Any) -> tuple[int, str] | None:
        """Why Discord would refuse an IDENTIFY's ``shard`` (close code and reason), or None to accept it."""
        required = self.fake.shard_count
        if shard is None:
            if required > 1:
                return Close.SHARDING_REQUIRED, f"Sharding required: {required} shards"
            shard = [0, 1]
        if (
            not (isinstance(shard, list) and len(shard) == 2 and all(isinstance(n, int) for n in shard))
            or not 0 <= shard[0] < shard[1]
        ):
            return Close.INVALID_SHARD, f"Invalid shard {shard!r}"
        if shard[1] < required:
            return Close.SHARDING_REQUIRED, f"Sharding required: {required} shards, not {shard[1]}"
        if shard[1] != required:
            return Close.INVALID_SHARD, f"Invalid shard {shard!r}: the bot has {required} shards"
        live = self.by_shard.get(shard[0])
        if live is not None and live.connected:
            return Close.INVALID_SHARD, f"Invalid shard {shard!r}: already connected"
        return None

    async def _on_resume(self, conn: Connection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.fake.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None or session.invalidated or self.by_shard.get(session.shard_id) is not session:
            await conn.send({"op": Op.INVALID_SESSION, "d": False})
            return
        last = int(data.get("seq") or 0)
        async with session.lock:
            conn.session = session
            for seq, event, payload in session.backlog:
                if seq > last:
                    await conn.send({"op": Op.DISPATCH, "t": event, "s": seq, "d": payload})
                    session.replayed.append((seq, event))
            session.seq += 1
            session.backlog.append((session.seq, "RESUMED", {}))
            await conn.send({"op": Op.DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}})
            session.connection = conn
            session.resumes += 1
        self.resume_count += 1
        await self._notify()

    async def _on_request_members(self, conn: Connection, data: JSON) -> None:
        self.member_requests.append(data)
        session = conn.session
        if session is None:
            return
        chunk = self.fake.member_chunk_payload(data)
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)


def _guild_of(data: JSON) -> int | None:
    """The server a dispatch belongs to, by its ``guild_id`` (absent for DMs)."""
    guild_id = data.get("guild_id")
    return int(guild_id) if guild_id else None
