"""How ratings and members' review text are shown (stars, spoilers, text that can never ping anyone), and how a
deleted review's public posts are taken down."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import discord

from bot.core.reviews import ReviewPost
from bot.ui.charts import bar_chart

log = logging.getLogger(__name__)

HISTOGRAM_FILE = "ratings.png"


def stars(half_stars: int) -> str:
    """A rating as stars: 9 half stars -> "★★★★½"."""
    return "★" * (half_stars // 2) + ("½" if half_stars % 2 else "")


def average(value: float) -> str:
    """A mean rating: "4.3★"."""
    return f"{value:.1f}★"


def safe_text(text: str) -> str:
    """Member-written text made inert: @everyone, @here, user and role mentions cannot ping (the bot also sends every
    message with mentions disabled; this keeps the text harmless wherever it is shown)."""
    return discord.utils.escape_mentions(text)


def _escape_pipes(text: str) -> str:
    """Backslashes and pipes escaped (they render the same), so nothing inside can end a spoiler."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def spoiler(text: str) -> str:
    """Text hidden behind a Discord spoiler; pipes inside are escaped so the text cannot close the spoiler early."""
    return "||" + _escape_pipes(text) + "||"


def review_text(body: str | None, is_spoiler: bool, limit: int) -> str:
    """A review's text, safe, wrapped as a spoiler when flagged, and at most ``limit`` characters in all."""
    if not body:
        return ""
    text = safe_text(body)
    if not is_spoiler:
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    text = _escape_pipes(text)
    if len(text) > limit - 4:
        # never end on a lone backslash: it would escape the closing "||"
        text = text[: limit - 5].rstrip().rstrip("\\") + "…"
    return "||" + text + "||"


def histogram_png(title: str, histogram: tuple[int, ...]) -> bytes:
    """Ratings from 5★ down to ½★ as a bar chart; the most common rating in gold."""
    counts = list(reversed(histogram))
    labels = [f"{half / 2:g}★" for half in range(10, 0, -1)]
    peak = max(counts, default=0)
    highlight = [index for index, count in enumerate(counts) if peak and count == peak]
    return bar_chart(title, labels, counts, value_format="{:.0f}", highlight=highlight)


REMOVED_NOTICE = "*This review was removed.*"


@dataclass(frozen=True)
class TakeDown:
    """What became of a deleted review's public posts."""

    deleted: int = 0
    blanked: int = 0  # could not be deleted, so edited to say the review was removed
    failed: tuple[int, ...] = ()  # channel ids of posts left as they were

    def sentence(self) -> str:
        """For the member who deleted the review: what happened to its public posts."""
        parts = []
        if self.deleted:
            parts.append(
                "Its public post was deleted."
                if self.deleted == 1
                else f"Its {self.deleted} public posts were deleted."
            )
        if self.blanked:
            parts.append(
                f"{self.blanked} post{'s' if self.blanked != 1 else ''} could not be deleted, so "
                f"{'it now says' if self.blanked == 1 else 'they now say'} the review was removed."
            )
        if self.failed:
            where = ", ".join(sorted({f"<#{channel}>" for channel in self.failed}))
            parts.append(f"I couldn't take down its public post in {where}; please delete it by hand.")
        return " ".join(parts)


async def take_down_posts(client: discord.Client, guild_id: int, posts: Iterable[ReviewPost]) -> TakeDown:
    """Delete each public post of a deleted review; edit one that cannot be deleted to say the review was removed.
    A post that is already gone counts as deleted."""
    deleted = blanked = 0
    failed: list[int] = []
    for post in posts:
        message = client.get_partial_messageable(post.channel_id, guild_id=guild_id).get_partial_message(
            post.message_id
        )
        try:
            await message.delete()
            deleted += 1
            continue
        except discord.NotFound:
            deleted += 1
            continue
        except discord.HTTPException:
            log.warning("could not delete review post %s in %s", post.message_id, post.channel_id, exc_info=True)
        try:
            await message.edit(content=REMOVED_NOTICE, embeds=[], attachments=[], view=None)
            blanked += 1
        except discord.HTTPException:
            log.warning("could not blank review post %s in %s", post.message_id, post.channel_id, exc_info=True)
            failed.append(post.channel_id)
    return TakeDown(deleted, blanked, tuple(failed))
