"""A film's poster as a scheduled event's cover (bot/core/posters.py), through the real details service and the
loopback TMDb, on both backends: the poster's bytes when there is one, None (and a log line saying why) otherwise."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from pydantic import SecretStr

from bot.core.details import FilmDetailsService
from bot.core.posters import event_cover, image_type
from bot.db.database import Database
from bot.services.http import RetryPolicy
from bot.services.tmdb import TmdbClient
from tests.clocks import FixedClock
from tests.images import FORMATS, image_bytes
from tests.server_films import film_record
from tests.tmdb_double import TmdbDouble

QUICK = RetryPolicy(attempts=2, attempt_timeout=0.5, backoff=0.01, backoff_cap=0.05, deadline=1.0)
FILM = film_record(slug="~alien", title="Alien", runtime=117, tmdb_id=348)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def service(db: Database, clock: FixedClock, tmdb_double: TmdbDouble) -> AsyncIterator[FilmDetailsService]:
    client = TmdbClient(
        SecretStr(tmdb_double.api_key),
        base_url=tmdb_double.api_base,
        image_base_url=tmdb_double.image_base,
        policy=QUICK,
    )
    details = FilmDetailsService(db, clock, client)
    yield details
    await details.close()


def test_the_image_types_discord_takes_are_known_by_their_first_bytes() -> None:
    for content_type in FORMATS:
        assert image_type(image_bytes(content_type)) == content_type
    assert image_type(b"<html>Bad gateway</html>") is None
    assert image_type(b"RIFF\x00\x00\x00\x00WAVE") is None  # RIFF, but not WebP
    assert image_type(b"") is None


async def test_the_cover_is_the_posters_jpeg(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    cover = await event_cover(service, FILM)
    assert cover is not None and image_type(cover) == "image/jpeg"
    assert tmdb_double.count("image") == 1
    by_imdb = await event_cover(service, replace(FILM, tmdb_id=None, imdb_id="tt0078748"))
    assert by_imdb == cover  # found through its IMDb id; the image was kept


async def test_no_cover_without_ids_poster_or_provider(
    service: FilmDetailsService, db: Database, clock: FixedClock, tmdb_double: TmdbDouble
) -> None:
    assert await event_cover(service, replace(FILM, tmdb_id=None)) is None
    assert await event_cover(service, replace(FILM, tmdb_id=999001)) is None  # TMDb has no poster for it
    assert await event_cover(FilmDetailsService(db, clock, None), FILM) is None
    assert tmdb_double.count("image") == 0


@pytest.mark.parametrize("fault", ["down", "slow", "nonsense"])
async def test_no_cover_when_the_poster_cannot_be_had(
    service: FilmDetailsService, tmdb_double: TmdbDouble, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    if fault == "down":
        tmdb_double.fail("image", status=500, times=None)
    elif fault == "slow":
        tmdb_double.slow("image", seconds=5)
    else:
        tmdb_double.nonsense("image", body=b"<html>Bad gateway</html>", times=None)
    with caplog.at_level(logging.WARNING, logger="bot.core.posters"):
        assert await event_cover(service, FILM, within=1.0) is None
    assert any("no cover" in record.getMessage() for record in caplog.records)


async def test_no_cover_when_the_details_cannot_be_had(
    service: FilmDetailsService, tmdb_double: TmdbDouble, caplog: pytest.LogCaptureFixture
) -> None:
    tmdb_double.fail("*", status=500, times=None)
    with caplog.at_level(logging.WARNING, logger="bot.core.posters"):
        assert await event_cover(service, FILM, within=1.0) is None
    assert any("could not be fetched in time" in record.getMessage() for record in caplog.records)
