"""Base classes for components, so that a failing button answers the member like a failing command does."""

from __future__ import annotations

from typing import Any

import discord

from bot.ui.replies import report_error


class ClubView(discord.ui.View):
    """A view whose errors go through :func:`report_error` instead of discord.py's log-only default."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error)
