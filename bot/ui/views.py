"""Base classes for components, so that a failing button answers the member like a failing command does."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import discord

from bot.ui.replies import report_error


class ClubView(discord.ui.View):
    """A view whose errors go through :func:`report_error` instead of discord.py's log-only default."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error)


class AnswersMember(ABC):
    """Mixed into a component (a button, a select, a DynamicItem): its callback runs :meth:`answer`, and any error
    becomes the same short ephemeral reply a failing command gets. discord.py only logs errors raised by DynamicItems
    (it dispatches them through a view it builds itself), so they need this rather than :class:`ClubView`."""

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.answer(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    @abstractmethod
    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        """Respond to the member's click or choice."""
