"""A film's poster as an image to upload: a screening's scheduled event takes it as its cover.

Discord takes a cover as image data (PNG, JPEG, GIF or WebP, at most 10 MiB), uploaded with the event, so the bot
downloads the poster itself, through the details service, within a time budget. A cover is a nicety: when there is
no poster, or the download fails or runs late, or the bytes are not an image Discord takes, the answer is None, the
reason is logged, and the event is created without one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.core import seasons
from bot.core.details import DetailsUnavailable, FilmDetailsService
from bot.core.films import Film, list_themes
from bot.db.database import Database

log = logging.getLogger(__name__)

#: How long the bot waits for a poster before creating the event without it (details and image together).
COVER_BUDGET = 5.0
#: Discord's limit on image data; a bigger poster is not uploaded.
MAX_COVER_BYTES = 10 * 1024 * 1024

#: The image types Discord takes as image data, by the bytes they start with.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The MIME type of an image Discord takes as image data (PNG, JPEG, GIF, WebP), from its first bytes; None
    for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in _SIGNATURES if data.startswith(signature)), None)


async def event_cover(source: FilmDetailsService, film: Film, *, within: float = COVER_BUDGET) -> bytes | None:
    """The film's poster as an event cover, or None (no provider, no TMDb or IMDb id, no poster, or the download failed,
    ran past ``within`` seconds or was not an image Discord takes: each logged)."""
    if not source.enabled or (film.tmdb_id is None and film.imdb_id is None):
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        async with asyncio.timeout(within):
            answer = await source.for_film(film, within=within)
            if answer.details is None or not answer.details.poster_path:
                if answer.unavailable:
                    log.warning("film %s: no cover, its details could not be fetched in time", film.id)
                return None
            data = await source.poster_bytes(answer.details, within=max(deadline - loop.time(), 0.1))
    except TimeoutError:
        log.warning("film %s: no cover, the poster did not arrive within %.1f s", film.id, within)
        return None
    except DetailsUnavailable as exc:
        log.warning("film %s: no cover, the poster could not be fetched: %s", film.id, exc)
        return None
    if not data:
        log.warning("film %s: no cover, the poster could not be downloaded", film.id)
        return None
    if image_type(data) is None:
        log.warning("film %s: no cover, the poster is not a PNG, JPEG, GIF or WebP image", film.id)
        return None
    if len(data) > MAX_COVER_BYTES:
        log.warning("film %s: no cover, the poster is %d bytes (Discord takes %d)", film.id, len(data), MAX_COVER_BYTES)
        return None
    return data


async def card_theme(db: Database, guild_id: int, film: Film, at: datetime) -> str | None:
    """The theme a generated cover card names under the title: the season running at ``at`` (its title), else the
    film's first curated theme (its title, not its slug)."""
    running = await seasons.season_at(db, guild_id, at)
    if running is not None:
        return running[0].theme_title
    if not film.themes:
        return None
    titles = {theme.slug: theme.title for theme in await list_themes(db)}
    return titles.get(film.themes[0])
