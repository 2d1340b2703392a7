"""Reading the deadlines, lengths and start times moderators type: "90m", "3d 4h", "2w", "2026-06-05 20:00",
"friday 20:30", each checked against the range its input allows.

A duration counts from now. A date and time is read in the server's timezone (``GuildSettings.timezone``), so
"20:00" means eight in the evening where the club is, summer time included; it is returned in UTC.

Every input states its range where it is read: a :class:`Span` for a duration (a reminder from 0 to a week) and a
:class:`Window` for a moment (a screening still ahead and at most a year away). A value outside it, however large
("999999w", a 300-digit number, "0001-01-01"), is a :class:`UserError` that names the allowed range, never an
``OverflowError``. A moment is checked against the same ``now`` it was read from, so "3s" with a three-second minimum
is exactly three seconds and accepted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import UserError

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "week": 604800,
    "weeks": 604800,
}
_PART = re.compile(r"(\d+(?:\.\d+)?) ?([a-z]+)")
# On normalised text (lower case, commas as spaces, single spaces): each separator can be read one way only, so a
# long line that is not a duration is refused in linear time (the older pattern backtracked exponentially).
_DURATION = re.compile(r"(?:in )?\d+(?:\.\d+)? ?[a-z]+(?:(?: and | )?\d+(?:\.\d+)? ?[a-z]+)*")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

FORMAT_HINT = 'a duration such as "90m", "3d" or "2w", or a date and time such as "2026-06-05 20:00" or "friday 20:00"'
DURATION_HINT = 'a duration such as "30m", "2h" or "1d"'
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Span:
    """The durations one input accepts (a reminder from 0 to a week) and its name in the refusal."""

    what: str
    shortest: timedelta
    longest: timedelta

    def allowed(self) -> str:
        """The range in words: "at most 1 week", "from 1 second to 3 days"."""
        if self.shortest <= timedelta(0):
            return f"at most {describe_duration(self.longest)}"
        return f"from {describe_duration(self.shortest)} to {describe_duration(self.longest)}"

    def check_seconds(self, seconds: float) -> timedelta:
        """``seconds`` (possibly huge or infinite) as a timedelta if it is in range; a :class:`UserError` if not."""
        if not self.shortest.total_seconds() <= seconds <= self.longest.total_seconds():
            raise UserError(f"{self.what} can be {self.allowed()}.")
        return timedelta(seconds=round(seconds))


@dataclass(frozen=True)
class Window:
    """The moments one input accepts, relative to now: at least ``soonest`` ahead (0: any time still ahead) and at
    most ``latest`` ahead."""

    what: str
    soonest: timedelta
    latest: timedelta

    def allowed(self) -> str:
        low = "still ahead" if self.soonest <= timedelta(0) else f"at least {describe_duration(self.soonest)} from now"
        return f"{low} and at most {describe_duration(self.latest)} ahead"

    def check_ahead(self, seconds: float) -> None:
        """Raise the refusal if a moment ``seconds`` after now (possibly huge, infinite or negative) is outside."""
        if seconds <= 0:
            raise UserError(
                f"{self.what} is in the past; give a time that is still ahead (at most "
                f"{describe_duration(self.latest)} ahead)."
            )
        if seconds < self.soonest.total_seconds():
            raise UserError(f"{self.what} is too close: it has to be {self.allowed()}.")
        if seconds > self.latest.total_seconds():
            raise UserError(f"{self.what} is too far ahead: it has to be {self.allowed()}.")

    def check(self, moment: datetime, now: datetime) -> datetime:
        """``moment`` if it is in the window counted from ``now`` (the one reading it was parsed against)."""
        self.check_ahead((moment - now).total_seconds())
        return moment


#: When a caller states no range: no duration or date this bot reads is ever more than a year away.
ANY_DURATION = Span("A duration", timedelta(0), YEAR)
AHEAD = Window("That time", timedelta(0), YEAR)


def server_zone(name: str) -> ZoneInfo:
    """The server's timezone; an unknown name (a bad setting) falls back to UTC rather than failing every command."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _normalised(text: str) -> str:
    return " ".join(text.strip().lower().replace(",", " ").split())


def _seconds(text: str) -> float | None:
    """The seconds a duration such as "1h30m" stands for (``inf`` for absurdly many); None if it is not one."""
    cleaned = _normalised(text)
    if not _DURATION.fullmatch(cleaned):
        return None
    seconds = 0.0
    for amount, unit in _PART.findall(cleaned):
        if unit not in _UNITS:
            return None
        seconds += float(amount) * _UNITS[unit]  # a 400-digit amount is inf here, never an OverflowError
    return seconds if not math.isnan(seconds) else math.inf


def parse_duration(text: str, *, within: Span = ANY_DURATION) -> timedelta | None:
    """ "90m", "1h30m", "3 days", "2w" -> a timedelta; None if ``text`` is not a duration at all; a
    :class:`UserError` naming the range if it is one but outside ``within``."""
    seconds = _seconds(text)
    return None if seconds is None else within.check_seconds(seconds)


def read_duration(text: str, within: Span) -> timedelta:
    """A duration that has to be one ("0" too, when ``within`` allows nothing): the ``length`` or ``remind`` options."""
    if _normalised(text) == "0":
        return within.check_seconds(0)
    duration = parse_duration(text, within=within)
    if duration is None:
        raise UserError(f"Give {within.what.lower()} as {DURATION_HINT} ({within.allowed()}).")
    return duration


def _time_of_day(text: str) -> time | None:
    match = _TIME.match(text.strip())
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``at`` on the server's wall clock; a time skipped by a clock change moves forward with it."""
    naive = datetime.combine(day, at)
    moment = naive.replace(tzinfo=zone)
    # Round-trip through UTC: a wall time that does not exist (spring forward) comes back normalised.
    return moment.astimezone(ZoneInfo("UTC")).astimezone(zone)


def parse_moment(text: str, now: datetime, timezone: str, *, within: Window = AHEAD) -> datetime:
    """A moment from what a moderator typed: a duration from ``now``, or a date/time in ``timezone``. UTC out.

    Accepted: "90m", "3d 4h", "2w"; "2026-06-05 20:00", "2026-06-05T20:00", "2026-06-05" (at 20:00);
    "20:00" or "8pm" (the next time the clock shows it); "today 21:00", "tomorrow 20:00", "friday 20:00"
    (the next Friday; today if it is Friday and that time is still ahead).

    The moment is checked against ``within`` counted from this same ``now``: a :class:`UserError` names the range.
    """
    return within.check(_read_moment(text, now, timezone, within), now)


def _read_moment(text: str, now: datetime, timezone: str, within: Window) -> datetime:
    cleaned = _normalised(text)
    if not cleaned:
        raise UserError(f"Give {FORMAT_HINT}.")
    seconds = _seconds(cleaned)
    if seconds is not None:
        within.check_ahead(seconds)  # before adding: "999999w" is refused, not an OverflowError
        return now + timedelta(seconds=round(seconds))
    zone = server_zone(timezone)
    local_now = now.astimezone(zone)
    match = _DATE.match(cleaned.split(" ", 1)[0].split("t", 1)[0])
    if match:
        rest = cleaned[match.end() :].lstrip("t ").strip()
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise UserError(f"{text.strip()[:40]!r} is not a real date.") from None
        # A day far outside the window (year 1, year 9999) is refused before any timezone arithmetic could overflow;
        # the margin of two days keeps every day near the window's edges for the exact check below.
        days_ahead = (day - local_now.date()).days
        if days_ahead < -2 or days_ahead > within.latest.days + 2:
            within.check_ahead(days_ahead * 86400.0)
        at = _time_of_day(rest) if rest else time(20, 0)
        if at is None:
            raise UserError(f"I couldn't read the time in {text.strip()[:40]!r}; use 24-hour time such as 20:00.")
        return _local(day, at, zone).astimezone(now.tzinfo)
    first, _, rest = cleaned.partition(" ")
    if first in ("today", "tonight", "tomorrow") or first in _WEEKDAYS or first[:3] in [d[:3] for d in _WEEKDAYS]:
        at = _time_of_day(rest) if rest else time(20, 0)
        if at is None:
            raise UserError(f"I couldn't read the time in {text.strip()[:40]!r}; use 24-hour time such as 20:00.")
        if first in ("today", "tonight"):
            day = local_now.date()
        elif first == "tomorrow":
            day = local_now.date() + timedelta(days=1)
        else:
            weekday = next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(first[:3]))
            day = local_now.date() + timedelta(days=(weekday - local_now.weekday()) % 7)
            if _local(day, at, zone) <= local_now:
                day += timedelta(days=7)
        return _local(day, at, zone).astimezone(now.tzinfo)
    at = _time_of_day(cleaned)
    if at is not None:
        day = local_now.date()
        if _local(day, at, zone) <= local_now:
            day += timedelta(days=1)
        return _local(day, at, zone).astimezone(now.tzinfo)
    raise UserError(f"I couldn't read {text.strip()[:40]!r} as a time. Give {FORMAT_HINT}.")


def describe_duration(span: timedelta) -> str:
    """A short human form: "2 days 3 hours", "45 minutes", "10 seconds"."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    parts = []
    for name, size in (("year", 365 * 86400), ("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {name}{'s' if amount != 1 else ''}")
    return " ".join(parts[:2])
