"""Weekly schedule arithmetic in a server's own timezone, correct across daylight-saving changes.

A weekly slot is a local weekday and wall-clock time ("Friday 20:00 in Europe/London"). Each week's slot is found on
the calendar in local time and only then turned into a UTC instant, so it stays at 20:00 local when the clocks change
(adding 7 × 24 hours to last week's instant would drift by an hour twice a year).

Two local times need a rule:

- a time that does not exist, in the spring-forward gap (02:30 on the night New York jumps from 02:00 to 03:00),
  happens as many minutes after the jump as it was after the gap's start: 03:30 local;
- a time that happens twice, in the fall-back overlap (01:30 on the night New York goes back from 02:00 to 01:00),
  happens the first time only.

Both are PEP 495's ``fold=0`` reading, so each week has exactly one slot, never zero and never two.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UserError
from bot.core.text import did_you_mean, fold

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^\s*(?P<h>\d{1,2})[:.h](?P<m>\d{2})(?::(?P<s>\d{2}))?\s*$")
WEEK = timedelta(days=7)


# -- times and timezones ------------------------------------------------------------------------------------------


def parse_time(text: str) -> time:
    """A 24-hour "HH:MM" (or "HH:MM:SS") that a moderator typed; anything else is their mistake."""
    match = _TIME.match(text)
    if match:
        hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second)
    raise UserError(f"{text.strip()[:20]!r} is not a time: use 24-hour HH:MM, for example 20:00.")


def format_time(moment: time) -> str:
    """ "20:00", or "20:00:30" when the seconds matter."""
    return moment.strftime("%H:%M:%S" if moment.second else "%H:%M")


#: Names the tz database carries that are not a place's time.
_NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def _all_timezones() -> dict[str, str]:
    """Folded name -> IANA name, for every zone this machine knows, legacy aliases ("GMT", "Japan") included."""
    return {fold(name): name for name in available_timezones() if name not in _NOT_ZONES}


@cache
def timezone_names() -> tuple[str, ...]:
    """The IANA "Region/City" names (and UTC), sorted: what autocomplete and suggestions offer."""
    return tuple(sorted(name for name in _all_timezones().values() if "/" in name or name == "UTC"))


def zone(name: str) -> ZoneInfo:
    """The timezone called ``name``; the name was validated when it was saved, so failure here is a bug."""
    return ZoneInfo(name)


def resolve_timezone(text: str) -> str:
    """The IANA name a moderator meant (any letter case), or a "did you mean" error."""
    cleaned = text.strip()
    name = _all_timezones().get(fold(cleaned).replace(" ", "_"))
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            name = None
        else:
            return name
    suggestions = did_you_mean(cleaned, timezone_names(), limit=3)
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserError(f"{cleaned[:60]!r} is not a timezone I know.{hint} Use a name like Europe/London.")


def search_timezones(text: str, limit: int = 25) -> list[str]:
    """Timezone names for autocomplete: prefix matches (of the name or its city), then contains, then fuzzy."""
    names = timezone_names()
    query = fold(text.strip()).replace(" ", "_")
    if not query:
        return list(names[:limit])
    starts = [n for n in names if fold(n).startswith(query) or fold(n.rsplit("/", 1)[-1]).startswith(query)]
    found = starts + [n for n in names if query in fold(n) and n not in starts]
    if len(found) < limit:
        found += [n for n in did_you_mean(text, names, limit=limit, cutoff=70) if n not in found]
    return found[:limit]


# -- weekly slots ---------------------------------------------------------------------------------------------------


def local_slot(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on local ``day`` (gaps move forward; overlaps take the first)."""
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def next_slot(after: datetime, tz: ZoneInfo, weekday: int, at: time) -> datetime:
    """The first weekly slot strictly after ``after`` (a UTC instant)."""
    local_day = after.astimezone(tz).date()
    day = local_day + timedelta(days=(weekday - local_day.weekday()) % 7) - WEEK
    while True:
        slot = local_slot(day, at, tz)
        if slot > after:
            return slot
        day += WEEK


def previous_slot(before: datetime, tz: ZoneInfo, weekday: int, at: time) -> datetime:
    """The last weekly slot at or before ``before``."""
    local_day = before.astimezone(tz).date()
    day = local_day + timedelta(days=(weekday - local_day.weekday()) % 7) + WEEK
    while True:
        slot = local_slot(day, at, tz)
        if slot <= before:
            return slot
        day -= WEEK


def is_slot(moment: datetime, tz: ZoneInfo, weekday: int, at: time) -> bool:
    """Whether ``moment`` is one of the schedule's slots (a timer from an older schedule is not)."""
    return next_slot(moment - timedelta(microseconds=1), tz, weekday, at) == moment


def week_key(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week of ``moment`` in the server's timezone, e.g. "2026-W11": one post per server per key."""
    year, week, _day = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def weeks_before(key: str, count: int) -> list[str]:
    """The ``count`` week keys before ``key``, most recent first."""
    year, week = key.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    keys = []
    for back in range(1, count + 1):
        y, w, _d = (monday - back * WEEK).isocalendar()
        keys.append(f"{y}-W{w:02d}")
    return keys
