"""Embeds with the club's look, cut to Discord's limits so that a long catalog entry never fails a reply."""

from __future__ import annotations

import re

import discord

COLOUR = discord.Colour(0xC0392B)  # a cinema-curtain red

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_LIMIT = 25
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: Characters markdown gives a meaning to in Discord, brackets included (they make a masked link).
_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")


def literal(text: str) -> str:
    """Text a member supplied (a title from a file or a form), shown as written: every markdown character escaped,
    brackets too (a masked link stays text; ``discord.utils.escape_markdown`` leaves the text after a link as it is),
    and no mention can ping."""
    return discord.utils.escape_mentions(_MARKDOWN.sub(r"\\\1", text))


def club_embed(title: str, description: str | None = None) -> discord.Embed:
    return discord.Embed(
        title=truncate(title, TITLE_LIMIT),
        description=truncate(description, DESCRIPTION_LIMIT) if description else None,
        colour=COLOUR,
    )


def add_field(embed: discord.Embed, name: str, value: str, *, inline: bool = False) -> bool:
    """Add a field if the embed still has room; return whether it was added."""
    name, value = truncate(name, FIELD_NAME_LIMIT), truncate(value or "—", FIELD_VALUE_LIMIT)
    if len(embed.fields) >= FIELDS_LIMIT or len(embed) + len(name) + len(value) > TOTAL_LIMIT:
        return False
    embed.add_field(name=name, value=value, inline=inline)
    return True


def chunk_lines(lines: list[str], limit: int = FIELD_VALUE_LIMIT) -> list[str]:
    """Join lines into blocks that each fit in ``limit`` characters (a line longer than that is truncated)."""
    blocks: list[str] = []
    current = ""
    for raw in lines:
        line = truncate(raw, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            blocks.append(current)
            current = line
        else:
            current = candidate
    if current:
        blocks.append(current)
    return blocks
