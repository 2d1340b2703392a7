"""How ratings and members' review text are shown: stars, spoilers, and text that can never ping anyone."""

from __future__ import annotations

import discord

from bot.ui.charts import bar_chart

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
    # words, not ★: the chart font has no star glyph
    labels = [f"{half / 2:g} star{'' if half == 2 else 's'}" for half in range(10, 0, -1)]
    peak = max(counts, default=0)
    highlight = [index for index, count in enumerate(counts) if peak and count == peak]
    return bar_chart(title, labels, counts, value_format="{:.0f}", highlight=highlight)
