"""The screenings calendar feed (RFC 5545) on a real database: stable UIDs, SEQUENCE and LAST-MODIFIED that follow
moves and cancellations, CRLF line ends, folding at 75 octets, escaping, and hostile titles that cannot forge
properties or events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import calendar, config, nights, screenings, seasons
from bot.core.catalog import load_catalog
from bot.core.films import active_films, get_films, list_themes
from bot.core.timers import TimerService
from bot.db.database import Database
from tests.catalog_builder import starter_catalog
from tests.clocks import FixedClock
from tests.server_films import add_server_film

GUILD = 1000
OTHER_GUILD = 1001
ANNOUNCE = 2000
VOICE = 2100
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOSTILE = 'Evil\r\nEND:VEVENT\r\nBEGIN:VEVENT\nUID:x; a,b \\ <script>alert("x")</script>\x07 ' + "é" * 40


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
async def film_id(db: Database, tmp_path: Path) -> int:
    await load_catalog(db, starter_catalog(tmp_path / "catalog"))
    return next(f.id for f in await active_films(db) if f.slug == "the-last-waltz")


async def schedule(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int, *, days: int = 1, guild: int = GUILD
) -> screenings.Screening:
    planned = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=guild,
        film_id=film_id,
        starts_at=START + timedelta(days=days),
        announce_channel_id=ANNOUNCE,
        channel_id=VOICE,
    )
    return await screenings.attach_event(db, clock, timers, planned.id, 900 + planned.id)


def parse(feed: str) -> list[dict[str, str]]:
    """The feed's components as property maps (unfolded, unescaped), checking the RFC's framing on the way."""
    assert feed.endswith("\r\n")
    assert "\n" not in feed.replace("\r\n", "")  # no bare LF, no bare CR
    for physical in feed.split("\r\n")[:-1]:
        assert len(physical.encode("utf-8")) <= calendar.LINE_OCTETS
    lines = feed.replace("\r\n ", "").split("\r\n")[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    components: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines[1:-1]:
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            components.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            assert name.split(";")[0] not in current, f"{name} twice in one event"
            current[name.split(";")[0]] = value
    assert current is None
    return components


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


async def feed_of(db: Database, clock: FixedClock, guild: int = GUILD) -> str:
    return await calendar.calendar_feed(
        db, clock, guild, name="Film Club", film_url="https://films.example/c/s/films/{film_id}"
    )


def test_text_values_escape_backslash_semicolon_comma_and_newlines() -> None:
    assert calendar.escape_text("a\\b;c,d\ne\r\nf\rg") == "a\\\\b\\;c\\,d\\ne\\nf\\ng"
    assert calendar.escape_text("bell\x07 nul\x00 del\x7f tab\t") == "bell nul del tab\t"


@pytest.mark.parametrize("text", ["x" * 74, "x" * 75, "x" * 76, "x" * 400, "é" * 100, "ab" + "🎬" * 50, ""])
def test_folding_keeps_lines_within_75_octets_and_unfolds_to_the_original(text: str) -> None:
    folded = calendar.fold("SUMMARY:" + text)
    physical = folded.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert all(line.startswith(" ") for line in physical[1:])
    assert folded.replace("\r\n ", "") == "SUMMARY:" + text
    for line in physical:
        line.encode("utf-8").decode("utf-8")  # no character split across lines


async def test_a_screening_is_one_event_with_a_stable_uid_that_moves_and_cancellation_revise(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    screening = await schedule(db, clock, timers, film_id)
    [event] = parse(await feed_of(db, clock))
    assert event["UID"] == f"screening-{screening.id}@filmclub"
    assert event["SUMMARY"] == "The Last Waltz (1978)"
    assert event["DTSTART"] == "20260302T120000Z"
    assert event["DTEND"] == calendar.utc_stamp(screening.ends_at)
    assert event["SEQUENCE"] == "0" and event["STATUS"] == "CONFIRMED"
    assert event["DTSTAMP"] == "20260301T120000Z"  # when it was planned
    assert "LAST-MODIFIED" not in event
    assert event["URL"] == f"https://films.example/c/s/films/{film_id}"

    clock.advance(timedelta(hours=2))
    later = START + timedelta(days=2)
    await screenings.move_screening(db, clock, timers, screening.id, later, later + timedelta(hours=3))
    [moved] = parse(await feed_of(db, clock))
    assert moved["UID"] == event["UID"]
    assert moved["DTSTART"] == "20260303T120000Z" and moved["DTEND"] == "20260303T150000Z"
    assert moved["SEQUENCE"] == "1" and moved["STATUS"] == "CONFIRMED"
    assert moved["LAST-MODIFIED"] == moved["DTSTAMP"] == "20260301T140000Z"

    clock.advance(timedelta(hours=1))
    assert await screenings.cancel_screening(db, timers, screening.id)
    [cancelled] = parse(await feed_of(db, clock))
    assert cancelled["UID"] == event["UID"]
    assert cancelled["STATUS"] == "CANCELLED" and cancelled["SEQUENCE"] == "2"
    assert cancelled["SUMMARY"].startswith("Cancelled: ")
    assert cancelled["LAST-MODIFIED"] == "20260301T150000Z"


async def test_the_feed_is_the_same_bytes_until_something_changes(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    await schedule(db, clock, timers, film_id)
    first = await feed_of(db, clock)
    clock.advance(timedelta(minutes=30))
    assert await feed_of(db, clock) == first


async def test_hostile_titles_and_locations_cannot_forge_properties_or_events(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    hostile = await add_server_film(db, GUILD, HOSTILE, 1999, blurb="line one\nDESCRIPTION:forged; x")
    planned = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=hostile,
        starts_at=START + timedelta(days=1),
        announce_channel_id=ANNOUNCE,
        channel_id=None,
        location="Hall; row 3, seat \\7",
        length=timedelta(hours=2),
    )
    await screenings.attach_event(db, clock, timers, planned.id, 901)
    feed = await feed_of(db, clock)
    [event] = parse(feed)  # one event: the title's END/BEGIN lines stayed inside SUMMARY
    assert feed.count("\r\nBEGIN:VEVENT\r\n") == 1 and "\r\nUID:x" not in feed
    stored = (await get_films(db, [hostile]))[hostile]
    assert "<script>" in stored.title  # stored as given; the feed escapes it
    assert unescape(event["SUMMARY"]) == calendar._CONTROL.sub("", stored.label)
    assert unescape(event["LOCATION"]) == "Hall; row 3, seat \\7"
    assert event["LOCATION"] == "Hall\\; row 3\\, seat \\\\7"
    assert "DESCRIPTION:forged; x" in stored.blurb and stored.blurb in unescape(event["DESCRIPTION"])


async def test_only_this_servers_recent_and_coming_screenings_are_listed(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    mine = await schedule(db, clock, timers, film_id)
    await schedule(db, clock, timers, film_id, guild=OTHER_GUILD)
    [event] = parse(await feed_of(db, clock))
    assert event["UID"] == calendar.screening_uid(mine.id)
    clock.advance(calendar.KEEP_PAST + timedelta(days=3))
    assert parse(await feed_of(db, clock)) == []


async def test_a_screening_whose_event_was_never_created_is_left_out_once_failed(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    planned = await screenings.plan_screening(
        db,
        clock,
        timers,
        guild_id=GUILD,
        film_id=film_id,
        starts_at=START + timedelta(days=1),
        announce_channel_id=ANNOUNCE,
        channel_id=VOICE,
    )
    assert len(parse(await feed_of(db, clock))) == 1  # planned: listed already
    await screenings.mark_failed(db, clock, planned.id)
    assert parse(await feed_of(db, clock)) == []
    failed_late = await schedule(db, clock, timers, film_id, days=2)
    await screenings.abandon(db, timers, failed_late.id)  # it had its Discord event: subscribers are told
    [event] = parse(await feed_of(db, clock))
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == "1"


# -- the regular night ------------------------------------------------------------------------------------------------

MOD = 7
FRIDAY = 4
FRIDAY_NIGHT = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # the first Friday 20:00 (London, GMT) after START


async def night_kept(db: Database, clock: FixedClock, timers: TimerService, event_id: int = 555) -> nights.Night:
    """Configure the Friday night as /config screenings does and keep it as the nights extension does."""
    await config.set_timezone(db, clock, timers, GUILD, MOD, "Europe/London")
    await config.set_night(db, clock, timers, GUILD, MOD, day=FRIDAY, at="20:00", channel_id=VOICE)
    plan = await nights.keep_night(db, clock, timers, GUILD)
    assert plan.night is not None
    await nights.record_event(db, plan.night.id, event_id)
    return plan.night


async def test_an_undecided_night_is_an_event_whose_uid_a_film_filling_it_keeps(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    night = await night_kept(db, clock, timers)
    feed = await feed_of(db, clock)
    [open_night] = parse(feed)
    assert open_night["UID"] == f"night-{night.id}@filmclub"
    assert open_night["SUMMARY"] == "Film night — the film is still to be decided"
    assert open_night["STATUS"] == "CONFIRMED" and open_night["SEQUENCE"] == "0"
    assert open_night["DTSTART"] == "20260306T200000Z"
    assert open_night["DTEND"] == calendar.utc_stamp(FRIDAY_NIGHT + nights.NIGHT_LENGTH)
    assert open_night["DTSTAMP"] == "20260301T120000Z" and "LAST-MODIFIED" not in open_night
    assert unescape(open_night["LOCATION"]) == "On the club's Discord server (voice)"
    assert "still to be decided" in unescape(open_night["DESCRIPTION"]) and "URL" not in open_night
    assert "555" not in feed and str(VOICE) not in feed  # no Discord ids

    clock.advance(timedelta(hours=3))
    screening = await nights.fill_next_night(
        db, clock, timers, guild_id=GUILD, film_id=film_id, announce_channel_id=ANNOUNCE
    )
    assert screening is not None
    await screenings.attach_event(db, clock, timers, screening.id, 555)  # it takes the night's event over
    [filled] = parse(await feed_of(db, clock))  # the same entry, not a cancelled night beside a new screening
    assert filled["UID"] == open_night["UID"]
    assert filled["SUMMARY"] == "The Last Waltz (1978)" and filled["STATUS"] == "CONFIRMED"
    assert int(filled["SEQUENCE"]) > int(open_night["SEQUENCE"])
    assert filled["LAST-MODIFIED"] == filled["DTSTAMP"] == "20260301T150000Z"
    assert filled["URL"] == f"https://films.example/c/s/films/{film_id}"

    clock.advance(timedelta(hours=1))
    later = FRIDAY_NIGHT + timedelta(hours=1)
    await screenings.move_screening(db, clock, timers, screening.id, later, later + timedelta(hours=3))
    [moved] = parse(await feed_of(db, clock))
    assert moved["UID"] == open_night["UID"] and moved["DTSTART"] == "20260306T210000Z"
    assert int(moved["SEQUENCE"]) > int(filled["SEQUENCE"]) and moved["LAST-MODIFIED"] == "20260301T160000Z"

    clock.advance(timedelta(hours=1))
    assert await screenings.cancel_screening(db, timers, screening.id)
    [cancelled] = parse(await feed_of(db, clock))
    assert cancelled["UID"] == open_night["UID"] and cancelled["STATUS"] == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(moved["SEQUENCE"])


async def test_a_night_switched_off_moved_by_the_settings_deleted_or_lapsed_stays_cancelled(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    night = await night_kept(db, clock, timers)
    [first] = parse(await feed_of(db, clock))
    clock.advance(timedelta(hours=1))
    await config.set_night(db, clock, timers, GUILD, MOD, at="21:00", channel_id=VOICE)
    await nights.keep_night(db, clock, timers, GUILD)
    [moved] = parse(await feed_of(db, clock))
    assert moved["UID"] == first["UID"] and moved["DTSTART"] == "20260306T210000Z"
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"]) and moved["LAST-MODIFIED"] == "20260301T130000Z"

    clock.advance(timedelta(hours=1))
    await config.set_night(db, clock, timers, GUILD, MOD, off=True)
    await nights.keep_night(db, clock, timers, GUILD)
    [off] = parse(await feed_of(db, clock))
    assert off["UID"] == first["UID"] and off["STATUS"] == "CANCELLED" and off["SUMMARY"].startswith("Cancelled: ")
    assert int(off["SEQUENCE"]) > int(moved["SEQUENCE"]) and off["LAST-MODIFIED"] == "20260301T140000Z"

    await config.set_night(db, clock, timers, GUILD, MOD, day=FRIDAY, at="21:00", channel_id=VOICE)
    again = await nights.keep_night(db, clock, timers, GUILD)  # on again: the same night reopened, with a new event
    assert again.night is not None and again.night.id == night.id
    await nights.record_event(db, night.id, 556)
    [reopened] = parse(await feed_of(db, clock))
    assert reopened["UID"] == first["UID"] and reopened["STATUS"] == "CONFIRMED"
    assert int(reopened["SEQUENCE"]) > int(off["SEQUENCE"])

    assert await nights.event_gone(db, clock, 556) is not None  # a moderator deleted its event in Discord
    [deleted] = parse(await feed_of(db, clock))
    assert deleted["STATUS"] == "CANCELLED" and int(deleted["SEQUENCE"]) > int(reopened["SEQUENCE"])

    clock.moment = FRIDAY_NIGHT + timedelta(hours=1)  # the deleted night's start: the week after's is planned
    await nights.keep_night(db, clock, timers, GUILD)
    clock.moment = FRIDAY_NIGHT + timedelta(days=7, hours=1)  # and comes without a film: it lapses
    await nights.keep_night(db, clock, timers, GUILD)
    events = {e["UID"]: e for e in parse(await feed_of(db, clock))}
    assert events[f"night-{night.id}@filmclub"]["STATUS"] == "CANCELLED"
    lapsed = [e for uid, e in events.items() if e["DTSTART"] == "20260313T210000Z"]
    assert [(e["STATUS"], e["SEQUENCE"]) for e in lapsed] == [("CANCELLED", "1")]
    clock.advance(calendar.KEEP_PAST + timedelta(days=8))
    assert [e for e in parse(await feed_of(db, clock)) if e["STATUS"] == "CANCELLED"] == []  # kept KEEP_PAST


async def test_the_feed_with_nights_is_the_same_bytes_until_something_changes(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    await night_kept(db, clock, timers)
    await schedule(db, clock, timers, film_id, days=2)
    first = await feed_of(db, clock)
    assert [e["UID"].split("-")[0] for e in parse(first)] == ["screening", "night"]  # soonest first
    clock.advance(timedelta(minutes=30))
    assert await feed_of(db, clock) == first
    await nights.fill_next_night(db, clock, timers, guild_id=GUILD, film_id=film_id, announce_channel_id=ANNOUNCE)
    filled = await feed_of(db, clock)
    assert filled != first
    clock.advance(timedelta(minutes=30))
    assert await feed_of(db, clock) == filled


async def test_the_undecided_night_says_the_seasons_theme_and_week(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    theme = next(t for t in await list_themes(db) if t.film_count)
    await seasons.create_season(
        db, clock, timers, guild_id=GUILD, user_id=MOD, theme=theme, weeks=2, start="2026-03-02 00:00", timezone="UTC"
    )
    await night_kept(db, clock, timers)
    [event] = parse(await feed_of(db, clock))
    assert f"Season: {theme.title} (week 1 of 2)." in unescape(event["DESCRIPTION"])


async def test_a_season_programmed_or_ended_raises_the_open_nights_sequence(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    del film_id
    await night_kept(db, clock, timers)
    [before] = parse(await feed_of(db, clock))
    assert "Season:" not in unescape(before["DESCRIPTION"])
    theme = next(t for t in await list_themes(db) if t.film_count)
    clock.advance(timedelta(hours=1))
    await seasons.create_season(
        db, clock, timers, guild_id=GUILD, user_id=MOD, theme=theme, weeks=2, start="2026-03-02 00:00", timezone="UTC"
    )
    [during] = parse(await feed_of(db, clock))
    assert during["UID"] == before["UID"]
    assert f"Season: {theme.title} (week 1 of 2)." in unescape(during["DESCRIPTION"])
    assert int(during["SEQUENCE"]) > int(before["SEQUENCE"]) and during["LAST-MODIFIED"] == "20260301T130000Z"

    clock.advance(timedelta(hours=1))  # cancelled before it starts: the night no longer shows its theme
    await seasons.end_season(db, clock, timers, guild_id=GUILD, user_id=MOD)
    [after] = parse(await feed_of(db, clock))
    assert "Season:" not in unescape(after["DESCRIPTION"])
    assert int(after["SEQUENCE"]) > int(during["SEQUENCE"]) and after["LAST-MODIFIED"] == "20260301T140000Z"


async def test_a_season_changes_no_night_outside_it(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    del film_id
    await night_kept(db, clock, timers)
    [before] = parse(await feed_of(db, clock))
    theme = next(t for t in await list_themes(db) if t.film_count)
    await seasons.create_season(  # starts after the night: its description is unchanged, and so is its SEQUENCE
        db, clock, timers, guild_id=GUILD, user_id=MOD, theme=theme, weeks=1, start="2026-03-09 00:00", timezone="UTC"
    )
    assert parse(await feed_of(db, clock)) == [before]


async def test_two_films_racing_for_the_night_leave_no_cancelled_entry(
    db: Database, clock: FixedClock, timers: TimerService, film_id: int
) -> None:
    night = await night_kept(db, clock, timers)
    other = next(f.id for f in await active_films(db) if f.id != film_id)
    await asyncio.gather(
        *(
            nights.fill_next_night(db, clock, timers, guild_id=GUILD, film_id=f, announce_channel_id=ANNOUNCE)
            for f in (film_id, other)
        )
    )
    events = parse(await feed_of(db, clock))
    assert [e["UID"] for e in events] == [f"night-{night.id}@filmclub"]
    assert events[0]["STATUS"] == "CONFIRMED" and not events[0]["SUMMARY"].startswith("Cancelled")
