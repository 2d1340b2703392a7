"""Server-side checks that cogs run before acting; Discord's command visibility is only a hint."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.core import config, guilds
from bot.core.errors import UserError

if TYPE_CHECKING:
    from bot.client import FilmClubBot


def guild_id_of(interaction: discord.Interaction[FilmClubBot]) -> int:
    """The server the interaction came from; the club's data is per server, so DMs are refused."""
    if interaction.guild_id is None:
        raise UserError("This command only works inside a server.")
    return interaction.guild_id


def member_facts(interaction: discord.Interaction[FilmClubBot]) -> tuple[bool, set[int]]:
    """(has Manage Server or Administrator in this channel, the member's role ids): what the core's rules read."""
    permissions = interaction.permissions
    user = interaction.user
    role_ids = {role.id for role in user.roles} if isinstance(user, discord.Member) else set()
    return permissions.manage_guild or permissions.administrator, role_ids


async def ensure_moderator(interaction: discord.Interaction[FilmClubBot]) -> guilds.GuildSettings:
    """Refuse (with a member-facing message) unless the member is a moderator; return the server's settings."""
    settings = await guilds.get_settings(interaction.client.db, guild_id_of(interaction))
    manage_guild, role_ids = member_facts(interaction)
    guilds.require_moderator(settings, manage_guild=manage_guild, role_ids=role_ids)
    return settings


def bot_posting_permissions(channel: discord.abc.GuildChannel) -> dict[str, bool]:
    """The bot's own posting permissions in ``channel``, from the cache (roles and the channel's overwrites), keyed
    as :data:`bot.core.config.POSTING_PERMISSIONS`, which :func:`bot.core.config.require_postable` reads."""
    permissions = channel.permissions_for(channel.guild.me)
    return {name: bool(getattr(permissions, name)) for name in config.POSTING_PERMISSIONS}


def ensure_screening_channel(channel: discord.VoiceChannel | discord.StageChannel | None) -> None:
    """Refuse a screening's voice or stage channel the bot cannot see or join (nothing to check without one)."""
    if channel is None:
        return
    permissions = channel.permissions_for(channel.guild.me)
    granted = {name: bool(getattr(permissions, name)) for name in config.SCREENING_CHANNEL_PERMISSIONS}
    config.require_screening_channel(channel.name, granted)
