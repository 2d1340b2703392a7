"""The Letterboxd feed client (bot/services/letterboxd_feed.py) against the loopback Letterboxd: Letterboxd's format
read into DiaryEntry (its namespaces, lists and TV skipped, review HTML to text, the spoiler notice to a flag), the
conditional requests, and every failure turned into a FeedResult within the deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.core.letterboxd_live import FeedReader, FeedStatus, valid_username
from bot.services.http import RetryPolicy
from bot.services.letterboxd_feed import FeedMalformed, LetterboxdFeed, client_from_settings, parse_feed
from bot.settings import Settings
from tests.letterboxd_feed_double import LetterboxdFeedDouble

#: Quick retries, so the failure tests take a fraction of a second.
QUICK = RetryPolicy(attempts=3, attempt_timeout=0.5, backoff=0.01, backoff_cap=0.05, deadline=2.0)


def client_for(double: LetterboxdFeedDouble, **kwargs: object) -> LetterboxdFeed:
    options: dict[str, object] = {"policy": QUICK, "rate": 1000.0, "burst": 100, **kwargs}
    return LetterboxdFeed(double.base_url, **options)  # type: ignore[arg-type]


@pytest.fixture
async def feeds(letterboxd_feed: LetterboxdFeedDouble) -> AsyncIterator[LetterboxdFeed]:
    client = client_for(letterboxd_feed)
    yield client
    await client.close()


def mira(double: LetterboxdFeedDouble) -> None:
    """A member with the kinds of item a real feed has, oldest first."""
    double.add_member("mira", "Mira K.")
    double.add_entry(
        "mira", "Perfect Days", 2023, tmdb_id=976893, rating=4.5, watched=date(2026, 11, 2),
        published=datetime(2026, 11, 3, 9, 3, 5, tzinfo=UTC), rewatch=True, liked=True,
        review="Quietly wonderful.\n\nThe toilets & the trees.",
    )  # fmt: skip
    double.add_entry("mira", "Mondays in the Sun", 2002, tmdb_id=54580, watched=date(2026, 11, 4))
    double.add_list("mira", "Favs")
    double.add_entry("mira", "Severance", 2022, tv_id=95396, rating=4.0)
    double.add_entry("mira", "Alien", 1979, tmdb_id=348, rating=5.0, review="He dies.", spoiler=True)


async def test_a_feed_is_read_into_diary_entries_newest_first(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)

    result = await feeds.read("mira")

    assert result.status is FeedStatus.OK and result.ok
    assert [entry.film_title for entry in result.entries] == ["Alien", "Mondays in the Sun", "Perfect Days"]
    assert result.skipped == 2  # the list and the show
    alien, mondays, days = result.entries
    assert days.guid.startswith("letterboxd-review-") and mondays.guid.startswith("letterboxd-watch-")
    assert (days.film_year, days.tmdb_id, days.rating, days.watched_date) == (2023, 976893, 4.5, date(2026, 11, 2))
    assert (days.rewatch, days.liked, days.spoiler) == (True, True, False)
    assert days.review == "Quietly wonderful.\n\nThe toilets & the trees."
    assert days.published == datetime(2026, 11, 3, 9, 3, 5, tzinfo=UTC)
    assert days.link == f"{letterboxd_feed.base_url}/mira/film/perfect-days/"
    assert days.poster_url is not None and days.poster_url.startswith("https://a.ltrbxd.com/")
    # An entry without a review: no rating, no text ("Watched on Wednesday November 4, 2026." is Letterboxd's)
    assert (mondays.rating, mondays.review, mondays.rewatch, mondays.liked) == (None, "", False, False)
    # The spoiler notice becomes the flag, not text
    assert (alien.review, alien.spoiler, alien.rating) == ("He dies.", True, 5.0)
    assert result.etag is not None and result.last_modified is not None


async def test_reviews_with_html_and_mentions_become_plain_text(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    letterboxd_feed.add_member("troll")
    letterboxd_feed.add_entry(
        "troll", "Alien", 1979, tmdb_id=348, rating=1.0,
        review_html=(
            "<p>Hi <script>alert('x')</script>@everyone &amp; &lt;@123&gt; <@&456></p>"
            '<p><b>Bold</b> <a href="https://evil.example/">link</a><br/>next line ]]> done</p>'
        ),
    )  # fmt: skip
    letterboxd_feed.add_entry("troll", "Aliens", 1986, tmdb_id=679, review="@here <@789>\n\n<i>not markup</i>")

    result = await feeds.read("troll")

    aliens, alien = result.entries
    assert alien.review == "Hi @everyone & <@123> <@&456>\n\n**Bold** link\nnext line ]]> done"
    assert "alert" not in alien.review
    assert aliens.review == "@here <@789>\n\n<i>not markup</i>"  # escaped in the feed, so text, not a tag


async def test_an_unchanged_feed_answers_304_to_a_conditional_read_and_a_new_entry_comes_through(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    first = await feeds.read("mira")

    again = await feeds.read("mira", etag=first.etag, last_modified=first.last_modified)
    by_date = await feeds.read("mira", last_modified=first.last_modified)
    letterboxd_feed.add_entry("mira", "Aliens", 1986, tmdb_id=679, rating=4.0)
    changed = await feeds.read("mira", etag=first.etag, last_modified=first.last_modified)

    assert (again.status, again.entries, again.etag, again.last_modified) == (
        FeedStatus.NOT_MODIFIED, (), first.etag, first.last_modified,
    )  # fmt: skip
    assert by_date.status is FeedStatus.NOT_MODIFIED
    assert changed.status is FeedStatus.OK
    assert [entry.film_title for entry in changed.entries][:2] == ["Aliens", "Alien"]
    assert changed.etag != first.etag
    sent = letterboxd_feed.requests
    assert [(r.if_none_match, r.status) for r in sent] == [
        (None, 200), (first.etag, 304), (None, 304), (first.etag, 200),
    ]  # fmt: skip
    assert sent[1].if_modified_since == first.last_modified
    assert sent[0].user_agent is not None and sent[0].user_agent.startswith("filmclub/")


async def test_an_edited_review_keeps_its_guid_with_the_new_text(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    letterboxd_feed.add_member("mira")
    entry = letterboxd_feed.add_entry("mira", "Alien", 1979, tmdb_id=348, rating=4.0, review="Scary.")
    before = await feeds.read("mira")
    letterboxd_feed.edit_entry("mira", entry.guid, review="Scarier the second time.", rating=4.5)

    after = await feeds.read("mira", etag=before.etag)

    assert after.status is FeedStatus.OK
    [edited] = after.entries
    assert (edited.guid, edited.review, edited.rating) == (entry.guid, "Scarier the second time.", 4.5)


async def test_a_member_letterboxd_does_not_know_is_not_found_and_a_bad_username_is_not_requested(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    missing = await feeds.read("nobody_here")
    for bad in ("../admin", "a", "x" * 16, "mira/rss", "mïra", "mira?x=1", ""):
        assert (await feeds.read(bad)).status is FeedStatus.NOT_FOUND

    assert missing.status is FeedStatus.NOT_FOUND
    assert missing.reason is not None and "404" in missing.reason
    assert [request.path for request in letterboxd_feed.requests] == ["/nobody_here/rss/"]


async def test_usernames_are_read_in_lower_case(feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble) -> None:
    letterboxd_feed.add_member("mira_k")
    letterboxd_feed.add_entry("mira_k", "Alien", 1979)

    result = await feeds.read("Mira_K")

    assert result.ok
    assert [request.path for request in letterboxd_feed.requests] == ["/mira_k/rss/"]
    assert valid_username("Mira_K") and not valid_username("mira-k")


async def test_5xx_answers_are_retried_and_a_feed_that_keeps_failing_fails(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    letterboxd_feed.fail("mira", status=503, times=2)
    recovered = await feeds.read("mira")
    letterboxd_feed.fail("mira", status=500, times=None)
    failed = await feeds.read("mira")

    assert recovered.ok and len(recovered.entries) == 3
    assert failed.status is FeedStatus.FAILED and failed.entries == ()
    assert failed.reason is not None and "500" in failed.reason
    assert [r.status for r in letterboxd_feed.requests] == [503, 503, 200, 500, 500, 500]  # 3 attempts each


async def test_a_refusal_that_is_not_worth_retrying_fails_at_once(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    letterboxd_feed.fail("mira", status=403, times=None)

    result = await feeds.read("mira")

    assert result.status is FeedStatus.FAILED and result.reason is not None and "403" in result.reason
    assert letterboxd_feed.count("mira") == 1


async def test_429_waits_as_asked_when_it_fits_and_fails_with_retry_after_when_it_does_not(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    letterboxd_feed.add_member("other")
    letterboxd_feed.rate_limit("mira", retry_after="0.2")
    started = time.monotonic()
    waited = await feeds.read("mira")
    took = time.monotonic() - started
    letterboxd_feed.rate_limit("mira", retry_after="120")
    refused = await feeds.read("mira")
    held = await feeds.read("other")  # the pause holds every read of the client back

    assert waited.ok and took >= 0.2
    assert refused.status is FeedStatus.FAILED and refused.retry_after == 120
    assert held.status is FeedStatus.FAILED
    assert held.retry_after is not None and 100 < held.retry_after <= 120
    assert letterboxd_feed.count("other") == 0  # not even sent


async def test_a_slow_feed_times_out_within_the_deadline(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    letterboxd_feed.slow("mira", seconds=5)

    started = time.monotonic()
    result = await feeds.read("mira")
    took = time.monotonic() - started

    assert result.status is FeedStatus.FAILED
    assert result.reason is not None and "no answer within 0.5 s" in result.reason
    assert took < QUICK.deadline + 1


async def test_malformed_xml_and_answers_that_are_not_feeds_fail(
    feeds: LetterboxdFeed, letterboxd_feed: LetterboxdFeedDouble
) -> None:
    mira(letterboxd_feed)
    letterboxd_feed.malformed("mira")
    cut = await feeds.read("mira")
    letterboxd_feed.raw("mira", body=b"<!DOCTYPE html><html><body>Just a moment...</body></html>")
    page = await feeds.read("mira")
    letterboxd_feed.raw("mira", body=b"/etc/passwd")  # feedparser would open a file by that name, given bytes
    path = await feeds.read("mira")
    letterboxd_feed.raw("mira", body=b"")
    empty = await feeds.read("mira")

    assert cut.status is FeedStatus.FAILED and cut.reason is not None and "not well-formed XML" in cut.reason
    assert page.status is FeedStatus.FAILED and page.reason is not None
    assert path.status is FeedStatus.FAILED and path.entries == ()
    assert empty.status is FeedStatus.FAILED and empty.reason == "the answer is not an RSS feed"
    assert (await feeds.read("mira")).ok  # once the faults are spent


async def test_a_5_mb_feed_is_read_and_one_beyond_the_limit_is_refused(letterboxd_feed: LetterboxdFeedDouble) -> None:
    letterboxd_feed.add_member("hoarder")
    added = letterboxd_feed.fill_to("hoarder", 5 * 1024 * 1024)
    size = len(letterboxd_feed.member("hoarder").body(letterboxd_feed.base_url)[0])
    roomy = client_for(letterboxd_feed, policy=RetryPolicy(attempts=1, attempt_timeout=20, deadline=20))
    tight = client_for(letterboxd_feed, max_bytes=4 * 1024 * 1024)
    try:
        big = await roomy.read("hoarder")
        refused = await tight.read("hoarder")
    finally:
        await roomy.close()
        await tight.close()

    assert size >= 5 * 1024 * 1024
    assert big.ok and len(big.entries) == added
    assert refused.status is FeedStatus.FAILED and refused.reason == "the feed is larger than 4 MB"


async def test_reads_in_flight_are_capped(letterboxd_feed: LetterboxdFeedDouble) -> None:
    for number in range(8):
        letterboxd_feed.add_member(f"member{number}")
    letterboxd_feed.slow(seconds=0.1)
    client = client_for(letterboxd_feed, concurrency=2)
    try:
        results = await asyncio.gather(*(client.read(f"member{number}") for number in range(8)))
    finally:
        await client.close()

    assert all(result.ok for result in results)
    assert letterboxd_feed.most_in_flight == 2


def test_the_letterboxd_namespace_is_found_under_any_prefix() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:lb="https://letterboxd.com" xmlns:m="https://themoviedb.org">'
        b"<channel><title>x</title><item><title>Alien, 1979</title><guid>letterboxd-watch-1</guid>"
        b"<lb:filmTitle>Alien</lb:filmTitle><lb:filmYear>1979</lb:filmYear><lb:memberRating>3.5</lb:memberRating>"
        b"<m:movieId>348</m:movieId></item></channel></rss>"
    )

    [entry] = parse_feed(body, "application/rss+xml").entries

    assert (entry.film_title, entry.film_year, entry.rating, entry.tmdb_id) == ("Alien", 1979, 3.5, 348)
    assert (entry.watched_date, entry.published, entry.review, entry.poster_url) == (None, None, "", None)


@pytest.mark.parametrize(
    ("rating", "year", "tmdb_id", "expected"),
    [
        ("4.5", "2024", "12", (4.5, 2024, 12)),
        ("0.0", "24", "-3", (None, None, None)),
        ("5.5", "abcd", "x", (None, None, None)),
        ("4.25", "", "", (None, None, None)),
        ("nan", "١٩٧٩", "٣", (None, None, None)),  # Arabic-Indic digits: str.isdigit says digits
    ],
)
def test_values_out_of_range_are_no_values(
    rating: str, year: str, tmdb_id: str, expected: tuple[object, object, object]
) -> None:
    body = (
        '<rss version="2.0" xmlns:letterboxd="https://letterboxd.com" xmlns:tmdb="https://themoviedb.org"><channel>'
        f"<item><guid>letterboxd-watch-1</guid><letterboxd:filmTitle>Film</letterboxd:filmTitle>"
        f"<letterboxd:filmYear>{year}</letterboxd:filmYear><letterboxd:memberRating>{rating}</letterboxd:memberRating>"
        f"<tmdb:movieId>{tmdb_id}</tmdb:movieId><letterboxd:watchedDate>2026-13-01</letterboxd:watchedDate></item>"
        "</channel></rss>"
    ).encode()

    [entry] = parse_feed(body).entries

    assert (entry.rating, entry.film_year, entry.tmdb_id) == expected
    assert entry.watched_date is None


def test_a_feed_with_a_document_type_is_refused_before_parsing() -> None:
    lol = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    body = f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]><rss version="2.0"><channel>'
    body += "<item><title>&l9;</title></item></channel></rss>"

    with pytest.raises(FeedMalformed, match="declares a document type"):
        parse_feed(body.encode())


def test_the_client_reads_under_the_configured_base_url() -> None:
    client = client_from_settings(Settings(letterboxd_base_url="http://127.0.0.1:9/proxy/"))  # type: ignore[arg-type]
    default = client_from_settings(Settings())

    assert client.http.base_url == "http://127.0.0.1:9/proxy"
    assert default.http.base_url == "https://letterboxd.com"
    reader: FeedReader = client  # the service is the core's FeedReader
    assert reader is client
