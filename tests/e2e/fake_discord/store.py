"""What the double remembers: every message, interaction, response, follow-up, event and request."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .snowflake import iso
from .world import JSON, FakeChannel, FakeMember, FakeUser

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class StoredAttachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "flags": 0,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(frozen=True)
class StoredImage:
    """Image data Discord took (a scheduled event's cover): what was uploaded, and the hash Discord names it by."""

    hash: str
    content_type: str
    data: bytes


@dataclass(eq=False)
class StoredMessage:
    """A message as the double stores it. ``payload()`` renders it the way Discord's API does."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    poll: JSON | None = None
    allowed_mentions: JSON | None = None
    message_reference: JSON | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: JSON | None = None
    author_member: FakeMember | None = None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    edited_at: dt.datetime | None = None
    deleted: bool = False
    edits: int = 0
    reactions: dict[str, set[int]] = field(default_factory=dict)
    sticker_ids: list[str] = field(default_factory=list)
    nonce: str | int | None = None
    touched_at: float = field(default_factory=time.perf_counter)  # last create/edit, for the members' reaction time

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    def would_ping(self) -> tuple[list[int], list[int], bool]:
        """(user ids, role ids, @everyone) that this message actually pings, honouring allowed_mentions."""
        allowed = self.allowed_mentions
        users = [int(x) for x in _USER_MENTION.findall(self.content)]
        roles = [int(x) for x in _ROLE_MENTION.findall(self.content)]
        everyone = "@everyone" in self.content or "@here" in self.content
        if allowed is None:
            return users, roles, everyone
        parse = set(allowed.get("parse", []))
        allowed_users = {int(x) for x in allowed.get("users", [])}
        allowed_roles = {int(x) for x in allowed.get("roles", [])}
        users = [u for u in users if "users" in parse or u in allowed_users]
        roles = [r for r in roles if "roles" in parse or r in allowed_roles]
        return users, roles, everyone and "everyone" in parse

    def payload(self) -> JSON:
        users, roles, everyone = self.would_ping()
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": everyone,
            "mentions": [{"id": str(u), "username": str(u), "discriminator": "0", "avatar": None} for u in users],
            "mention_roles": [str(r) for r in roles],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "reactions": [
                {"emoji": {"id": None, "name": emoji}, "count": len(who), "me": False, "burst_count": 0}
                for emoji, who in self.reactions.items()
                if who
            ],
            "pinned": False,
            "flags": self.flags,
            "sticker_items": [],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
            if self.author_member is not None:
                data["member"] = self.author_member.payload(include_user=False)
        if self.poll is not None:
            data["poll"] = self.poll
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.nonce is not None:
            data["nonce"] = self.nonce
        return data

    # -- convenient read-back for assertions --------------------------------------------------
    def walk_components(self) -> Iterator[JSON]:
        yield from walk_components(self.components)

    def component(self, label_or_custom_id: str) -> JSON:
        """Find a component by custom_id, label, placeholder or an option label."""
        for comp in self.walk_components():
            if label_or_custom_id in (comp.get("custom_id"), comp.get("label"), comp.get("placeholder")):
                return comp
        names = [c.get("label") or c.get("custom_id") for c in self.walk_components() if "type" in c]
        raise LookupError(f"message {self.id} has no component {label_or_custom_id!r}; it has {names}")

    @property
    def text(self) -> str:
        """Content plus every embed/component text, flattened: handy for ``in`` assertions."""
        parts: list[str] = [self.content]
        for embed in self.embeds:
            parts.extend(_strings(embed))
        for comp in self.walk_components():
            for key in ("label", "placeholder", "content", "title"):
                if isinstance(comp.get(key), str):
                    parts.append(comp[key])
        if self.poll:
            parts.extend(_strings(self.poll))
        return "\n".join(p for p in parts if p)


def _strings(obj: Any) -> list[str]:
    out: list[str] = []
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("url", "proxy_url", "icon_url", "type", "color", "timestamp"):
                continue
            out.extend(_strings(value))
    elif isinstance(obj, list):
        for value in obj:
            out.extend(_strings(value))
    return out


def walk_components(components: list[JSON]) -> Iterator[JSON]:
    for comp in components:
        yield comp
        for key in ("components",):
            if isinstance(comp.get(key), list):
                yield from walk_components(comp[key])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from walk_components([comp[key]])
        if comp.get("type") == 3:
            yield from ({"_option": True, **opt} for opt in comp.get("options", []))


@dataclass(eq=False)
class CallbackAttempt:
    at: float
    status: int
    type: int | None
    body: JSON


@dataclass(eq=False)
class InteractionRecord:
    """One INTERACTION_CREATE the double sent and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: JSON
    member: FakeMember | None
    user: FakeUser
    channel: FakeChannel
    message_id: int | None = None  # for components / modal submits from a message
    dispatched_at: float | None = None  # perf_counter() when the dispatch hit the socket
    callback_at: float | None = None  # perf_counter() when the accepted callback arrived
    response_type: int | None = None
    response_data: JSON = field(default_factory=dict)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    attempts: list[CallbackAttempt] = field(default_factory=list)
    responded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def latency(self) -> float | None:
        if self.dispatched_at is None or self.callback_at is None:
            return None
        return self.callback_at - self.dispatched_at

    @property
    def choices(self) -> list[JSON] | None:
        return self.response_data.get("choices") if self.response_type == 8 else None

    @property
    def modal(self) -> JSON | None:
        return self.response_data if self.response_type == 9 else None

    @property
    def data(self) -> JSON:
        value: JSON = self.payload.get("data", {})
        return value


@dataclass(eq=False)
class RecordedRequest:
    method: str
    path: str
    route: str
    status: int
    at: float
    query: dict[str, str]
    body: Any = None
    injected: bool = False

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}{' (injected)' if self.injected else ''}>"


@dataclass(eq=False)
class SyncRecord:
    scope: int | None  # guild id, or None for global
    names: list[str]
    at: float
    payload: list[JSON]
