"""Weekly slot arithmetic: local wall-clock times across daylight-saving changes, week keys, time and zone input."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import schedule
from bot.core.errors import UserError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SUNDAY, FRIDAY, MONDAY = 6, 4, 0


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20:00", time(20)), ("9:05", time(9, 5)), ("07.30", time(7, 30)), ("23:59:30", time(23, 59, 30))],
)
def test_times_are_24_hour(text: str, expected: time) -> None:
    assert schedule.parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "8pm", "12:60", "", "20"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(UserError, match="24-hour HH:MM"):
        schedule.parse_time(text)


def test_times_are_shown_without_needless_seconds() -> None:
    assert schedule.format_time(time(20)) == "20:00"
    assert schedule.format_time(time(20, 0, 5)) == "20:00:05"


def test_london_friday_evening_stays_at_eight_local_across_spring_forward() -> None:
    # Clocks go forward on Sunday 30 March 2025: Friday 28 March is GMT, Friday 4 April is BST.
    first = schedule.next_slot(utc(2025, 3, 27, 12), LONDON, FRIDAY, time(20))
    second = schedule.next_slot(first, LONDON, FRIDAY, time(20))
    assert first == utc(2025, 3, 28, 20)
    assert second == utc(2025, 4, 4, 19)
    assert second - first == timedelta(days=7) - timedelta(hours=1)
    assert second.astimezone(LONDON).hour == 20


def test_new_york_friday_evening_stays_at_eight_local_across_fall_back() -> None:
    # Clocks go back on Sunday 2 November 2025.
    first = schedule.next_slot(utc(2025, 10, 30), NEW_YORK, FRIDAY, time(20))
    second = schedule.next_slot(first, NEW_YORK, FRIDAY, time(20))
    assert first == utc(2025, 11, 1, 0)  # 20:00 EDT
    assert second == utc(2025, 11, 8, 1)  # 20:00 EST
    assert second.astimezone(NEW_YORK).hour == 20


def test_a_slot_in_the_spring_forward_gap_happens_once_after_the_jump() -> None:
    # 02:30 does not exist in New York on 9 March 2025 (02:00 -> 03:00): the slot is 03:30 EDT.
    slot = schedule.next_slot(utc(2025, 3, 8), NEW_YORK, SUNDAY, time(2, 30))
    assert slot == utc(2025, 3, 9, 7, 30)
    assert slot.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    following = schedule.next_slot(slot, NEW_YORK, SUNDAY, time(2, 30))
    assert following.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M %Z") == "2025-03-16 02:30 EDT"
    # London's gap is 01:00 -> 02:00 on 30 March 2025.
    london = schedule.next_slot(utc(2025, 3, 29), LONDON, SUNDAY, time(1, 30))
    assert london.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"


def test_a_slot_in_the_fall_back_overlap_happens_only_the_first_time() -> None:
    # 01:30 happens twice in New York on 2 November 2025 (EDT, then EST): only the first counts.
    slot = schedule.next_slot(utc(2025, 11, 1), NEW_YORK, SUNDAY, time(1, 30))
    assert slot == utc(2025, 11, 2, 5, 30)
    following = schedule.next_slot(slot, NEW_YORK, SUNDAY, time(1, 30))
    assert following == utc(2025, 11, 9, 6, 30)  # not the second 01:30 an hour later
    london = schedule.next_slot(utc(2025, 10, 25), LONDON, SUNDAY, time(1, 30))
    assert london == utc(2025, 10, 26, 0, 30)
    assert schedule.next_slot(london, LONDON, SUNDAY, time(1, 30)) == utc(2025, 11, 2, 1, 30)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("at", [time(1, 30), time(2, 30), time(20)])
def test_exactly_one_slot_every_week_all_year(zone: str, at: time) -> None:
    tz = ZoneInfo(zone)
    slot = schedule.next_slot(utc(2025, 1, 1), tz, SUNDAY, at)
    weeks = []
    for _ in range(60):
        local = slot.astimezone(tz)
        assert local.weekday() == SUNDAY
        weeks.append(schedule.week_key(slot, tz))
        following = schedule.next_slot(slot, tz, SUNDAY, at)
        assert timedelta(days=7) - timedelta(hours=1) <= following - slot <= timedelta(days=7) + timedelta(hours=1)
        assert schedule.previous_slot(following - timedelta(seconds=1), tz, SUNDAY, at) == slot
        assert schedule.is_slot(slot, tz, SUNDAY, at)
        slot = following
    assert len(set(weeks)) == len(weeks)


def test_next_slot_is_strictly_after_and_is_slot_rejects_other_moments() -> None:
    slot = utc(2026, 3, 13, 20)  # a Friday, 20:00 in London (GMT)
    assert schedule.next_slot(slot - timedelta(microseconds=1), LONDON, FRIDAY, time(20)) == slot
    assert schedule.next_slot(slot, LONDON, FRIDAY, time(20)) == utc(2026, 3, 20, 20)
    assert schedule.previous_slot(slot, LONDON, FRIDAY, time(20)) == slot
    assert not schedule.is_slot(slot + timedelta(minutes=1), LONDON, FRIDAY, time(20))
    assert not schedule.is_slot(slot, LONDON, MONDAY, time(20))


def test_week_keys_follow_the_servers_calendar() -> None:
    moment = utc(2026, 3, 16, 2)  # Monday 02:00 UTC is still Sunday evening in New York
    assert schedule.week_key(moment, ZoneInfo("UTC")) == "2026-W12"
    assert schedule.week_key(moment, NEW_YORK) == "2026-W11"
    assert schedule.weeks_before("2026-W02", 3) == ["2026-W01", "2025-W52", "2025-W51"]
    assert schedule.weeks_before("2021-W01", 1) == ["2020-W53"]


def test_timezones_resolve_case_insensitively_or_suggest() -> None:
    assert schedule.resolve_timezone("europe/london") == "Europe/London"
    assert schedule.resolve_timezone(" America/New York ") == "America/New_York"
    assert schedule.resolve_timezone("gmt") == "GMT"  # legacy names are accepted, only never suggested
    with pytest.raises(UserError):
        schedule.resolve_timezone("localtime")
    with pytest.raises(UserError, match=r"Did you mean .*Europe/London"):
        schedule.resolve_timezone("Europe/Londn")
    with pytest.raises(UserError, match="not a timezone"):
        schedule.resolve_timezone("Mars/Olympus_Mons_Base")


def test_timezone_search_finds_cities() -> None:
    assert schedule.search_timezones("new y")[0] == "America/New_York"
    assert "Europe/London" in schedule.search_timezones("london")
    assert len(schedule.search_timezones("")) == 25
