"""Moderator configuration: channels, roles, timezone, the weekly picks schedule and the screening night, with
every change recorded.

Each change is a read-modify-write of the server's settings row in one transaction together with one history entry
per setting that changed (who, when, old value -> new value), so the history never disagrees with the settings.
Validation happens before anything is written: a bad value changes nothing. A change to a setting the weekly picks
schedule depends on (:data:`SCHEDULE_SETTINGS`) re-plans the server's next slot here, whoever made it (``/config``,
``/setup``), so no adapter has to remember to. ``/config unset`` puts one setting back to its default
(:data:`GuildSettings`' own) through the same path.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from bot.core import attendance, nights, picks, schedule, screenings
from bot.core.clock import Clock, from_db, to_db
from bot.core.collections import themes_for
from bot.core.errors import UserError
from bot.core.films import resolve_theme
from bot.core.guilds import GuildSettings, get_settings
from bot.core.timers import TimerService
from bot.db import config as config_db
from bot.db import guilds as guilds_db
from bot.db.database import Database, Transaction

MIN_PICKS = 2
MAX_PICKS = 10
MIN_NOMINATIONS_LIMIT = 1
MAX_NOMINATIONS_LIMIT = 25
HISTORY_LIMIT = 15


class ChannelKind(enum.Enum):
    PICKS = "picks"
    POLLS = "polls"
    ANNOUNCEMENTS = "announcements"
    THREADS = "threads"
    DIARY = "diary"

    @property
    def setting(self) -> str:
        return f"{self.value}_channel_id"


class RoleKind(enum.Enum):
    MODERATOR = "moderator"
    VOTER = "voter"

    @property
    def setting(self) -> str:
        return f"{self.value}_role_id"


#: Setting name -> how moderators read it, in the order /config show and the history list them.
LABELS: dict[str, str] = {
    "picks_channel_id": "Picks channel",
    "polls_channel_id": "Polls channel",
    "announcements_channel_id": "Announcements channel",
    "threads_channel_id": "Discussion threads channel",
    "diary_channel_id": "Letterboxd diary channel",
    "moderator_role_id": "Moderator role",
    "voter_role_id": "Voter role",
    "timezone": "Timezone",
    "picks_enabled": "Weekly picks",
    "picks_day": "Picks day",
    "picks_time": "Picks time",
    "picks_count": "Picks per week",
    "picks_themes": "Picks themes",
    "picks_poll": "Watch-party poll with the picks",
    "nominations_approval": "Nominations wait for approval",
    "nominations_limit": "Open nominations per member",
    "nominator_role_id": "Nominator role",
    "night_day": "Screening night day",
    "night_time": "Screening night time",
    "night_channel_id": "Screening night channel",
    "thread_after_minutes": "Discussion thread opens (minutes after the start)",
    "thread_archive_days": "Discussion thread archived after (days)",
    "attendance_share": "Attendance share (% of the film)",
    "web_public": "Web page",
    "web_address": "Web page address",
    "web_show_members": "Members' names on the web page",
}

#: The settings a server's next weekly picks slot depends on: changing one re-plans it.
SCHEDULE_SETTINGS = frozenset(
    {"picks_channel_id", "timezone", "picks_day", "picks_time", "picks_enabled", "picks_count", "picks_themes"}
)

#: The bot's channel permissions a post needs: the permission's attribute name -> its name in Discord's settings.
POSTING_PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}

#: The bot's permissions in a screening's voice or stage channel: seeing it (its event, who sits in it) and joining it.
SCREENING_CHANNEL_PERMISSIONS: dict[str, str] = {
    "view_channel": "View Channel",
    "connect": "Connect",
}


@dataclass(frozen=True)
class Change:
    """One setting that changed; values are stored text (``None`` = unset), see :func:`display`."""

    setting: str
    old: str | None
    new: str | None

    @property
    def label(self) -> str:
        return LABELS.get(self.setting, self.setting)

    def describe(self) -> str:
        return f"{self.label}: {display(self.setting, self.old)} → {display(self.setting, self.new)}"


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    user_id: int
    changed_at: datetime
    change: Change


@dataclass(frozen=True)
class ConfigResult:
    settings: GuildSettings
    changes: list[Change]

    @property
    def schedule_changed(self) -> bool:
        """Whether the weekly picks schedule was re-planned (and is worth showing again)."""
        return any(change.setting in SCHEDULE_SETTINGS for change in self.changes)


def stored_text(setting: str, value: Any, theme_names: Mapping[str, str] | None = None) -> str | None:
    """A setting's value as the history stores it (themes and collections by the name they had then)."""
    if value is None:
        return None
    if setting in ("picks_day", "night_day"):
        return schedule.WEEKDAYS[int(value)]
    if setting == "picks_themes":
        names = theme_names or {}
        return ", ".join(names.get(slug, slug) for slug in value) if value else "all"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def display(setting: str, value: str | None) -> str:
    """A stored value as moderators read it: channels and roles as mentions (which never ping in embeds)."""
    if value is None:
        return "not set"
    if setting.endswith("_channel_id"):
        return f"<#{value}>"
    if setting.endswith("_role_id"):
        return f"<@&{value}>"
    return value


def diff(before: GuildSettings, after: GuildSettings, theme_names: Mapping[str, str] | None = None) -> list[Change]:
    changes = []
    for field in fields(GuildSettings):
        if field.name == "guild_id":
            continue
        old, new = getattr(before, field.name), getattr(after, field.name)
        if old != new:
            changes.append(
                Change(field.name, stored_text(field.name, old, theme_names), stored_text(field.name, new, theme_names))
            )
    return changes


async def _theme_names(db: Database, guild_id: int) -> dict[str, str]:
    """Slug -> title of every theme and collection of the server, for the history's picks themes."""
    return {theme.slug: theme.title for theme in await themes_for(db, guild_id)}


#: The settings that decide when and where the regular screening night is (the timezone too: it is local time).
NIGHT_SETTINGS = frozenset({"night_day", "night_time", "night_channel_id", "timezone"})


async def _apply(
    db: Database, clock: Clock, timers: TimerService, guild_id: int, user_id: int, **values: Any
) -> ConfigResult:
    """Change some settings and record the history of what actually changed, in one transaction; then re-plan the
    weekly picks if their schedule changed, and the next screening night if it changed."""
    now = to_db(clock.now())
    names = await _theme_names(db, guild_id) if "picks_themes" in values else None
    async with db.transaction() as tx:
        current = await get_settings(tx, guild_id)
        updated = replace(current, **values)
        changes = diff(current, updated, names)
        if changes:
            await guilds_db.save_settings(tx, updated, now)
            await _record(tx, guild_id, user_id, now, changes)
    result = ConfigResult(updated, changes)
    if result.schedule_changed:
        await picks.reschedule(db, clock, timers, guild_id)
    if any(change.setting in NIGHT_SETTINGS for change in changes):
        await nights.replan_soon(clock, timers, guild_id)  # creates, moves or cancels the next night's event
    return result


async def _record(tx: Transaction, guild_id: int, user_id: int, now: str, changes: list[Change]) -> None:
    await config_db.record_changes(tx, guild_id, user_id, now, [(c.setting, c.old, c.new) for c in changes])


# -- validation -----------------------------------------------------------------------------------------------------


def missing_posting_permissions(granted: Mapping[str, bool]) -> list[str]:
    """The Discord names of the posting permissions the bot lacks, given its permissions in a channel.

    Discord withholds the later ones when an earlier one is missing (no Send Messages means no Embed Links either),
    so only the first missing one of that chain is named: granting it may be all that is needed.
    """
    missing = [label for name, label in POSTING_PERMISSIONS.items() if not granted.get(name, False)]
    for root in ("View Channel", "Send Messages"):
        if root in missing:
            return [root]
    return missing


def require_postable(channel_name: str, granted: Mapping[str, bool]) -> None:
    """Refuse a channel the bot cannot post its embeds in, naming each missing permission."""
    missing = missing_posting_permissions(granted)
    if missing:
        names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        plural = "s" if len(missing) > 1 else ""
        raise UserError(
            f"I can't post in #{channel_name}: I'm missing the {names} permission{plural} there. "
            f"Allow {'them' if missing[1:] else 'it'} for my role in that channel's settings, or pick another channel."
        )


def require_screening_channel(channel_name: str, granted: Mapping[str, bool]) -> None:
    """Refuse a voice or stage channel the bot cannot see or join (its attendance register and event need both)."""
    missing = [label for name, label in SCREENING_CHANNEL_PERMISSIONS.items() if not granted.get(name, False)]
    if missing:
        names = " and ".join(missing)
        raise UserError(
            f"I can't use #{channel_name} for screenings: I'm missing the {names} permission"
            f"{'s' if len(missing) > 1 else ''} there. Allow {'them' if len(missing) > 1 else 'it'} for my role in "
            "that channel's settings, or pick another channel."
        )


async def parse_themes(db: Database, guild_id: int, text: str) -> tuple[str, ...]:
    """ "all" (every curated theme) or a comma-separated list of themes and this server's collections, by name or
    slug (``@<id>`` for a collection), each resolved the way /recommend resolves a theme."""
    cleaned = text.strip()
    if cleaned.casefold() in ("", "all", "*"):
        return ()
    themes = await themes_for(db, guild_id)
    slugs: list[str] = []
    for part in cleaned.split(","):
        if part.strip():
            slug = resolve_theme(themes, part).slug
            if slug not in slugs:
                slugs.append(slug)
    if not slugs:
        raise UserError("List at least one theme, separated by commas, or type `all`.")
    return tuple(slugs)


# -- changes --------------------------------------------------------------------------------------------------------


async def set_channel(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    kind: ChannelKind,
    channel_id: int | None,
) -> ConfigResult:
    """Set (or with ``None`` clear) the picks, polls or announcements channel. Check postability first."""
    return await _apply(db, clock, timers, guild_id, user_id, **{kind.setting: channel_id})


async def set_role(
    db: Database, clock: Clock, timers: TimerService, guild_id: int, user_id: int, kind: RoleKind, role_id: int | None
) -> ConfigResult:
    """Set (or with ``None`` clear) the moderator or voter role."""
    return await _apply(db, clock, timers, guild_id, user_id, **{kind.setting: role_id})


async def set_timezone(
    db: Database, clock: Clock, timers: TimerService, guild_id: int, user_id: int, text: str
) -> ConfigResult:
    return await _apply(db, clock, timers, guild_id, user_id, timezone=schedule.resolve_timezone(text))


async def set_picks(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    *,
    day: int | None = None,
    at: str | None = None,
    count: int | None = None,
    themes: str | None = None,
    poll: bool | None = None,
    enabled: bool | None = None,
) -> ConfigResult:
    """Change the weekly picks schedule; options left as ``None`` keep their value."""
    values: dict[str, Any] = {}
    if day is not None:
        if not 0 <= day <= 6:
            raise UserError("Pick a day of the week from the list.")
        values["picks_day"] = day
    if at is not None:
        values["picks_time"] = schedule.format_time(schedule.parse_time(at))
    if count is not None:
        if not MIN_PICKS <= count <= MAX_PICKS:
            raise UserError(f"Weekly picks hold {MIN_PICKS} to {MAX_PICKS} films.")
        values["picks_count"] = count
    if themes is not None:
        values["picks_themes"] = await parse_themes(db, guild_id, themes)
    if poll is not None:
        values["picks_poll"] = poll
    if enabled is not None:
        values["picks_enabled"] = enabled
    return await _apply(db, clock, timers, guild_id, user_id, **values)


async def set_nominations(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    *,
    approval: bool | None = None,
    limit: int | None = None,
    role_id: int | None = None,
    clear_role: bool = False,
) -> ConfigResult:
    """Change the nominations settings; options left as ``None`` keep their value (``clear_role`` lets every member
    nominate again)."""
    values: dict[str, Any] = {}
    if approval is not None:
        values["nominations_approval"] = approval
    if limit is not None:
        if not MIN_NOMINATIONS_LIMIT <= limit <= MAX_NOMINATIONS_LIMIT:
            raise UserError(
                f"A member may have {MIN_NOMINATIONS_LIMIT} to {MAX_NOMINATIONS_LIMIT} open nominations at a time."
            )
        values["nominations_limit"] = limit
    if role_id is not None:
        values["nominator_role_id"] = role_id
    elif clear_role:
        values["nominator_role_id"] = None
    return await _apply(db, clock, timers, guild_id, user_id, **values)


async def set_night(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    *,
    day: int | None = None,
    at: str | None = None,
    channel_id: int | None = None,
    off: bool = False,
    thread_after: int | None = None,
    archive_days: int | None = None,
    attendance_share: int | None = None,
) -> ConfigResult:
    """Set the club's regular screening night (local weekday, local time, voice or stage channel), or with ``off``
    clear it. Options left as ``None`` keep their value, but a night needs all three: the first time, give each.
    The channel is checked by the adapter (a voice or stage channel the bot can see).

    Every screening's night options, with or without a regular night: ``thread_after`` (minutes after the start the
    discussion thread opens, :data:`screenings.THREAD_AFTER`), ``archive_days`` (the thread's life,
    :data:`screenings.THREAD_ARCHIVE`) and ``attendance_share`` (per cent, :data:`attendance.SHARE_RANGE`). All are
    checked before anything is written."""
    options = night_options(thread_after=thread_after, archive_days=archive_days, attendance_share=attendance_share)
    if off:
        if day is not None or at is not None or channel_id is not None:
            raise UserError("Either switch the screening night off or set it, not both.")
        return await _apply(
            db, clock, timers, guild_id, user_id, night_day=None, night_time=None, night_channel_id=None, **options
        )
    values: dict[str, Any] = {}
    if day is not None:
        if not 0 <= day <= 6:
            raise UserError("Pick a day of the week from the list.")
        values["night_day"] = day
    if at is not None:
        values["night_time"] = schedule.format_time(schedule.parse_time(at))
    if channel_id is not None:
        values["night_channel_id"] = channel_id
    if not values and not options:
        raise UserError(
            "Give the night's day, time or channel, its thread or attendance options, or `off:True` to switch it off."
        )
    if values:
        current = await get_settings(db, guild_id)
        merged = replace(current, **values)
        if merged.night_day is None or merged.night_time is None or merged.night_channel_id is None:
            raise UserError("A screening night needs a day, a time and a voice or stage channel: give all three.")
    return await _apply(db, clock, timers, guild_id, user_id, **values, **options)


def night_options(
    *, thread_after: int | None = None, archive_days: int | None = None, attendance_share: int | None = None
) -> dict[str, int]:
    """The screening options given (``None``: unchanged) as settings, each checked against its range."""
    values: dict[str, int] = {}
    if thread_after is not None:
        screenings.THREAD_AFTER.check_seconds(thread_after * 60.0)
        values["thread_after_minutes"] = thread_after
    if archive_days is not None:
        low, high = (int(screenings.THREAD_ARCHIVE.shortest.days), int(screenings.THREAD_ARCHIVE.longest.days))
        if not low <= archive_days <= high:
            raise UserError(f"A discussion thread can stay open from {low} to {high} days.")
        values["thread_archive_days"] = archive_days
    if attendance_share is not None:
        low, high = attendance.SHARE_RANGE
        if not low <= attendance_share <= high:
            raise UserError(f"The attendance share can be from {low} to {high} % of the film.")
        values["attendance_share"] = attendance_share
    return values


#: The settings ``/config unset`` puts back to their default one at a time, in :data:`LABELS`' order: every setting
#: but the screening night's day, time and channel (a night has all three or none: ``/config screenings off:True``)
#: and the web page's (``/config web``).
UNSETTABLE: tuple[str, ...] = tuple(
    setting
    for setting in LABELS
    if setting not in ("night_day", "night_time", "night_channel_id") and not setting.startswith("web_")
)

#: What an unset setting means, where "not set" alone would not say (read next to its value).
_UNSET_MEANS: dict[str, str] = {
    "picks_channel_id": "weekly picks are not posted",
    "polls_channel_id": "each poll is posted in the channel it comes from",
    "threads_channel_id": "each screening's announcement channel",
    "diary_channel_id": "diary entries are not posted",
    "moderator_role_id": "members with Manage Server",
    "voter_role_id": "everyone may vote",
    "nominator_role_id": "every member may nominate",
    "picks_day": "weekly picks are not scheduled",
    "picks_time": "weekly picks are not scheduled",
}


@dataclass(frozen=True)
class UnsetResult:
    """``/config unset``: what changed (nothing if it was at its default already) and what the value is now."""

    result: ConfigResult
    setting: str
    now: str

    @property
    def label(self) -> str:
        return LABELS[self.setting]


def _unsettable(setting: str) -> str:
    if setting not in UNSETTABLE:
        raise UserError("Pick a setting from the list (the web page has `/config web`).")
    return setting


async def unset(
    db: Database,
    clock: Clock,
    timers: TimerService,
    guild_id: int,
    user_id: int,
    setting: str,
    *,
    archive_days: int,
    attendance_share: int,
) -> UnsetResult:
    """Put one setting (of :data:`UNSETTABLE`) back to its default, recorded in the history and re-planning what
    depends on it like any other change. ``archive_days`` and ``attendance_share`` are the bot-wide defaults
    (THREAD_ARCHIVE_DAYS and ATTENDANCE_SHARE) that the screening options fall back to, for saying what the value
    is now."""
    default = getattr(GuildSettings(guild_id), _unsettable(setting))
    result = await _apply(db, clock, timers, guild_id, user_id, **{setting: default})
    return UnsetResult(
        result,
        setting,
        _value_now(result.settings, setting, archive_days=archive_days, attendance_share=attendance_share),
    )


def _value_now(settings: GuildSettings, setting: str, *, archive_days: int, attendance_share: int) -> str:
    """A setting's value as it applies, as moderators read it: a screening option the server never set is the
    bot-wide default, and an unset channel or role says what that means."""
    value = getattr(settings, setting)
    if value is None and setting in ("thread_archive_days", "attendance_share"):
        rules = screening_rules(settings, archive_days=archive_days, attendance_share=attendance_share)
        return f"{getattr(rules, setting)} (this bot's default)"
    if setting == "picks_themes" and not value:
        return "all themes, in turn"
    shown = display(setting, stored_text(setting, value))
    meaning = _UNSET_MEANS.get(setting) if value is None else None
    return f"{shown} ({meaning})" if meaning else shown


async def reset(db: Database, clock: Clock, timers: TimerService, guild_id: int, user_id: int) -> ConfigResult:
    """Back to the defaults (no channels, no roles, UTC, no schedule, so no pending weekly slot either); the history
    keeps what was there."""
    now = to_db(clock.now())
    names = await _theme_names(db, guild_id)
    async with db.transaction() as tx:
        current = await get_settings(tx, guild_id)
        defaults = GuildSettings(guild_id)
        changes = diff(current, defaults, names)
        await guilds_db.delete_settings(tx, guild_id)
        if changes:
            await _record(tx, guild_id, user_id, now, changes)
    await picks.reschedule(db, clock, timers, guild_id)
    await nights.replan_soon(clock, timers, guild_id)  # no night any more: its upcoming event is cancelled
    return ConfigResult(defaults, changes)


async def history(db: Database, guild_id: int, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """The latest changes, newest first."""
    return [
        HistoryEntry(
            entry.id, entry.user_id, from_db(entry.changed_at), Change(entry.setting, entry.old_value, entry.new_value)
        )
        for entry in await config_db.latest_changes(db, guild_id, limit)
    ]


@dataclass(frozen=True)
class ScreeningRules:
    """How a server's screenings run: its own settings, else the bot-wide defaults."""

    thread_after_minutes: int
    thread_archive_days: int
    attendance_share: int


def screening_rules(settings: GuildSettings, *, archive_days: int, attendance_share: int) -> ScreeningRules:
    """The server's screening options, ``archive_days`` and ``attendance_share`` being the bot-wide defaults
    (THREAD_ARCHIVE_DAYS and ATTENDANCE_SHARE) for the ones it never set."""
    return ScreeningRules(
        settings.thread_after_minutes,
        settings.thread_archive_days if settings.thread_archive_days is not None else archive_days,
        settings.attendance_share if settings.attendance_share is not None else attendance_share,
    )
