"""The command tree: every slash command's errors end here and become a short ephemeral reply."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.ui.replies import report_error

if TYPE_CHECKING:
    from bot.client import FilmClubBot


class FilmClubTree(app_commands.CommandTree["FilmClubBot"]):
    """Known errors (``UserError``, permission and check failures) answer the member; the rest are logged."""

    async def on_error(
        self, interaction: discord.Interaction[FilmClubBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)
