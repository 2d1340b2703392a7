"""A server's screenings as an iCalendar feed (RFC 5545) that members subscribe to.

Each screening is one VEVENT whose UID never changes (``screening-<our id>@filmclub``: our own id, never a Discord
one), so a calendar that fetched the feed before replaces its copy instead of adding a second. Each move,
cancellation or failure of a screening bumps its revision (``SEQUENCE``) and records when (``LAST-MODIFIED``,
``DTSTAMP``); a cancelled or failed screening stays in the feed with ``STATUS:CANCELLED`` for
:data:`KEEP_PAST`, so subscribed calendars learn of the cancellation rather than just losing the event.

The text is built to the letter of the RFC: lines end in CRLF, content lines longer than 75 octets are folded
(CRLF and a space, never inside a UTF-8 sequence), and TEXT values escape backslash, semicolon, comma and newlines.
Member-supplied text (a server film's title, a location) cannot add properties or components: control characters
are dropped and every newline is escaped. Nothing is read from the clock for the body, so an unchanged programme
gives the same bytes (and ETag) at every fetch.

The club's regular night (bot.core.nights) is in the feed from the moment the bot keeps it, before its film is
decided: one VEVENT per night, UID ``night-<our night id>@filmclub``, "film still to be decided" (and the season's
theme and week when one runs, as its Discord event says). The screening that fills the night is published under the
NIGHT's UID, not its own, with a SEQUENCE above any the night had (the night's revision, which the filling raised,
plus the screening's own), so subscribed calendars update the entry they hold in place. A night that ended without a
film (switched off, moved away by the settings, deleted by a moderator, lapsed) stays as ``STATUS:CANCELLED`` for
:data:`KEEP_PAST`, like a cancelled screening. A season programmed or ended raises the revision of the open nights it
covers (bot.core.seasons), since their description names it. A film that lost the race to fill a night was never
stored (bot.core.nights.fill_next_night), so no cancelled screening nobody saw is published.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core import nights as nights_core
from bot.core import seasons
from bot.core.clock import Clock, to_db
from bot.core.films import Film, get_films
from bot.db import nights as nights_db
from bot.db import screenings as screenings_db
from bot.db.database import Database, Reader
from bot.db.nights import Night, NightState
from bot.db.screenings import Screening, ScreeningStatus

#: Screenings that ended longer ago than this are left out of the feed (calendars keep what they already have).
KEEP_PAST = timedelta(days=180)
#: At most this many screenings in one feed.
MAX_EVENTS = 500
#: How often calendars are asked to fetch the feed again (REFRESH-INTERVAL, and the older X-PUBLISHED-TTL).
REFRESH = "PT1H"
PRODID = "-//filmclub//Screenings calendar//EN"
UID_DOMAIN = "filmclub"
#: RFC 5545 3.1: content lines SHOULD NOT be longer than 75 octets, excluding the line break.
LINE_OCTETS = 75
CRLF = "\r\n"

# Control characters have no place in a TEXT value (RFC 5545 3.3.11 allows none but HTAB); newlines are escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class CalendarEvent:
    """One screening as the feed shows it."""

    uid: str
    summary: str
    description: str
    location: str
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    sequence: int
    cancelled: bool
    modified_at: datetime | None = None
    url: str | None = None


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, newlines as ``\\n``, control
    characters dropped."""
    value = _CONTROL.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _NEWLINE.sub("\\\\n", value)


def fold(line: str) -> str:
    """A content line folded to lines of at most 75 octets (RFC 5545 3.1), each continuation starting with a space;
    a multi-octet UTF-8 character is never split."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            out.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # a continuation's leading space counts
        current.append(char)
        size += octets
    out.append("".join(current))
    return (CRLF + " ").join(out)


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form (``20261204T193000Z``)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def screening_uid(screening_id: int) -> str:
    return f"screening-{screening_id}@{UID_DOMAIN}"


def night_uid(night_id: int) -> str:
    return f"night-{night_id}@{UID_DOMAIN}"


def _property(name: str, value: str) -> str:
    return fold(f"{name}:{value}")


def render_event(event: CalendarEvent) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        _property("UID", event.uid),
        _property("DTSTAMP", utc_stamp(event.stamp)),
        _property("DTSTART", utc_stamp(event.starts_at)),
        _property("DTEND", utc_stamp(event.ends_at)),
        _property("SEQUENCE", str(event.sequence)),
        _property("STATUS", "CANCELLED" if event.cancelled else "CONFIRMED"),
        _property("SUMMARY", escape_text(event.summary)),
        _property("DESCRIPTION", escape_text(event.description)),
        _property("LOCATION", escape_text(event.location)),
        "TRANSP:OPAQUE",
    ]
    if event.modified_at is not None:
        lines.append(_property("LAST-MODIFIED", utc_stamp(event.modified_at)))
    if event.url is not None:
        lines.append(_property("URL;VALUE=URI", event.url))
    lines.append("END:VEVENT")
    return lines


def render_calendar(name: str, events: Iterable[CalendarEvent]) -> str:
    """The whole VCALENDAR object, CRLF line ends and all."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        _property("PRODID", PRODID),
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        _property("NAME", escape_text(name)),
        _property("X-WR-CALNAME", escape_text(name)),
        _property("REFRESH-INTERVAL;VALUE=DURATION", REFRESH),
        _property("X-PUBLISHED-TTL", REFRESH),
    ]
    for event in events:
        lines.extend(render_event(event))
    lines.append("END:VCALENDAR")
    return CRLF.join(lines) + CRLF


#: Where a screening or night in a voice or stage channel takes place (never a Discord id).
ON_DISCORD = "On the club's Discord server (voice)"


def _location(screening: Screening) -> str:
    return screening.location or ON_DISCORD


def calendar_event(
    screening: Screening, film: Film | None, *, film_url: str | None = None, night: Night | None = None
) -> CalendarEvent:
    """The VEVENT of one screening; ``film_url`` is the film's page (an absolute address), when known. A screening
    that filled ``night`` is published under the night's UID, its SEQUENCE counting on from the night's."""
    title = film.label if film is not None else "A film no longer listed"
    cancelled = screening.status in (ScreeningStatus.CANCELLED, ScreeningStatus.FAILED)
    description = "Film club screening" + (" (cancelled)" if cancelled else "")
    if film is not None and film.blurb:
        description += "\n\n" + film.blurb
    if film_url is not None:
        description += "\n\n" + film_url
    stamp = screening.modified_at or screening.created_at or screening.starts_at
    modified_at = screening.modified_at
    sequence = screening.revision
    if night is not None:  # filling raised the night's revision: above any SEQUENCE the undecided night had
        sequence += night.revision
        modified_at = screening.modified_at or night.modified_at
        stamp = modified_at or stamp
    return CalendarEvent(
        uid=screening_uid(screening.id) if night is None else night_uid(night.id),
        summary=("Cancelled: " if cancelled else "") + title,
        description=description,
        location=_location(screening),
        starts_at=screening.starts_at,
        ends_at=screening.ends_at,
        stamp=stamp,
        sequence=sequence,
        cancelled=cancelled,
        modified_at=modified_at,
        url=film_url,
    )


def night_event(night: Night, season: tuple[seasons.Season, int] | None) -> CalendarEvent:
    """The VEVENT of a night no film filled: open (the film still to be decided) or ended without one (cancelled)."""
    cancelled = night.state is not NightState.OPEN
    description = nights_core.night_about(season) + (" (cancelled)" if cancelled else "")
    return CalendarEvent(
        uid=night_uid(night.id),
        summary=("Cancelled: " if cancelled else "") + nights_core.UNDECIDED_NAME,
        description=description,
        location=ON_DISCORD,
        starts_at=night.starts_at,
        ends_at=nights_core.night_end(night),
        stamp=night.modified_at or night.created_at or night.starts_at,
        sequence=night.revision,
        cancelled=cancelled,
        modified_at=night.modified_at,
    )


def _shown(screening: Screening) -> bool:
    """A failed screening that never had its Discord event was never announced; one that had is shown cancelled."""
    return screening.status is not ScreeningStatus.FAILED or screening.event_id is not None


async def feed_screenings(db: Reader, clock: Clock, guild_id: int, filled: Collection[int] = ()) -> list[Screening]:
    """The screenings the server's feed lists: those ending within :data:`KEEP_PAST` or later, soonest first. One
    that filled a night (``filled``) is listed however it ended: the night it took over was announced."""
    since = to_db(clock.now() - KEEP_PAST)
    return [s for s in await screenings_db.for_calendar(db, guild_id, since, MAX_EVENTS) if _shown(s) or s.id in filled]


async def feed_nights(db: Reader, clock: Clock, guild_id: int) -> list[Night]:
    """The nights the server's feed lists: those ending within :data:`KEEP_PAST` or later, and those filled by a
    screening the feed lists; the earliest first."""
    since = clock.now() - KEEP_PAST
    return await nights_db.for_calendar(db, guild_id, to_db(since - nights_core.NIGHT_LENGTH), to_db(since), MAX_EVENTS)


async def calendar_feed(db: Database, clock: Clock, guild_id: int, *, name: str, film_url: str | None = None) -> str:
    """The server's feed as iCalendar text. ``film_url`` is a format string with
    ``{film_id}`` giving a film page's absolute address (None: no links)."""
    nights = await feed_nights(db, clock, guild_id)
    filled = {n.screening_id: n for n in nights if n.screening_id is not None}
    screenings = await feed_screenings(db, clock, guild_id, filled)
    films = await get_films(db, {s.film_id for s in screenings})
    events = [
        calendar_event(
            s,
            films.get(s.film_id),
            film_url=None if film_url is None else film_url.format(film_id=s.film_id),
            night=filled.get(s.id),
        )
        for s in screenings
    ]
    for night in nights:
        if night.screening_id is None:  # a filled one is its screening's event, above
            season = await seasons.season_at(db, guild_id, night.starts_at) if night.state is NightState.OPEN else None
            events.append(night_event(night, season))
    events.sort(key=lambda event: event.starts_at)  # stable: screenings, then nights, each in the database's order
    return render_calendar(f"{name}: screenings", events[:MAX_EVENTS])
