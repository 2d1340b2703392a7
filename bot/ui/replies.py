"""Answering a member: ephemeral replies that work whether or not the interaction was already answered, and the one
place where errors become the short message a member reads."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import UserError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again in a moment."


async def send_ephemeral(
    interaction: discord.Interaction, content: str | None = None, *, embed: discord.Embed | None = None
) -> None:
    """Reply only the member sees: the first response if it is still free, a follow-up otherwise."""
    embeds = [embed] if embed is not None else []
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(content or "", embeds=embeds, ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(content, embeds=embeds, ephemeral=True, allowed_mentions=mentions)


def _missing(permissions: list[str]) -> str:
    return ", ".join(name.replace("_", " ").replace("guild", "server").title() for name in permissions)


def describe_error(error: Exception) -> str | None:
    """The member-facing message for an error we expect, or ``None`` for a bug."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserError):
        return original.message
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_missing(error.missing_permissions)} permission to do that."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_missing(error.missing_permissions)} permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't make sense of {str(error.value)[:100]!r} there."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong, never leaving Discord's silent "This interaction failed"."""
    message = describe_error(error)
    command = (
        interaction.command.qualified_name
        if interaction.command
        else interaction.data and interaction.data.get("custom_id")
    )
    if message is None:
        log.error("unexpected error in %s", command, exc_info=error)
        message = UNEXPECTED
    else:
        log.debug("member error in %s: %s", command, message)
    if interaction.type is discord.InteractionType.autocomplete:
        if not interaction.response.is_done():
            await interaction.response.autocomplete([])
        return
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not deliver an error message for %s", command, exc_info=True)
