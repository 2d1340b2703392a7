"""The simulated world: users, a guild with roles, channels and members, and their Discord payloads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .snowflake import SnowflakeFactory, iso

JSON = dict[str, Any]


class Perm:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    CREATE_EVENTS = 1 << 44
    SEND_POLLS = 1 << 49
    # discord.Permissions.all().value for discord.py 2.7
    ALL = 8_866_461_766_385_663

    MEMBER_DEFAULT = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
        | CREATE_EVENTS
        | SEND_POLLS
    )
    BOT_DEFAULT = MEMBER_DEFAULT | MANAGE_MESSAGES | MANAGE_EVENTS | MANAGE_ROLES | MANAGE_CHANNELS


class ChannelType:
    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    PUBLIC_THREAD = 11
    STAGE = 13
    FORUM = 15


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def display_name(self) -> str:
        return self.global_name or self.username

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    def __repr__(self) -> str:
        return f"<FakeUser {self.username} id={self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    def __repr__(self) -> str:
        return f"<FakeRole {self.name} id={self.id}>"


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    type: int
    guild_id: int | None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    #: Discord permission overwrites: {"id", "type" (0 role, 1 member), "allow", "deny"} with int bit sets.
    overwrites: list[JSON] = field(default_factory=list)
    #: A thread's own state (PUBLIC_THREAD only): who opened it, whether it is archived, its auto-archive minutes.
    owner_id: int | None = None
    archived: bool = False
    auto_archive_duration: int = 4320

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_text(self) -> bool:
        return self.type in (
            ChannelType.TEXT,
            ChannelType.NEWS,
            ChannelType.DM,
            ChannelType.VOICE,
            ChannelType.PUBLIC_THREAD,
        )

    @property
    def is_thread(self) -> bool:
        return self.type == ChannelType.PUBLIC_THREAD

    def payload(self, *, permissions: int | None = None) -> JSON:
        if self.type == ChannelType.DM:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.payload() for user in self.recipients],
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {"id": str(o["id"]), "type": o["type"], "allow": str(o["allow"]), "deny": str(o["deny"])}
                for o in self.overwrites
            ],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.is_thread:
            data.pop("permission_overwrites")
            data.pop("position")
            data.update(
                {
                    "owner_id": str(self.owner_id),
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                    "message_count": 0,
                    "member_count": 1,
                    "total_message_sent": 0,
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": "2026-01-01T00:00:00+00:00",
                        "locked": False,
                    },
                }
            )
        elif self.type in (ChannelType.TEXT, ChannelType.NEWS):
            data.update({"topic": self.topic, "last_message_id": None, "rate_limit_per_user": 0})
        elif self.type in (ChannelType.VOICE, ChannelType.STAGE):
            data.update(
                {
                    "bitrate": 64000,
                    "user_limit": 0,
                    "rtc_region": None,
                    "video_quality_mode": 1,
                    "last_message_id": None,
                    "rate_limit_per_user": 0,
                }
            )
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def __repr__(self) -> str:
        return f"<FakeChannel #{self.name} id={self.id} type={self.type}>"


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    roles: list[FakeRole] = field(default_factory=list)
    nick: str | None = None
    joined_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def display_name(self) -> str:
        return self.nick or self.user.display_name

    def payload(self, *, include_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "roles": [str(role.id) for role in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if include_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def __repr__(self) -> str:
        return f"<FakeMember {self.user.username} id={self.id}>"


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int = 0
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    preferred_locale: str = "en-US"
    #: Who sits in which voice channel: user id -> channel id (see FakeDiscord.set_voice).
    voice_channels: dict[int, int] = field(default_factory=dict)

    # -- look-ups -------------------------------------------------------------------------------
    @property
    def everyone(self) -> FakeRole:
        return self.roles[0]

    def role(self, name_or_id: str | int) -> FakeRole:
        for role in self.roles:
            if name_or_id in (role.name, role.id):
                return role
        raise KeyError(f"no role {name_or_id!r} in guild {self.name}")

    def channel(self, name_or_id: str | int) -> FakeChannel:
        key = name_or_id.lstrip("#") if isinstance(name_or_id, str) else name_or_id
        for channel in self.channels:
            if key in (channel.name, channel.id):
                return channel
        raise KeyError(f"no channel {name_or_id!r} in guild {self.name}")

    def member(self, name_or_id: str | int) -> FakeMember:
        for member in self.members:
            if name_or_id in (member.user.username, member.id, member.nick):
                return member
        raise KeyError(f"no member {name_or_id!r} in guild {self.name}")

    def get_member(self, member_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.id == member_id), None)

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def get_role(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles if r.id == role_id), None)

    # -- permissions ----------------------------------------------------------------------------
    def permissions_for(self, member: FakeMember) -> int:
        """Guild-level permissions (there are no channel overwrites in the double)."""
        if member.id == self.owner_id:
            return Perm.ALL
        value = self.everyone.permissions
        for role in member.roles:
            value |= role.permissions
        if value & Perm.ADMINISTRATOR:
            return Perm.ALL
        return value

    def channel_permissions(self, member: FakeMember, channel: FakeChannel) -> int:
        """Permissions in a channel: guild-level, then @everyone, role and member overwrites, as Discord does."""
        value = self.permissions_for(member)
        if value == Perm.ALL:
            return value
        by_id = {o["id"]: o for o in channel.overwrites}
        everyone = by_id.get(self.id)
        if everyone is not None:
            value = (value & ~everyone["deny"]) | everyone["allow"]
        allow = deny = 0
        for role in member.roles:
            overwrite = by_id.get(role.id)
            if overwrite is not None and overwrite["type"] == 0:
                allow, deny = allow | overwrite["allow"], deny | overwrite["deny"]
        value = (value & ~deny) | allow
        own = by_id.get(member.id)
        if own is not None and own["type"] == 1:
            value = (value & ~own["deny"]) | own["allow"]
        return value

    # -- payloads -------------------------------------------------------------------------------
    def voice_state_payload(self, member: FakeMember, channel_id: int | None) -> JSON:
        """A voice state as GUILD_CREATE and VOICE_STATE_UPDATE carry it (channel_id None: left voice)."""
        return {
            "guild_id": str(self.id),
            "channel_id": str(channel_id) if channel_id is not None else None,
            "user_id": str(member.id),
            "member": member.payload(),
            "session_id": f"voice-{member.id}",
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": False,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }

    def partial_payload(self) -> JSON:
        return {"id": str(self.id), "locale": self.preferred_locale, "features": []}

    def create_payload(self, *, members: list[FakeMember], scheduled_events: list[JSON]) -> JSON:
        text_channels = [c for c in self.channels if c.type == ChannelType.TEXT]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [role.payload() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(text_channels[0].id) if text_channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "nsfw_level": 0,
            "incidents_data": None,
            "joined_at": iso(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "voice_states": [
                self.voice_state_payload(m, channel_id)
                for m in self.members
                if (channel_id := self.voice_channels.get(m.id)) is not None
            ],
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": scheduled_events,
            "soundboard_sounds": [],
            "embedded_activities": [],
            "activity_instances": [],
            "version": 1,
        }

    def __repr__(self) -> str:
        return f"<FakeGuild {self.name} id={self.id}>"


@dataclass(eq=False)
class World:
    """The default film-club guild every e2e test starts with."""

    guild: FakeGuild
    bot_member: FakeMember
    owner: FakeMember
    moderator: FakeMember
    alice: FakeMember
    bob: FakeMember
    carol: FakeMember
    general: FakeChannel
    picks: FakeChannel
    polls: FakeChannel
    voice: FakeChannel
    everyone_role: FakeRole
    moderator_role: FakeRole
    member_role: FakeRole
    bot_role: FakeRole

    @property
    def members(self) -> list[FakeMember]:
        return [self.owner, self.moderator, self.alice, self.bob, self.carol]


def build_default_world(
    ids: SnowflakeFactory, bot_user: FakeUser, *, guild_name: str = "Film Club", guild_id: int | None = None
) -> World:
    guild = FakeGuild(id=guild_id or ids.next(), name=guild_name)
    everyone = FakeRole(id=guild.id, name="@everyone", permissions=Perm.MEMBER_DEFAULT, position=0)
    member_role = FakeRole(id=ids.next(), name="Member", permissions=Perm.MEMBER_DEFAULT, position=1, mentionable=True)
    moderator_role = FakeRole(
        id=ids.next(),
        name="Moderator",
        permissions=Perm.MEMBER_DEFAULT | Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES | Perm.MANAGE_EVENTS,
        position=2,
        hoist=True,
        color=0x3498DB,
    )
    bot_role = FakeRole(
        id=ids.next(),
        name=bot_user.username,
        permissions=Perm.BOT_DEFAULT,
        position=3,
        managed=True,
        bot_id=bot_user.id,
    )
    guild.roles = [everyone, member_role, moderator_role, bot_role]

    def person(username: str, global_name: str, roles: list[FakeRole]) -> FakeMember:
        user = FakeUser(id=ids.next(), username=username, global_name=global_name)
        return FakeMember(user=user, guild_id=guild.id, roles=roles)

    owner = person("olivia", "Olivia", [member_role])
    moderator = person("maya", "Maya", [member_role, moderator_role])
    alice = person("alice", "Alice", [member_role])
    bob = person("bob", "Bob", [member_role])
    carol = person("carol", "Carol", [member_role])
    bot_member = FakeMember(user=bot_user, guild_id=guild.id, roles=[bot_role])
    guild.owner_id = owner.id
    guild.members = [owner, moderator, alice, bob, carol, bot_member]

    general = FakeChannel(id=ids.next(), name="general", type=ChannelType.TEXT, guild_id=guild.id, position=0)
    picks = FakeChannel(
        id=ids.next(), name="picks", type=ChannelType.TEXT, guild_id=guild.id, position=1, topic="Weekly picks"
    )
    polls = FakeChannel(id=ids.next(), name="polls", type=ChannelType.TEXT, guild_id=guild.id, position=2)
    voice = FakeChannel(id=ids.next(), name="Watch Party", type=ChannelType.VOICE, guild_id=guild.id, position=3)
    guild.channels = [general, picks, polls, voice]

    return World(
        guild=guild,
        bot_member=bot_member,
        owner=owner,
        moderator=moderator,
        alice=alice,
        bob=bob,
        carol=carol,
        general=general,
        picks=picks,
        polls=polls,
        voice=voice,
        everyone_role=everyone,
        moderator_role=moderator_role,
        member_role=member_role,
        bot_role=bot_role,
    )
