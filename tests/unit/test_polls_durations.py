"""Reading deadlines and start times: durations, dates and times in the server's timezone (summer time included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.durations import describe_duration, parse_duration, parse_moment
from bot.core.errors import UserError

# A Wednesday, 10:00 UTC (11:00 in Paris, winter time).
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2 days 4 hours", timedelta(days=2, hours=4)),
        ("in 45 minutes", timedelta(minutes=45)),
        ("10s", timedelta(seconds=10)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_moment(text, NOW, "Europe/Paris") == NOW + expected


@pytest.mark.parametrize("text", ["friday", "3 parsecs", "", "20:00"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("2026-03-06 20:00", "Europe/Paris", datetime(2026, 3, 6, 19, 0, tzinfo=UTC)),
        ("2026-03-06T20:30", "UTC", datetime(2026, 3, 6, 20, 30, tzinfo=UTC)),
        ("2026-03-06", "UTC", datetime(2026, 3, 6, 20, 0, tzinfo=UTC)),
        ("20:00", "Europe/Paris", datetime(2026, 3, 4, 19, 0, tzinfo=UTC)),
        ("9:00", "Europe/Paris", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),  # already past today: tomorrow
        ("8pm", "America/New_York", datetime(2026, 3, 5, 1, 0, tzinfo=UTC)),
        ("tomorrow 21:15", "UTC", datetime(2026, 3, 5, 21, 15, tzinfo=UTC)),
        ("friday 20:00", "Europe/Paris", datetime(2026, 3, 6, 19, 0, tzinfo=UTC)),
        ("wed 9:00", "UTC", datetime(2026, 3, 11, 9, 0, tzinfo=UTC)),  # today, but past: next week
        # Summer time starts in Paris on 29 March 2026: 20:00 is then 18:00 UTC.
        ("2026-04-02 20:00", "Europe/Paris", datetime(2026, 4, 2, 18, 0, tzinfo=UTC)),
        ("2026-03-06 20:00", "Not/AZone", datetime(2026, 3, 6, 20, 0, tzinfo=UTC)),
    ],
)
def test_dates_and_times_are_read_in_the_servers_timezone(text: str, timezone: str, expected: datetime) -> None:
    assert parse_moment(text, NOW, timezone) == expected


def test_a_skipped_wall_time_moves_forward() -> None:
    # 02:30 does not exist in Paris on 29 March 2026 (clocks jump from 02:00 to 03:00).
    moment = parse_moment("2026-03-29 02:30", NOW, "Europe/Paris")
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["next blue moon", "2026-02-30 20:00", "friday 25:00", "   "])
def test_unreadable_times_are_a_clear_error(text: str) -> None:
    with pytest.raises(UserError):
        parse_moment(text, NOW, "UTC")


def test_describe_duration() -> None:
    assert describe_duration(timedelta(minutes=60)) == "1 hour"
    assert describe_duration(timedelta(days=2, hours=3, minutes=5)) == "2 days 3 hours"
    assert describe_duration(timedelta(seconds=10)) == "10 seconds"
