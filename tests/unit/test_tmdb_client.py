"""The TMDb client (bot/services/tmdb.py) and its polite HTTP (bot/services/http.py) against the loopback TMDb:
TMDb's shapes read into our types, both kinds of credentials, and every failure TMDb documents turned into
DetailsUnavailable (DetailsRefused for a bad key) within the deadline, with the key in no log and no message."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.core.details import DetailsRefused, DetailsUnavailable
from bot.services.http import (
    PoliteHttp,
    RetryPolicy,
    ServiceUnavailable,
    TokenBucket,
    parse_retry_after,
)
from bot.services.tmdb import TmdbClient, client_from_settings, is_v4_token
from bot.settings import Settings
from tests.tmdb_double import TmdbDouble, TmdbFilm

#: Quick retries, so the failure tests take a fraction of a second.
QUICK = RetryPolicy(attempts=3, attempt_timeout=0.5, backoff=0.01, backoff_cap=0.05, deadline=2.0)


def client_for(double: TmdbDouble, *, key: str | None = None, region: str = "US", **kwargs: object) -> TmdbClient:
    return TmdbClient(
        SecretStr(double.api_key if key is None else key),
        base_url=double.api_base,
        image_base_url=double.image_base,
        region=region,
        policy=kwargs.pop("policy", QUICK),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
async def tmdb(tmdb_double: TmdbDouble) -> AsyncIterator[TmdbClient]:
    client = client_for(tmdb_double)
    yield client
    await client.close()


async def test_search_reads_results_most_popular_first_and_filters_by_year(
    tmdb: TmdbClient, tmdb_double: TmdbDouble
) -> None:
    both = await tmdb.search("solaris", None)
    recent = await tmdb.search("Solaris", 2002)

    assert [(film.tmdb_id, film.title, film.year) for film in both] == [(593, "Solaris", 1972), (2103, "Solaris", 2002)]
    assert both[0].original_title == "Солярис"
    assert both[0].poster_path == "/mIgVZJd3gkjLLhAkbkhXIFmmEsi.jpg"
    assert both[0].label == "Solaris (1972)"
    assert [film.tmdb_id for film in recent] == [2103]
    assert await tmdb.search("   ", None) == []  # nothing asked
    assert tmdb_double.count("search") == 2
    sent = tmdb_double.requests[-1]
    assert sent.auth == "v3"
    assert sent.query["year"] == "2002"
    assert sent.query["include_adult"] == "false"


async def test_details_read_credits_keywords_ids_and_where_to_watch_in_the_region(
    tmdb: TmdbClient, tmdb_double: TmdbDouble
) -> None:
    alien = await tmdb.details(348)

    assert alien is not None
    assert (alien.title, alien.year, alien.runtime) == ("Alien", 1979, 117)
    assert alien.directors == ("Ridley Scott",)  # the producer in the crew is not a director
    assert alien.genres == ("Horror", "Science Fiction")
    assert alien.keywords == ("android", "space", "extraterrestrial")
    assert alien.imdb_id == "tt0078748"
    assert alien.overview.startswith("During its return")
    assert alien.watch is not None
    assert alien.watch.region == "US"
    assert alien.watch.stream == ("Hulu", "Disney Plus")
    assert alien.watch.rent == ("Apple TV",)
    assert alien.watch.buy == ("Apple TV", "Amazon Video")
    assert alien.watch.link is not None and alien.watch.link.endswith("watch?locale=US")
    assert tmdb_double.requests[-1].query["append_to_response"] == "credits,keywords,external_ids,watch/providers"


async def test_where_to_watch_follows_the_region_and_free_offers_count_as_streaming(tmdb_double: TmdbDouble) -> None:
    british = client_for(tmdb_double, region="GB")
    try:
        alien = await british.details(348)
        talking_heads = await british.details(24128)
    finally:
        await british.close()
    american = client_for(tmdb_double)
    try:
        concert = await american.details(24128)
    finally:
        await american.close()

    assert alien is not None and alien.watch is not None
    assert alien.watch.stream == ("Disney Plus",) and alien.watch.empty is False
    assert talking_heads is not None and talking_heads.watch is None  # nothing offered in GB
    assert concert is not None and concert.watch is not None and concert.watch.stream == ("Kanopy",)


async def test_a_film_tmdb_does_not_know_is_none_and_so_is_an_unknown_imdb_id(
    tmdb: TmdbClient, tmdb_double: TmdbDouble
) -> None:
    assert await tmdb.details(424242) is None
    assert tmdb_double.requests[-1].status == 404
    assert await tmdb.find_by_imdb("tt9999999") is None
    found = await tmdb.find_by_imdb("tt0084787")
    assert found is not None and (found.tmdb_id, found.title, found.year) == (1091, "The Thing", 1982)
    before = tmdb_double.count()
    assert await tmdb.find_by_imdb("not-an-id") is None
    assert await tmdb.details(0) is None
    assert tmdb_double.count() == before  # nothing asked for ids that cannot exist


async def test_a_film_without_release_date_runtime_or_poster(tmdb: TmdbClient) -> None:
    [home] = await tmdb.search("untitled home movie", None)
    details = await tmdb.details(999001)

    assert (home.year, home.poster_path) == (None, None)
    assert home.label == "Untitled Home Movie"
    assert details is not None
    assert (details.year, details.runtime, details.poster_path, details.imdb_id) == (None, None, None, None)


async def test_a_v4_read_access_token_goes_in_the_authorization_header(tmdb_double: TmdbDouble) -> None:
    client = client_for(tmdb_double, key=tmdb_double.v4_token)
    try:
        assert client.auth == "v4 token"
        assert await client.details(348) is not None
    finally:
        await client.close()

    sent = tmdb_double.requests[-1]
    assert sent.auth == "v4"
    assert "api_key" not in sent.query
    assert is_v4_token(tmdb_double.v4_token) and not is_v4_token(tmdb_double.api_key)


async def test_a_refused_key_is_details_refused_and_the_key_is_never_shown(
    tmdb_double: TmdbDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "feedface" * 4
    client = client_for(tmdb_double, key=secret)
    try:
        with pytest.raises(DetailsRefused) as refused:
            await client.details(348)
        with pytest.raises(DetailsRefused):
            await client.search("alien", None)
    finally:
        await client.close()

    assert "401" in str(refused.value) and "Invalid API key" in str(refused.value)
    assert tmdb_double.count() == 2  # a refused key is not retried
    assert [request.auth for request in tmdb_double.requests] == ["wrong", "wrong"]
    assert secret not in caplog.text and secret not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert "TMDB_API_KEY" in caplog.text  # said once, loudly: a setting to fix
    assert sum("TMDb refused TMDB_API_KEY" in record.message for record in caplog.records) == 1


async def test_429_is_honoured_with_retry_after_and_then_answered(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.rate_limit("movie", retry_after="1")

    alien = await tmdb.details(348)

    assert alien is not None
    refused, answered = tmdb_double.requests
    assert (refused.status, answered.status) == (429, 200)
    assert answered.at - refused.at >= 1.0  # waited as asked, not by its own back-off
    assert tmdb.api.counters.rate_limited == 1


async def test_429_asking_for_longer_than_the_call_may_wait_fails_at_once(tmdb_double: TmdbDouble) -> None:
    tmdb_double.rate_limit("search", retry_after="120")
    client = client_for(tmdb_double)
    try:
        with pytest.raises(DetailsUnavailable, match="rate-limiting"):
            await client.search("alien", None)
        # The pause holds every request of the client: another call fails at once too, without asking TMDb.
        with pytest.raises(DetailsUnavailable, match="rate limit"):
            await client.details(348)
    finally:
        await client.close()
    assert tmdb_double.count() == 1


async def test_500_then_success_is_retried(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.fail("movie", status=500, times=1)
    tmdb_double.fail("movie", status=503, times=1)

    alien = await tmdb.details(348)

    assert alien is not None
    assert [request.status for request in tmdb_double.requests] == [500, 503, 200]
    assert tmdb.api.counters.retries == 2


async def test_5xx_every_time_gives_up_after_the_attempts(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.fail("*", status=500, times=None)

    with pytest.raises(DetailsUnavailable, match="did not answer") as failed:
        await tmdb.details(348)

    assert tmdb_double.count() == QUICK.attempts
    assert "Internal error" in str(failed.value)


@pytest.mark.parametrize("status", [400, 302, 403])
async def test_other_answers_are_not_retried_nor_followed(
    tmdb: TmdbClient, tmdb_double: TmdbDouble, status: int
) -> None:
    tmdb_double.fail("search", status=status)

    with pytest.raises(DetailsUnavailable, match=str(status)):
        await tmdb.search("alien", None)
    assert tmdb_double.count() == 1


async def test_slow_answers_past_the_timeout_fail_within_the_deadline(tmdb_double: TmdbDouble) -> None:
    tmdb_double.slow("movie", seconds=30)
    policy = RetryPolicy(attempts=5, attempt_timeout=0.3, backoff=0.01, backoff_cap=0.02, deadline=1.0)
    client = client_for(tmdb_double, policy=policy)
    try:
        async with asyncio.timeout(10):  # a broken deadline would take 30 s a request
            with pytest.raises(DetailsUnavailable, match="no answer within"):
                await client.details(348)
    finally:
        await client.close()
    assert 2 <= client.api.counters.requests <= 4  # attempts of 0.3 s fit a second a few times, not five


async def test_a_slow_answer_then_a_quick_one_is_answered(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.slow("movie", seconds=30, times=1)

    async with asyncio.timeout(10):
        alien = await tmdb.details(348)

    assert alien is not None
    assert tmdb.api.counters.requests == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Bad gateway</body></html>",  # not JSON
        b'["a", "list"]',  # JSON, not an object
        b'{"results": "none"}',  # the wrong shape
        b'{"id": 348}',  # no title
        b'{"id": 679, "title": "Aliens"}',  # another film than the one asked for
    ],
)
async def test_nonsense_is_details_unavailable_and_not_retried(
    tmdb: TmdbClient, tmdb_double: TmdbDouble, body: bytes
) -> None:
    tmdb_double.nonsense("*", body=body, times=2)

    with pytest.raises(DetailsUnavailable):
        await tmdb.details(348)
    with pytest.raises(DetailsUnavailable):
        await tmdb.search("alien", None)
    assert tmdb_double.count() == 2


async def test_odd_fields_are_ignored_and_broken_results_skipped(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.nonsense(
        "search",
        body=b'{"page": 1, "results": [{"id": "x", "title": "No id"}, {"id": 5, "title": ""}, 7,'
        b' {"id": 6, "title": "Kept", "release_date": "soon", "poster_path": "../../etc/passwd"}]}',
    )
    tmdb_double.nonsense(
        "movie",
        body=b'{"id": 348, "title": "Alien", "runtime": "long", "genres": "horror", "imdb_id": "x",'
        b' "credits": {"crew": [{"job": "Director", "name": 5}, {"job": "Director", "name": "Ridley Scott"}]},'
        b' "watch/providers": {"results": {"US": {"link": "javascript:x",'
        b' "flatrate": [{"provider_name": "Hulu"}, 3]}}}}',
    )

    [kept] = await tmdb.search("kept", None)
    alien = await tmdb.details(348)

    assert (kept.tmdb_id, kept.title, kept.year, kept.poster_path) == (6, "Kept", None, None)
    assert alien is not None
    assert (alien.runtime, alien.genres, alien.imdb_id, alien.directors) == (None, (), None, ("Ridley Scott",))
    assert alien.watch is not None and alien.watch.link is None and alien.watch.stream == ("Hulu",)


async def test_posters_are_real_images_from_the_image_server_without_the_key(
    tmdb: TmdbClient, tmdb_double: TmdbDouble
) -> None:
    path = "/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg"

    image = await tmdb.poster(path, "w342")

    assert image[:3] == b"\xff\xd8\xff"  # a JPEG
    assert tmdb.poster_url(path) == f"{tmdb_double.image_base}/w500{path}"
    assert tmdb.poster_url(path, "huge") == f"{tmdb_double.image_base}/w500{path}"
    sent = tmdb_double.requests[-1]
    assert (sent.route, sent.path, sent.auth) == ("image", f"/t/p/w342{path}", None)
    with pytest.raises(DetailsUnavailable):
        await tmdb.poster("/missing.jpg")
    with pytest.raises(DetailsUnavailable):
        await tmdb.poster("../secret")
    with pytest.raises(ValueError):
        tmdb.poster_url("https://elsewhere.example/x.jpg")


async def test_an_unreachable_server_is_unavailable_and_names_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    secret = "cafebabe" * 4
    client = TmdbClient(SecretStr(secret), base_url=f"http://127.0.0.1:{port}/3", policy=QUICK)
    try:
        with pytest.raises(DetailsUnavailable, match="cannot connect") as failed:
            await client.search("alien", 1979)
    finally:
        await client.close()
    assert secret not in str(failed.value) and secret not in caplog.text
    assert failed.value.__cause__ is None


async def test_no_message_or_log_of_any_failure_holds_the_key(
    tmdb_double: TmdbDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    for key in (tmdb_double.api_key, tmdb_double.v4_token):
        client = client_for(tmdb_double, key=key)
        try:
            for fault in ("fail", "rate_limit", "nonsense", "slow"):
                tmdb_double.clear_faults()
                if fault == "fail":
                    tmdb_double.fail(status=500, times=None)
                elif fault == "rate_limit":
                    tmdb_double.rate_limit(retry_after="300", times=None)
                elif fault == "nonsense":
                    tmdb_double.nonsense(body=b"not json", times=None)
                else:
                    tmdb_double.slow(seconds=5)
                with pytest.raises(DetailsUnavailable) as failed:
                    await client.details(348)
                messages.append(repr(failed.value))
        finally:
            tmdb_double.clear_faults()
            await client.close()

    for key in (tmdb_double.api_key, tmdb_double.v4_token):
        assert all(key not in message for message in messages)
        assert key not in caplog.text
    assert "SecretStr('**********')" in repr(client.api._header_secrets)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Fri, 04 Dec 2026 03:00:10 GMT", now=now) == 10.0
    assert parse_retry_after("Fri, 04 Dec 2026 02:00:00 GMT", now=now) == 0.0  # in the past: go now
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None


async def test_the_rate_limit_spaces_requests_and_refuses_what_cannot_fit() -> None:
    loop = asyncio.get_running_loop()
    bucket = TokenBucket(rate=10, burst=2)
    started = loop.time()
    for _ in range(5):
        await bucket.take(started + 5)
    assert loop.time() - started >= 0.3 - 0.01  # two at once, then one every 0.1 s

    slow = TokenBucket(rate=1, burst=1)
    await slow.take(loop.time() + 1)
    with pytest.raises(ServiceUnavailable):
        await slow.take(loop.time() + 0.2)  # the next token is a second away: refused at once, nothing waited


async def test_the_rate_limit_holds_concurrent_calls_below_the_rate(tmdb_double: TmdbDouble) -> None:
    http = PoliteHttp(tmdb_double.api_base, name="TMDb", rate=20, burst=5, policy=QUICK)
    http_key = {"api_key": tmdb_double.api_key}
    started = time.monotonic()  # the double stamps each request on the same clock when it arrives
    try:
        await asyncio.gather(*(http.get_json("/movie/348", http_key) for _ in range(15)))
    finally:
        await http.close()
    times = sorted(request.at for request in tmdb_double.requests)
    # Five at once, then twenty a second: the last cannot arrive before half a second has passed. Measured from the
    # start, not from the first arrival, which a slow first connection on a busy machine delays more than the rest.
    assert times[-1] - started >= (15 - 5) / 20 - 0.02
    assert len(times) == 15


def test_the_client_comes_from_the_settings_only_with_a_key() -> None:
    assert client_from_settings(Settings()) is None
    assert client_from_settings(Settings(tmdb_api_key=SecretStr("  "))) is None
    settings = Settings(tmdb_api_key=SecretStr("k" * 32), watch_region="GB")
    client = client_from_settings(settings)
    assert client is not None
    assert (client.region, client.auth, client.api.base_url) == ("GB", "v3 key", "https://api.themoviedb.org/3")
    assert client.image_base_url == "https://image.tmdb.org/t/p"


def test_settings_refuse_a_region_that_is_not_two_capital_letters() -> None:
    from pydantic import ValidationError

    for region in ("us", "USA", "", "U1"):
        with pytest.raises(ValidationError):
            Settings(watch_region=region)
    assert "k" * 32 not in repr(Settings(tmdb_api_key=SecretStr("k" * 32)))


async def test_extra_films_can_be_added_to_the_double(tmdb: TmdbClient, tmdb_double: TmdbDouble) -> None:
    tmdb_double.add_film(TmdbFilm(5000, "Gimme Shelter", "1970-12-06", 91, ("Albert Maysles", "David Maysles")))

    [shelter] = await tmdb.search("gimme", 1970)
    details = await tmdb.details(5000)

    assert shelter.tmdb_id == 5000
    assert details is not None and details.directors == ("Albert Maysles", "David Maysles")
