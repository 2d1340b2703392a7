"""Answering a member: ephemeral replies that work whether or not the interaction was already answered, and the one
place where errors become the short message a member reads."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import UserError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again in a moment."

#: Discord's code for an interaction it no longer knows: the 3-second deadline for the first answer passed and the
#: member's client already showed "This interaction failed". Nothing can reach that member through it any more.
UNKNOWN_INTERACTION = 10062


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


def is_expired(error: BaseException) -> bool:
    """Whether Discord refused an answer because the interaction had already expired (404, code 10062)."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    return isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION


def interaction_source(interaction: discord.Interaction) -> str:
    """What the member used, for the log: ``/review add``, or a component's or form's custom id."""
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    custom_id = interaction.data.get("custom_id") if interaction.data else None
    kind = "form" if interaction.type is discord.InteractionType.modal_submit else "component"
    return f"{kind} {custom_id}"


def log_too_slow(interaction: discord.Interaction) -> None:
    """One line, no traceback: a late answer is a performance problem to notice, not a bug to debug."""
    log.warning(
        "%s answered too late: Discord had already given up on the interaction (10062 Unknown interaction, "
        'more than 3 s after the member acted), so the member saw "This interaction failed"',
        interaction_source(interaction),
    )


class LateAutocompleteLog(logging.Filter):
    """discord.py sends autocomplete choices itself and logs a failure with its traceback, with no hook of ours in
    between. Attached to its ``discord.app_commands.tree`` logger, this turns the one failure that is no bug, choices
    that arrived after Discord gave up (10062), into the same one-line warning as a late command."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_expired(error) and record.args and isinstance(record.args, tuple):
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.msg = "autocomplete for /%s answered too late: Discord had already given up on it (10062)"
            record.args = (record.args[0],)
            record.exc_info = record.exc_text = None
        return True


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong, never leaving Discord's silent "This interaction failed".

    An interaction Discord has already given up on (10062) cannot carry any answer: that is logged as one line
    naming what was too slow, and nothing is sent again."""
    if is_expired(error):
        log_too_slow(interaction)
        return
    message = describe_error(error)
    command = interaction_source(interaction)
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
    except discord.HTTPException as exc:
        if is_expired(exc):
            log_too_slow(interaction)
        else:
            log.warning("could not deliver an error message for %s", command, exc_info=True)
