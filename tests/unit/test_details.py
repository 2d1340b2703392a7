"""FilmDetailsService (bot/core/details.py): the database's cache in front of TMDb (the loopback double), on both
backends: fresh entries answer without asking, expired ones are fetched again, a failing or slow TMDb leaves the
stale copy (or nothing, said so) within the caller's budget, and a slow answer still fills the cache afterwards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.core.details import (
    DETAILS_FRESH,
    MISSING_FRESH,
    SEARCH_FRESH,
    DetailsAnswer,
    DetailsRefused,
    DetailsUnavailable,
    FilmDetails,
    FilmDetailsService,
    WatchProviders,
    decode_details,
    encode_details,
    search_key,
)
from bot.db import tmdb as tmdb_db
from bot.db.database import Database
from bot.db.films import Film
from bot.services.http import RetryPolicy
from bot.services.tmdb import TmdbClient
from tests.clocks import FixedClock
from tests.server_films import film_record
from tests.tmdb_double import TmdbDouble

QUICK = RetryPolicy(attempts=3, attempt_timeout=0.5, backoff=0.01, backoff_cap=0.05, deadline=2.0)
ALIEN, THING = 348, 1091


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def make_client(double: TmdbDouble, key: str | None = None) -> TmdbClient:
    return TmdbClient(
        SecretStr(key or double.api_key), base_url=double.api_base, image_base_url=double.image_base, policy=QUICK
    )


@pytest.fixture
async def service(db: Database, clock: FixedClock, tmdb_double: TmdbDouble) -> AsyncIterator[FilmDetailsService]:
    details = FilmDetailsService(db, clock, make_client(tmdb_double))
    yield details
    await details.close()


def a_film(*, tmdb_id: int | None = None, imdb_id: str | None = None) -> Film:
    return film_record(tmdb_id=tmdb_id, imdb_id=imdb_id)


async def eventually(check: Callable[[], object], what: str, seconds: float = 5.0) -> None:
    """Wait (bounded) until ``check()`` (sync or async) is true."""
    async with asyncio.timeout(seconds):
        while True:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(what)  # pragma: no cover - asyncio.timeout raises first


async def test_details_are_fetched_once_then_answered_from_the_cache(
    service: FilmDetailsService, tmdb_double: TmdbDouble, db: Database, clock: FixedClock
) -> None:
    first = await service.details(ALIEN)
    second = await service.details(ALIEN)

    assert first.details is not None and first.details.title == "Alien"
    assert first == second == DetailsAnswer(first.details)
    assert tmdb_double.count("movie") == 1
    assert (service.counters.hits, service.counters.misses, service.counters.hit_rate) == (1, 1, 0.5)
    entry = (await tmdb_db.cached_details(db, [ALIEN]))[ALIEN]
    assert entry.fetched_at == clock.now() and entry.expires_at == clock.now() + DETAILS_FRESH
    assert decode_details(entry.payload) == first.details


async def test_an_expired_entry_is_fetched_again(
    service: FilmDetailsService, tmdb_double: TmdbDouble, clock: FixedClock
) -> None:
    await service.details(ALIEN)
    clock.advance(DETAILS_FRESH - timedelta(seconds=1))
    await service.details(ALIEN)
    assert tmdb_double.count("movie") == 1

    clock.advance(timedelta(seconds=2))
    again = await service.details(ALIEN)

    assert again.details is not None and not again.stale
    assert tmdb_double.count("movie") == 2


async def test_when_tmdb_fails_the_stale_copy_is_shown_and_said_so(
    service: FilmDetailsService, tmdb_double: TmdbDouble, clock: FixedClock
) -> None:
    fresh = await service.details(ALIEN)
    clock.advance(DETAILS_FRESH + timedelta(days=1))
    tmdb_double.fail("movie", status=500, times=None)

    answer = await service.details(ALIEN)

    assert answer == DetailsAnswer(fresh.details, unavailable=True, stale=True)
    assert (service.counters.failures, service.counters.stale) == (1, 1)


async def test_when_tmdb_fails_with_nothing_cached_the_answer_says_unavailable(
    service: FilmDetailsService, tmdb_double: TmdbDouble, db: Database
) -> None:
    tmdb_double.nonsense("movie", body=b"<html>oops</html>")

    answer = await service.details(ALIEN)

    assert answer == DetailsAnswer(None, unavailable=True)
    assert await tmdb_db.cached_details(db, [ALIEN]) == {}  # nonsense is never cached


async def test_a_refused_key_is_unavailable_too(db: Database, clock: FixedClock, tmdb_double: TmdbDouble) -> None:
    service = FilmDetailsService(db, clock, make_client(tmdb_double, key="0" * 32))
    try:
        assert await service.details(ALIEN) == DetailsAnswer(None, unavailable=True)
        with pytest.raises(DetailsRefused):
            await service.search("alien", None)
    finally:
        await service.close()


async def test_a_slow_tmdb_answers_within_the_budget_and_fills_the_cache_afterwards(
    service: FilmDetailsService, tmdb_double: TmdbDouble
) -> None:
    tmdb_double.slow("movie", seconds=0.8, times=1)

    answer = await service.details(ALIEN, within=0.2)

    assert answer == DetailsAnswer(None, unavailable=True)
    await eventually(lambda: service.cached([ALIEN]), "the background fetch to fill the cache")
    later = await service.details(ALIEN, within=0.2)
    assert later.details is not None and later.details.title == "Alien"
    assert tmdb_double.count("movie") == 1  # one request served both commands


async def test_a_slow_tmdb_with_a_stale_copy_shows_it_within_the_budget(
    service: FilmDetailsService, tmdb_double: TmdbDouble, clock: FixedClock
) -> None:
    await service.details(ALIEN)
    clock.advance(DETAILS_FRESH * 2)
    tmdb_double.slow("movie", seconds=0.8, times=1)

    answer = await service.details(ALIEN, within=0.2)

    assert answer.details is not None and answer.stale and answer.unavailable


async def test_a_film_tmdb_does_not_know_is_remembered_for_a_day(
    service: FilmDetailsService, tmdb_double: TmdbDouble, clock: FixedClock
) -> None:
    assert await service.details(424242) == DetailsAnswer(None)
    assert await service.details(424242) == DetailsAnswer(None)
    assert tmdb_double.count("movie") == 1

    clock.advance(MISSING_FRESH + timedelta(seconds=1))
    await service.details(424242)
    assert tmdb_double.count("movie") == 2


async def test_two_commands_asking_at_once_share_one_request(
    service: FilmDetailsService, tmdb_double: TmdbDouble
) -> None:
    tmdb_double.slow("movie", seconds=0.2, times=1)

    answers = await asyncio.gather(*(service.details(ALIEN) for _ in range(5)))

    assert all(answer.details is not None for answer in answers)
    assert tmdb_double.count("movie") == 1


async def test_searches_are_cached_by_title_and_year(
    service: FilmDetailsService, tmdb_double: TmdbDouble, db: Database, clock: FixedClock
) -> None:
    both = await service.search("  SOLARIS ", None)
    again = await service.search("solaris", None)
    recent = await service.search("Solaris", 2002)

    assert [film.tmdb_id for film in both] == [593, 2103] and again == both
    assert [film.year for film in recent] == [2002]
    assert tmdb_double.count("search") == 2
    assert search_key("  SOLARIS ", None) == "solaris|"
    entry = await tmdb_db.cached_search(db, "solaris|2002")
    assert entry is not None and entry.expires_at == clock.now() + SEARCH_FRESH
    assert await service.search("", 1979) == []


async def test_a_failed_search_uses_the_stale_answer_or_raises(
    service: FilmDetailsService, tmdb_double: TmdbDouble, clock: FixedClock
) -> None:
    found = await service.search("the thing", None)
    clock.advance(SEARCH_FRESH * 2)
    tmdb_double.fail("search", status=503, times=None)

    assert await service.search("the thing", None) == found
    with pytest.raises(DetailsUnavailable):
        await service.search("alien", 1979)


async def test_a_slow_search_raises_within_the_budget(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    tmdb_double.slow("search", seconds=0.8, times=1)

    with pytest.raises(DetailsUnavailable):
        await service.search("alien", 1979, within=0.2)


async def test_a_film_of_ours_by_tmdb_id_by_imdb_id_or_neither(
    service: FilmDetailsService, tmdb_double: TmdbDouble
) -> None:
    by_tmdb = await service.for_film(a_film(tmdb_id=THING))
    by_imdb = await service.for_film(a_film(imdb_id="tt0078748"))
    again = await service.for_film(a_film(imdb_id="tt0078748"))
    unknown = await service.for_film(a_film(imdb_id="tt0000001"))
    neither = await service.for_film(a_film())

    assert by_tmdb.details is not None and by_tmdb.details.directors == ("John Carpenter",)
    assert by_imdb.details is not None and by_imdb.details.tmdb_id == ALIEN
    assert again == by_imdb
    assert unknown == neither == DetailsAnswer(None)
    assert tmdb_double.count("find") == 2  # the IMDb id's answer is cached like a search


async def test_for_film_when_the_imdb_lookup_fails(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    tmdb_double.fail("find", status=500, times=None)

    assert await service.for_film(a_film(imdb_id="tt0078748")) == DetailsAnswer(None, unavailable=True)


async def test_cached_reads_many_films_without_asking(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    await service.details(ALIEN)
    await service.details(THING)
    await service.details(424242)  # not known: remembered, but no details
    asked = tmdb_double.count()

    cached = await service.cached([ALIEN, THING, 424242, 679, *range(10_000, 11_000)])

    assert sorted(cached) == [ALIEN, THING]
    assert cached[ALIEN].genres == ("Horror", "Science Fiction")
    assert tmdb_double.count() == asked


async def test_an_unreadable_cache_entry_is_fetched_again(
    service: FilmDetailsService, tmdb_double: TmdbDouble, db: Database, clock: FixedClock
) -> None:
    later = clock.now() + timedelta(days=30)
    await tmdb_db.store_details(db, ALIEN, '{"format": 0, "title": "old"}', clock.now(), later)
    await tmdb_db.store_search(db, "alien|", "{not json", clock.now(), later)

    assert await service.cached([ALIEN]) == {}
    answer = await service.details(ALIEN)
    found = await service.search("alien", None)

    assert answer.details is not None and answer.details.title == "Alien"
    assert [film.tmdb_id for film in found] == [ALIEN, 679]
    assert (tmdb_double.count("movie"), tmdb_double.count("search")) == (1, 1)


async def test_without_a_source_it_is_disabled_and_answers_from_the_cache(
    db: Database, clock: FixedClock, service: FilmDetailsService
) -> None:
    await service.details(ALIEN)
    disabled = FilmDetailsService(db, clock, None)

    assert not disabled.enabled and service.enabled
    assert (await disabled.details(ALIEN)).details is not None
    assert await disabled.details(THING) == DetailsAnswer(None)
    assert await disabled.for_film(a_film(imdb_id="tt0084787")) == DetailsAnswer(None)
    with pytest.raises(DetailsUnavailable, match="TMDB_API_KEY"):
        await disabled.search("alien", None)
    clock.advance(DETAILS_FRESH * 2)
    assert (await disabled.details(ALIEN)).stale
    assert disabled.poster_url((await disabled.details(ALIEN)).details) is None
    assert await disabled.poster_bytes((await disabled.details(ALIEN)).details) is None
    await disabled.close()


async def test_posters_by_address_and_by_bytes(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    alien = (await service.details(ALIEN)).details
    [home] = await service.search("untitled home movie", None)

    url = service.poster_url(alien)
    image = await service.poster_bytes(alien)
    again = await service.poster_bytes(alien)

    assert url == f"{tmdb_double.image_base}/w500/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg"
    assert service.poster_url(alien, "w185") == url.replace("w500", "w185")
    assert image is not None and image[:3] == b"\xff\xd8\xff" and again == image
    assert tmdb_double.count("image") == 1  # kept in memory
    assert service.poster_url(home) is None and await service.poster_bytes(home) is None
    assert service.poster_url(None) is None


async def test_a_poster_that_cannot_be_fetched_is_none(service: FilmDetailsService, tmdb_double: TmdbDouble) -> None:
    thing = (await service.details(THING)).details
    tmdb_double.fail("image", status=503, times=None)

    assert await service.poster_bytes(thing) is None
    tmdb_double.clear_faults()
    tmdb_double.slow("image", seconds=0.8, times=1)
    assert await service.poster_bytes(thing, within=0.1) is None


async def test_old_stale_entries_are_forgotten(service: FilmDetailsService, db: Database, clock: FixedClock) -> None:
    await service.details(ALIEN)
    await service.search("alien", None)
    clock.advance(DETAILS_FRESH + timedelta(days=91))
    await service.details(THING)

    assert await service.forget_expired() == 2
    assert await tmdb_db.cache_sizes(db) == (1, 0)


async def test_close_stops_background_fetches_and_closes_the_client(
    db: Database, clock: FixedClock, tmdb_double: TmdbDouble
) -> None:
    client = make_client(tmdb_double)
    service = FilmDetailsService(db, clock, client)
    tmdb_double.slow("movie", seconds=5)
    assert (await service.details(ALIEN, within=0.05)).unavailable

    async with asyncio.timeout(3):
        await service.close()

    assert client.api._closed
    assert await service.cached([ALIEN]) == {}


def test_details_survive_the_cache_format() -> None:
    details = FilmDetails(
        tmdb_id=1,
        title="Ça tourne «vite»",
        year=None,
        runtime=90,
        directors=("A", "B"),
        genres=("Drama",),
        keywords=(),
        poster_path="/p.jpg",
        imdb_id="tt0000001",
        watch=WatchProviders("US", None, stream=("Kanopy",)),
        extra={"tagline": "x"},
    )
    assert decode_details(encode_details(details)) == details
    assert decode_details(encode_details(None)) is None
    for broken in ("[]", '{"format": 1}', json.dumps({"format": 2, "tmdb_id": 1}), "nope"):
        with pytest.raises(ValueError):
            decode_details(broken)
