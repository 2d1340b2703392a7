"""Moderator configuration on a real database: validation before writing, and a history of every change."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import collections, config, nights, picks
from bot.core.catalog import load_catalog
from bot.core.errors import NotFoundError, UserError
from bot.core.guilds import GuildSettings, get_settings, is_moderator, require_moderator
from bot.core.timers import TimerService
from bot.db import guilds as guilds_db
from bot.db.database import Database
from tests.clocks import FixedClock

GUILD, MAYA, OLIVIA = 10, 21, 22
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday


@pytest.fixture
def clock() -> FixedClock:
    """Time stands still at ``START`` unless a test moves it."""
    return FixedClock(START)


async def test_a_new_server_has_defaults_and_no_schedule(db: Database) -> None:
    settings = await get_settings(db, GUILD)
    assert settings == GuildSettings(GUILD)
    assert settings.timezone == "UTC"
    assert settings.picks_count == 3
    assert not settings.picks_scheduled


async def test_changes_are_saved_and_recorded_with_old_and_new_values(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    first = await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, 500)
    assert [change.describe() for change in first.changes] == ["Picks channel: not set → <#500>"]
    clock.advance(timedelta(minutes=5))
    second = await config.set_channel(db, clock, timers, GUILD, OLIVIA, config.ChannelKind.PICKS, 501)
    assert second.changes == [config.Change("picks_channel_id", "500", "501")]
    await config.set_role(db, clock, timers, GUILD, OLIVIA, config.RoleKind.MODERATOR, 900)

    assert (await get_settings(db, GUILD)).picks_channel_id == 501
    entries = await config.history(db, GUILD)
    assert [(e.user_id, e.change.describe()) for e in entries] == [
        (OLIVIA, "Moderator role: not set → <@&900>"),
        (OLIVIA, "Picks channel: <#500> → <#501>"),
        (MAYA, "Picks channel: not set → <#500>"),
    ]
    assert entries[-1].changed_at == START
    assert await config.history(db, GUILD + 1) == []


async def test_setting_the_same_value_changes_nothing_and_records_nothing(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Europe/London")
    again = await config.set_timezone(db, clock, timers, GUILD, MAYA, "europe/london")
    assert again.changes == []
    assert len(await config.history(db, GUILD)) == 1


async def test_unknown_timezone_suggests_and_writes_nothing(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    with pytest.raises(UserError, match=r"Did you mean .*America/New_York"):
        await config.set_timezone(db, clock, timers, GUILD, MAYA, "America/New_Yrok")
    assert await config.history(db, GUILD) == []
    assert (await get_settings(db, GUILD)).timezone == "UTC"


async def test_picks_schedule_is_validated_then_saved(
    db: Database, catalog_dir: Path, clock: FixedClock, timers: TimerService
) -> None:
    await load_catalog(db, catalog_dir)
    result = await config.set_picks(
        db,
        clock,
        timers,
        GUILD,
        MAYA,
        day=4,
        at="20:00",
        count=2,
        themes="On the road, live-on-stage",
        poll=True,
    )
    settings = result.settings
    assert (settings.picks_day, settings.picks_time, settings.picks_count) == (4, "20:00", 2)
    assert settings.picks_themes == ("on-the-road", "live-on-stage")
    assert settings.picks_poll
    assert "Picks day: not set → Friday" in [change.describe() for change in result.changes]
    assert "Picks themes: all → On The Road, Live On Stage" in [change.describe() for change in result.changes]

    with pytest.raises(UserError, match="24-hour"):
        await config.set_picks(db, clock, timers, GUILD, MAYA, at="25:00")
    with pytest.raises(UserError, match="2 to 10"):
        await config.set_picks(db, clock, timers, GUILD, MAYA, count=11)
    with pytest.raises(NotFoundError, match="Did you mean On The Road"):
        await config.set_picks(db, clock, timers, GUILD, MAYA, themes="on the rood")
    assert (await get_settings(db, GUILD)) == settings  # nothing changed by the refusals

    back_to_all = await config.set_picks(db, clock, timers, GUILD, MAYA, themes="all")
    assert back_to_all.settings.picks_themes == ()


async def test_picks_themes_take_the_servers_collections_as_recommend_does(
    db: Database, catalog_dir: Path, clock: FixedClock, timers: TimerService
) -> None:
    await load_catalog(db, catalog_dir)
    noir = await collections.create_collection(db, clock, guild_id=GUILD, user_id=MAYA, name="Friday Noir")
    by_name = await config.set_picks(db, clock, timers, GUILD, MAYA, themes="friday noir, On the road")
    assert by_name.settings.picks_themes == (noir.theme_slug, "on-the-road")
    assert "Picks themes: all → Friday Noir, On The Road" in [change.describe() for change in by_name.changes]
    by_slug = await config.set_picks(db, clock, timers, GUILD, MAYA, themes=noir.theme_slug)  # what autocomplete sends
    assert by_slug.settings.picks_themes == (noir.theme_slug,)
    # Another server's collection is not this server's theme.
    with pytest.raises(NotFoundError, match="No theme named 'friday noir'"):
        await config.set_picks(db, clock, timers, GUILD + 1, MAYA, themes="friday noir")


async def test_a_schedule_change_re_plans_the_weekly_picks_in_the_core(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, 500)
    assert await picks.scheduled_slot(db, GUILD) is None  # no day and time yet
    result = await config.set_picks(db, clock, timers, GUILD, MAYA, day=4, at="20:00")
    assert result.schedule_changed
    friday = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10")
    assert friday is not None and friday.due_at == datetime(2026, 3, 6, 20, 0, tzinfo=UTC)

    moved = await config.set_timezone(db, clock, timers, GUILD, MAYA, "Asia/Tokyo")
    assert moved.schedule_changed
    assert await picks.scheduled_slot(db, GUILD) == datetime(2026, 3, 6, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo
    pending = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10")
    assert pending is not None and pending.due_at == datetime(2026, 3, 6, 11, 0, tzinfo=UTC)

    assert not (await config.set_role(db, clock, timers, GUILD, MAYA, config.RoleKind.VOTER, 900)).schedule_changed
    await config.reset(db, clock, timers, GUILD, OLIVIA)
    assert await picks.scheduled_slot(db, GUILD) is None
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10") is None


async def test_a_schedule_needs_channel_day_time_and_being_on(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_picks(db, clock, timers, GUILD, MAYA, day=0, at="9:00")
    assert not (await get_settings(db, GUILD)).picks_scheduled
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, 500)
    assert (await get_settings(db, GUILD)).picks_scheduled
    await config.set_picks(db, clock, timers, GUILD, MAYA, enabled=False)
    assert not (await get_settings(db, GUILD)).picks_scheduled


async def test_reset_returns_to_defaults_and_keeps_the_history(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.POLLS, 700)
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Asia/Tokyo")
    result = await config.reset(db, clock, timers, GUILD, OLIVIA)
    assert result.settings == GuildSettings(GUILD)
    assert {change.describe() for change in result.changes} == {
        "Polls channel: <#700> → not set",
        "Timezone: Asia/Tokyo → UTC",
    }
    assert await get_settings(db, GUILD) == GuildSettings(GUILD)
    assert len(await config.history(db, GUILD)) == 4


def test_channels_the_bot_cannot_post_in_are_refused_naming_what_is_missing() -> None:
    everything = {"view_channel": True, "send_messages": True, "embed_links": True}
    config.require_postable("picks", everything)
    with pytest.raises(UserError, match=r"#secret: I'm missing the Send Messages permission there"):
        config.require_postable("secret", {**everything, "send_messages": False})
    with pytest.raises(UserError, match=r"missing the Embed Links permission there\. Allow it"):
        config.require_postable("secret", {**everything, "embed_links": False})
    # Without View Channel Discord withholds the rest too: granting that one may be all that is needed.
    with pytest.raises(UserError, match="missing the View Channel permission there"):
        config.require_postable("secret", {})
    assert config.missing_posting_permissions({"view_channel": True}) == ["Send Messages"]


def test_the_moderator_rule_still_holds_for_other_features() -> None:
    settings = GuildSettings(GUILD, moderator_role_id=900)
    assert is_moderator(settings, manage_guild=True, role_ids=())
    assert is_moderator(settings, manage_guild=False, role_ids={900})
    with pytest.raises(UserError, match="Only moderators"):
        require_moderator(settings, manage_guild=False, role_ids={1})


async def test_the_screening_night_needs_day_time_and_channel_and_is_recorded(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    with pytest.raises(UserError, match="needs a day, a time and a voice or stage channel"):
        await config.set_night(db, clock, timers, GUILD, MAYA, day=4)
    with pytest.raises(UserError, match="not a time"):
        await config.set_night(db, clock, timers, GUILD, MAYA, day=4, at="25:00", channel_id=700)
    with pytest.raises(UserError, match="day of the week"):
        await config.set_night(db, clock, timers, GUILD, MAYA, day=7, at="20:30", channel_id=700)
    with pytest.raises(UserError, match="day, time or channel, its thread or attendance options"):
        await config.set_night(db, clock, timers, GUILD, MAYA)
    assert await get_settings(db, GUILD) == GuildSettings(GUILD) and await config.history(db, GUILD) == []

    result = await config.set_night(db, clock, timers, GUILD, MAYA, day=4, at="20:30", channel_id=700)
    settings = await get_settings(db, GUILD)
    assert (settings.night_day, settings.night_time, settings.night_channel_id) == (4, "20:30", 700)
    assert [change.describe() for change in result.changes] == [
        "Screening night day: not set → Friday",
        "Screening night time: not set → 20:30",
        "Screening night channel: not set → <#700>",
    ]
    assert not result.schedule_changed  # the weekly picks are not re-planned for it

    moved = await config.set_night(db, clock, timers, GUILD, OLIVIA, at="21:00")  # one part at a time, once set
    assert [change.describe() for change in moved.changes] == ["Screening night time: 20:30 → 21:00"]

    with pytest.raises(UserError, match="not both"):
        await config.set_night(db, clock, timers, GUILD, MAYA, day=1, off=True)
    off = await config.set_night(db, clock, timers, GUILD, MAYA, off=True)
    assert len(off.changes) == 3
    settings = await get_settings(db, GUILD)
    assert (settings.night_day, settings.night_time, settings.night_channel_id) == (None, None, None)
    assert len(await config.history(db, GUILD)) == 7


async def test_the_screening_options_are_checked_stored_and_default_to_the_bot_wide_settings(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    rules = config.screening_rules(await get_settings(db, GUILD), archive_days=3, attendance_share=50)
    assert rules == config.ScreeningRules(thread_after_minutes=0, thread_archive_days=3, attendance_share=50)
    for bad, match in [
        ({"thread_after": -1}, "delay can be at most 4 hours"),
        ({"thread_after": 241}, "delay can be at most 4 hours"),
        ({"archive_days": 0}, "stay open from 1 to 30 days"),
        ({"archive_days": 31}, "stay open from 1 to 30 days"),
        ({"attendance_share": 9}, "from 10 to 100 %"),
        ({"attendance_share": 101}, "from 10 to 100 %"),
        ({"thread_after": 30, "attendance_share": 101}, "from 10 to 100 %"),  # one bad option: nothing is written
        ({"thread_after": 30, "day": 4}, "needs a day, a time and a voice or stage channel"),
    ]:
        with pytest.raises(UserError, match=match):
            await config.set_night(db, clock, timers, GUILD, MAYA, **bad)  # type: ignore[arg-type]
    assert await get_settings(db, GUILD) == GuildSettings(GUILD) and await config.history(db, GUILD) == []

    # Without a regular night: every screening's options stand alone.
    result = await config.set_night(
        db, clock, timers, GUILD, MAYA, thread_after=240, archive_days=1, attendance_share=10
    )
    assert [change.describe() for change in result.changes] == [
        "Discussion thread opens (minutes after the start): 0 → 240",
        "Discussion thread archived after (days): not set → 1",
        "Attendance share (% of the film): not set → 10",
    ]
    settings = await get_settings(db, GUILD)
    assert config.screening_rules(settings, archive_days=3, attendance_share=50) == config.ScreeningRules(240, 1, 10)
    assert settings.night_day is None

    # With the night, in one change; switching the night off keeps them.
    both = await config.set_night(db, clock, timers, GUILD, OLIVIA, day=4, at="20:30", channel_id=700, archive_days=30)
    assert len(both.changes) == 4
    await config.set_night(db, clock, timers, GUILD, OLIVIA, off=True, thread_after=0)
    settings = await get_settings(db, GUILD)
    assert settings.night_day is None
    assert config.screening_rules(settings, archive_days=3, attendance_share=50) == config.ScreeningRules(0, 30, 10)
    assert config.screening_rules(await get_settings(db, GUILD + 1), archive_days=7, attendance_share=60) == (
        config.ScreeningRules(0, 7, 60)
    )


def test_a_screening_channel_the_bot_cannot_see_or_join_is_refused() -> None:
    config.require_screening_channel("watch", {"view_channel": True, "connect": True})
    with pytest.raises(UserError, match="missing the Connect permission there"):
        config.require_screening_channel("watch", {"view_channel": True, "connect": False})
    with pytest.raises(UserError, match="missing the View Channel and Connect permissions there"):
        config.require_screening_channel("watch", {})


# -- /config unset ----------------------------------------------------------------------------------------------------


async def unset(db: Database, clock: FixedClock, timers: TimerService, setting: str) -> config.UnsetResult:
    """``config.unset`` by OLIVIA, with bot-wide defaults of THREAD_ARCHIVE_DAYS=3 and ATTENDANCE_SHARE=50."""
    return await config.unset(db, clock, timers, GUILD, OLIVIA, setting, archive_days=3, attendance_share=50)


#: A server that changed every setting from its default.
EVERYTHING_SET = GuildSettings(
    GUILD,
    picks_channel_id=501,
    polls_channel_id=502,
    announcements_channel_id=503,
    threads_channel_id=504,
    diary_channel_id=505,
    moderator_role_id=901,
    voter_role_id=902,
    timezone="Europe/Paris",
    picks_day=4,
    picks_time="20:00",
    picks_count=5,
    picks_themes=("noir",),
    picks_poll=True,
    picks_enabled=False,
    nominations_approval=True,
    nominations_limit=7,
    nominator_role_id=903,
    night_day=4,
    night_time="20:30",
    night_channel_id=700,
    thread_after_minutes=30,
    thread_archive_days=7,
    attendance_share=75,
)


def test_every_setting_but_the_nights_trio_can_be_unset_alone() -> None:
    every = {field.name for field in fields(GuildSettings)} - {"guild_id"}
    assert set(config.UNSETTABLE) == every - {"night_day", "night_time", "night_channel_id"}
    assert all(getattr(EVERYTHING_SET, name) != getattr(GuildSettings(GUILD), name) for name in every)
    assert len(config.UNSETTABLE) <= 25  # Discord's limit on a choice list


@pytest.mark.parametrize("setting", config.UNSETTABLE)
async def test_unset_puts_back_that_setting_only_and_records_it(
    db: Database, clock: FixedClock, timers: TimerService, setting: str
) -> None:
    async with db.transaction() as tx:
        await guilds_db.save_settings(tx, EVERYTHING_SET, "2026-03-01T00:00:00.000000Z")

    done = await unset(db, clock, timers, setting)

    default = getattr(GuildSettings(GUILD), setting)
    assert await get_settings(db, GUILD) == replace(EVERYTHING_SET, **{setting: default})
    assert [change.setting for change in done.result.changes] == [setting]
    (entry,) = await config.history(db, GUILD)
    assert (entry.user_id, entry.change) == (OLIVIA, done.result.changes[0])
    assert entry.change.new == config.stored_text(setting, default)


async def test_unset_says_what_the_value_is_now_and_records_nothing_when_already_there(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_night(db, clock, timers, GUILD, MAYA, thread_after=30, archive_days=7, attendance_share=75)
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.THREADS, 700)
    await config.set_role(db, clock, timers, GUILD, MAYA, config.RoleKind.VOTER, 900)

    share = await unset(db, clock, timers, "attendance_share")
    assert share.now == "50 (this bot's default)" and share.label == "Attendance share (% of the film)"
    assert [change.describe() for change in share.result.changes] == ["Attendance share (% of the film): 75 → not set"]
    settings = await get_settings(db, GUILD)
    assert config.screening_rules(settings, archive_days=3, attendance_share=50) == config.ScreeningRules(30, 7, 50)

    assert (await unset(db, clock, timers, "thread_archive_days")).now == "3 (this bot's default)"
    assert (await unset(db, clock, timers, "thread_after_minutes")).now == "0"
    assert (
        await unset(db, clock, timers, "threads_channel_id")
    ).now == "not set (each screening's announcement channel)"
    assert (await unset(db, clock, timers, "voter_role_id")).now == "not set (everyone may vote)"
    assert (await unset(db, clock, timers, "picks_themes")).now == "all themes, in turn"
    assert (await unset(db, clock, timers, "timezone")).now == "UTC"
    history = await config.history(db, GUILD)
    assert len(history) == 10  # 5 set, 5 unset (themes and timezone were at their defaults already)

    again = await unset(db, clock, timers, "attendance_share")
    assert again.result.changes == [] and again.now == "50 (this bot's default)"
    assert len(await config.history(db, GUILD)) == 10


@pytest.mark.parametrize("setting", ["web_public", "night_day", "night_channel_id", "guild_id", "nonsense", ""])
async def test_unset_refuses_what_it_does_not_put_back_alone_and_writes_nothing(
    db: Database, clock: FixedClock, timers: TimerService, setting: str
) -> None:
    await config.set_night(db, clock, timers, GUILD, MAYA, day=4, at="20:30", channel_id=700)
    before = await get_settings(db, GUILD)
    with pytest.raises(UserError, match="Pick a setting from the list"):
        await unset(db, clock, timers, setting)
    assert await get_settings(db, GUILD) == before
    assert len(await config.history(db, GUILD)) == 3


async def test_unset_re_plans_the_weekly_picks_and_the_night_as_any_change_does(
    db: Database, clock: FixedClock, timers: TimerService
) -> None:
    await config.set_channel(db, clock, timers, GUILD, MAYA, config.ChannelKind.PICKS, 500)
    await config.set_timezone(db, clock, timers, GUILD, MAYA, "Asia/Tokyo")
    await config.set_picks(db, clock, timers, GUILD, MAYA, day=4, at="20:00")
    await config.set_night(db, clock, timers, GUILD, MAYA, day=4, at="20:30", channel_id=700)
    night = await timers.pending(nights.NIGHT_TIMER, str(GUILD))
    assert night is not None
    clock.advance(timedelta(minutes=1))

    utc = await unset(db, clock, timers, "timezone")
    assert utc.result.schedule_changed
    assert await picks.scheduled_slot(db, GUILD) == datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # 20:00 UTC, not Tokyo's
    moved = await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10")
    assert moved is not None and moved.due_at == datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    replanned = await timers.pending(nights.NIGHT_TIMER, str(GUILD))
    assert replanned is not None and replanned.due_at == clock.now() > night.due_at  # the night is re-planned now

    no_channel = await unset(db, clock, timers, "picks_channel_id")
    assert no_channel.now == "not set (weekly picks are not posted)"
    assert await picks.scheduled_slot(db, GUILD) is None
    assert await timers.pending(picks.TIMER_KIND, f"{GUILD}:2026-W10") is None
