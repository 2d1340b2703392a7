"""The calendar feed and the JSON API over HTTP (aiohttp's test client, real storage on both backends): what they
answer, the same 404 for unknown and retired addresses, no Discord ids, ETag/304, and a cancellation reaching the
feed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import config, nights, screenings, web_pages
from bot.core.timers import TimerService
from bot.db.database import Database
from tests.club_pages import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    GUILD,
    HOSTILE,
    MAYA,
    NEXT_EVENT,
    PAST_EVENT,
    PICKS_MESSAGE,
    POLL_MESSAGE,
    VOICE,
    Site,
    Ticks,
    serve_club,
)

DISCORD_IDS = (GUILD, CHANNEL, VOICE, MAYA, ALICE, BOB, CAROL, PAST_EVENT, NEXT_EVENT, PICKS_MESSAGE, POLL_MESSAGE)


@pytest.fixture
async def site(db: Database, tmp_path: Path) -> AsyncIterator[Site]:
    async with serve_club(db, tmp_path, Ticks()) as site:
        yield site


async def api(site: Site, path: str, status: int = 200, **params: str) -> Any:
    response = await site.client.get(site.home + path, params=params)
    assert response.status == status, await response.text()
    if status != 200:
        return await response.text()
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = await response.text()
    for discord_id in DISCORD_IDS:
        assert str(discord_id) not in text, discord_id
    body = json.loads(text)
    assert body["api"] == 1
    return body


async def test_the_club_json_is_the_club_pages_data(site: Site) -> None:
    body = await api(site, "api/club.json")
    assert body["kind"] == "club"
    club = body["data"]
    assert club["timezone"] == "Europe/Paris"
    assert club["next_screening"]["id"] == site.club.next_screening.id
    assert club["next_screening"]["has_event"] is True
    assert club["next_screening"]["starts_at"].endswith("Z")
    polls = {poll["id"]: poll for poll in club["open_polls"]}
    assert polls[site.club.open_poll.id]["ballots"] == 1
    assert all(option["votes"] is None for option in polls[site.club.hidden_poll.id]["options"])
    assert [r["id"] for r in club["results"]] == [site.club.closed_poll.id]
    reviews = {review["body"]: review for review in club["reviews"]}
    assert reviews[HOSTILE]["author"] == "a member"  # JSON carries the text as written; JSON escaping is the client's
    assert reviews["The twist!"]["spoiler"] is True


async def test_members_are_named_in_the_json_only_when_moderators_choose_so(site: Site) -> None:
    await web_pages.configure(site.db, site.clock, GUILD, MAYA, show_members=True)
    club = (await api(site, "api/club.json"))["data"]
    assert {review["author"] for review in club["reviews"]} == {"Alice <i>", "Bob"}


async def test_film_catalog_theme_and_search_json(site: Site) -> None:
    film = (await api(site, f"api/films/{site.club.ids['noir-1']}.json"))["data"]
    assert film["film"]["title"] == "Noir 1" and film["count"] == 2 and len(film["histogram"]) == 10
    assert await api(site, "api/films/424242.json", status=404) == "Not found"
    themes = (await api(site, "api/catalog.json"))["data"]
    assert [theme["slug"] for theme in themes] == ["noir"]
    theme = (await api(site, "api/catalog/noir.json"))["data"]
    assert theme["theme"]["slug"] == "noir" and "The Last Waltz" in [f["title"] for f in theme["films"]]
    assert await api(site, "api/catalog/nope.json", status=404) == "Not found"
    found = (await api(site, "api/search.json", q="last walts"))["data"]
    assert found["films"][0]["title"] == "The Last Waltz"
    assert (await api(site, "api/search.json", q=""))["data"]["films"] == []
    huge = await site.client.get(site.home + "api/search.json", params={"q": "x" * 5000})
    assert huge.status == 414


async def test_the_calendar_feed_lists_the_screenings_and_follows_a_cancellation(site: Site, db: Database) -> None:
    path = site.home + "calendar.ics"
    response = await site.client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = await response.read()
    text = body.decode("utf-8")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    unfolded = text.replace("\r\n ", "")
    uid = f"UID:screening-{site.club.next_screening.id}@filmclub"
    assert uid in unfolded and f"UID:screening-{site.club.past_screening.id}@filmclub" in unfolded
    assert f"{site.home}films/{site.club.next_screening.film_id}" in unfolded  # absolute link to the film page
    assert "X-WR-CALNAME:Film <Club>: screenings" in unfolded
    for discord_id in DISCORD_IDS:
        assert str(discord_id) not in text, discord_id

    tag = response.headers["ETag"]
    again = await site.client.get(path, headers={"If-None-Match": tag})
    assert again.status == 304

    timers = TimerService(db, site.clock)
    assert await screenings.cancel_screening(db, timers, site.club.next_screening.id)
    changed = await site.client.get(path, headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag
    event = (await changed.text()).replace("\r\n ", "").split(uid)[1].split("END:VEVENT")[0]
    assert "STATUS:CANCELLED" in event and "SEQUENCE:1" in event


@pytest.mark.parametrize(
    "path", ["calendar.ics", "api/club.json", "api/catalog.json", "api/search.json?q=x", "api/films/1.json"]
)
async def test_an_unknown_or_retired_address_is_the_same_plain_404(site: Site, path: str) -> None:
    old = site.home
    await web_pages.configure(site.db, site.clock, GUILD, MAYA, rotate=True)
    for slug in ("A" * 24, old.split("/")[2], "..", "x"):
        response = await site.client.get(f"/c/{slug}/{path}")
        assert response.status == 404 and await response.text() == "Not found"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_the_undecided_night_in_the_json_the_page_and_the_feed(site: Site, db: Database) -> None:
    timers = TimerService(db, site.clock)
    tomorrow = site.clock.now().astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=1)
    await config.set_night(db, site.clock, timers, GUILD, MAYA, day=tomorrow.weekday(), at="21:00", channel_id=VOICE)
    plan = await nights.keep_night(db, site.clock, timers, GUILD)
    assert plan.night is not None
    await nights.record_event(db, plan.night.id, NEXT_EVENT + 1)
    club = (await api(site, "api/club.json"))["data"]
    start = plan.night.starts_at.isoformat().replace("+00:00", "Z")
    assert club["next_night"] == {
        "starts_at": start,
        "ends_at": club["next_night"]["ends_at"],
        "season": None,
        "week": None,
        "weeks": None,
    }
    assert club["next_screening"]["id"] == site.club.next_screening.id
    html = await (await site.client.get(site.home)).text()
    assert "<h3>Film night</h3>" in html and "The film is still to be decided." in html
    feed = (await (await site.client.get(site.home + "calendar.ics")).text()).replace("\r\n ", "")
    assert f"UID:night-{plan.night.id}@filmclub" in feed and str(NEXT_EVENT + 1) not in feed
