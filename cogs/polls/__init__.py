"""/poll: watch-party polls with persistent voting buttons, a counted and explained result, and a chart.

The voting components are persistent (``filmclub:poll:<id>:...``), so they keep working after a restart. Every vote
is committed to the database before the member's ephemeral confirmation is sent. Deadlines are persisted timers; the
close flips the poll and counts it in one transaction (bot.core.polls), then the board posts the result, disables the
voting components and hands the winner to the screenings feature.

The package: ``_cog`` (the commands, timers and the quick-poll form's submission), ``_components`` (buttons, menus,
the quick-poll form), ``_voting`` (what a click on the poll does), ``_acks`` (answering a burst of votes),
``_lifecycle`` (posting, live counts, closing, cancelling), ``_native`` (Discord's own polls) and ``_render``
(embeds, chart, text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._cog import Polls
from ._components import PickSelect, PollAction, PollFromFilms, RankSelect

if TYPE_CHECKING:
    from bot.client import FilmClubBot

__all__ = ["Polls", "setup"]


async def setup(bot: FilmClubBot) -> None:
    bot.add_dynamic_items(PickSelect, RankSelect, PollAction, PollFromFilms)
    await bot.add_cog(Polls(bot))
