"""A linked member's Letterboxd diary entry as the club's diary channel shows it, and /letterboxd status.

Everything from the feed is member text: titles and reviews are escaped (:func:`bot.ui.embeds.literal`, so no markdown
and no mention), a review marked as containing spoilers is hidden (``||…||``), and links are only Letterboxd's own
(:func:`bot.ui.films.letterboxd_address`). The post is sent with no mentions allowed at all."""

from __future__ import annotations

from datetime import date, datetime

import discord

from bot.core.details import FilmDetails
from bot.core.films import Film
from bot.core.letterboxd_follow import AccountStatus, DiaryPost
from bot.ui.embeds import add_field, club_embed, literal, truncate
from bot.ui.films import letterboxd_address, linked_label
from bot.ui.reviews import stars

FOOTER = "Letterboxd diary"


def film_line(post: DiaryPost, film: Film | None, details: FilmDetails | None) -> str:
    """The film: the club's film (linked to its Letterboxd page when known), else the title as the feed names it."""
    if film is not None:
        return linked_label(film, details)
    label = f"{post.title} ({post.year})" if post.year else post.title
    return f"**{literal(truncate(label, 200))}**"


def spoiler_text(text: str) -> str:
    """Member text hidden behind Discord's spoiler bars (escaped first: its own ``||`` cannot close them early)."""
    return f"||{literal(text)}||"


def diary_embed(
    post: DiaryPost,
    member_name: str,
    *,
    film: Film | None = None,
    details: FilmDetails | None = None,
    poster_url: str | None = None,
    feed_origin: str | None = None,
) -> discord.Embed:
    lines = [film_line(post, film, details)]
    marks = []
    if post.rating is not None:
        marks.append(stars(post.rating))
    if post.liked:
        marks.append("♥ liked")
    if post.rewatch:
        marks.append("rewatch")
    if marks:
        lines.append(" · ".join(marks))
    if post.excerpt:
        lines.append(spoiler_text(post.excerpt) if post.spoiler else "> " + literal(post.excerpt).replace("\n", "\n> "))
        if post.spoiler:
            lines[-1] = "*This review may contain spoilers.*\n" + lines[-1]
    link = letterboxd_address(post.link)
    if (
        link is None
        and feed_origin
        and post.link.startswith(feed_origin.rstrip("/") + "/")
        and not any(c in post.link for c in "()[]<> \n")
    ):
        link = post.link  # a Letterboxd proxy's (LETTERBOXD_BASE_URL) own address
    if link is not None:
        lines.append(f"[Read it on Letterboxd]({link})")
    embed = club_embed(f"{truncate(member_name, 80)} logged a film", "\n".join(lines))
    if poster_url:
        embed.set_thumbnail(url=poster_url)
    footer = FOOTER
    if post.watched:
        footer += f" · watched {date.fromisoformat(post.watched):%-d %b %Y}"
    embed.set_footer(text=footer)
    return embed


def _when(moment: datetime | None) -> str:
    return "not yet" if moment is None else discord.utils.format_dt(moment, "R")


def status_embed(status: AccountStatus) -> discord.Embed:
    link = status.link
    lines = [
        f"Linked to **{literal(link.username)}** (letterboxd.com/{literal(link.username)}).",
        f"Diary posts: **{'on' if link.diary else 'off'}** · Import ratings and reviews: "
        f"**{'on' if link.import_entries else 'off'}**",
    ]
    embed = club_embed("Letterboxd", "\n".join(lines))
    add_field(embed, "Last checked", _when(status.last_checked), inline=True)
    add_field(embed, "Next check", _when(status.next_check), inline=True)
    add_field(
        embed,
        "Entries",
        f"{status.entries:,} handled · {link.entries_imported:,} imported",
        inline=True,
    )
    if link.last_error is not None:
        add_field(
            embed,
            "Last error",
            f"{literal(truncate(link.last_error, 300))} ({link.failures} check(s) in a row failed; "
            "the feed is read less often until it works again)",
        )
    return embed
