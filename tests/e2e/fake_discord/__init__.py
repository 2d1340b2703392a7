"""A loopback stand-in for Discord (REST API v10, gateway, CDN) for end-to-end tests of the bot."""

from .faults import Fault, FaultInjector
from .gateway import Close, Gateway, GatewaySession, Intents
from .interactions import InteractionBuildError, Upload
from .server import FakeDiscord
from .snowflake import shard_of
from .store import (
    EPHEMERAL,
    LOADING,
    InteractionRecord,
    RecordedRequest,
    StoredAttachment,
    StoredImage,
    StoredMessage,
)
from .world import ChannelType, FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, Perm, World

__all__ = [
    "EPHEMERAL",
    "LOADING",
    "ChannelType",
    "Close",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Fault",
    "FaultInjector",
    "Gateway",
    "GatewaySession",
    "Intents",
    "InteractionBuildError",
    "InteractionRecord",
    "Perm",
    "RecordedRequest",
    "StoredAttachment",
    "StoredImage",
    "StoredMessage",
    "Upload",
    "World",
    "shard_of",
]
