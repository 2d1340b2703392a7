"""Discord's own polls (``/poll create native:true``): building one from our poll, and reading its final counts.

Discord keeps a native poll's votes; we end it at our deadline (or Discord expires it) and read the counts once
Discord has finalised them, either from the end call, from the message, or from the MESSAGE_UPDATE it sends.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.core import polls
from bot.core.films import Film
from bot.core.polls import Poll
from bot.core.tally import Method
from bot.ui.embeds import truncate

from ._render import film_label

log = logging.getLogger(__name__)


class NativePollPending(Exception):
    """Discord has not finalised a native poll's counts yet; the close timer retries (or MESSAGE_UPDATE closes it)."""

    def __init__(self, poll_id: int) -> None:
        super().__init__(f"native poll {poll_id} is not finalised yet")


def native_poll(poll: Poll, films: dict[int, Film], now: datetime) -> discord.Poll:
    """The Discord poll to post for ``poll``: one answer per film, lasting whole hours past our own deadline."""
    native = discord.Poll(
        question=truncate(poll.title, 300),
        duration=timedelta(hours=polls.native_duration_hours(now, poll.closes_at)),
        multiple=poll.method is Method.APPROVAL,
    )
    for candidate in poll.candidates:
        native.add_answer(text=polls.native_answer(film_label(films, candidate.film_id)))
    return native


async def end_and_count(http: discord.http.HTTPClient, poll: Poll) -> tuple[dict[int, int], int] | None:
    """End the Discord poll (if it still runs) and read its counts; None until Discord has finalised them."""
    if poll.message_id is None:
        return {}, 0
    try:
        data: Any = await http.end_poll(poll.channel_id, poll.message_id)
    except discord.NotFound:
        log.warning("the message of native poll %s is gone; closing it with no votes", poll.id)
        return {}, 0
    except discord.HTTPException:
        # Already expired (Discord refuses to end it twice): read the message as it is.
        data = await http.get_message(poll.channel_id, poll.message_id)
    return native_results(poll, data.get("poll"))


def native_results(poll: Poll, data: Any) -> tuple[dict[int, int], int] | None:
    """Film id -> votes from a Discord poll payload, once finalised; None before."""
    if not data:
        return None
    results = data.get("results") or {}
    if not results.get("is_finalized"):
        return None
    by_answer = {
        int(answer["answer_id"]): candidate.film_id
        for answer, candidate in zip(data.get("answers", []), poll.candidates, strict=False)
    }
    counts = dict.fromkeys(poll.film_ids, 0)
    for entry in results.get("answer_counts", []):
        film = by_answer.get(int(entry["id"]))
        if film is not None:
            counts[film] = int(entry.get("count", 0))
    return counts, sum(counts.values())
