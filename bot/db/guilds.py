"""Per-server settings: the stored row, read into :class:`GuildSettings` and written back whole."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.db.database import Reader, Row, Transaction
from bot.db.shards import on_shards, shard_params

DEFAULT_PICKS_COUNT = 3
DEFAULT_NOMINATIONS_LIMIT = 3


@dataclass(frozen=True)
class GuildSettings:
    """A server's configuration; a server that never configured anything gets these defaults."""

    guild_id: int
    picks_channel_id: int | None = None
    polls_channel_id: int | None = None
    announcements_channel_id: int | None = None
    #: Where screenings' discussion threads open (None: each screening's announcement channel).
    threads_channel_id: int | None = None
    #: Where linked members' Letterboxd diary entries are posted (None: nowhere).
    diary_channel_id: int | None = None
    moderator_role_id: int | None = None
    voter_role_id: int | None = None
    timezone: str = "UTC"
    #: Weekly picks: the local weekday (0 = Monday) and time ("HH:MM" or "HH:MM:SS") of the post.
    picks_day: int | None = None
    picks_time: str | None = None
    picks_count: int = DEFAULT_PICKS_COUNT
    #: Theme slugs to rotate through, in order; empty means every theme of the catalog.
    picks_themes: tuple[str, ...] = ()
    #: Open a watch-party poll among the picks when they are posted.
    picks_poll: bool = False
    picks_enabled: bool = True
    #: Nominations: whether a new one waits for a moderator's approval, how many open ones (pending or approved) a
    #: member may have, and the role allowed to nominate (None: every member).
    nominations_approval: bool = False
    nominations_limit: int = DEFAULT_NOMINATIONS_LIMIT
    nominator_role_id: int | None = None
    #: The club's regular screening night: local weekday (0 = Monday), time ("HH:MM[:SS]") and voice or stage
    #: channel; all three set or all three None.
    night_day: int | None = None
    night_time: str | None = None
    night_channel_id: int | None = None
    #: Screening nights: the discussion thread opens this many minutes after the start (0: at the start); it is
    #: archived after ``thread_archive_days``, and members present for ``attendance_share`` per cent of the film
    #: attend (None: the bot-wide THREAD_ARCHIVE_DAYS and ATTENDANCE_SHARE).
    thread_after_minutes: int = 0
    thread_archive_days: int | None = None
    attendance_share: int | None = None

    @property
    def picks_scheduled(self) -> bool:
        """Whether weekly picks will be posted: switched on, with a channel, a day and a time (the rule
        :data:`_PICKS_SCHEDULED` says in SQL)."""
        return (
            self.picks_enabled
            and self.picks_channel_id is not None
            and self.picks_day is not None
            and self.picks_time is not None
        )


GET_SETTINGS = """
SELECT guild_id, picks_channel_id, polls_channel_id, announcements_channel_id, moderator_role_id, voter_role_id,
       threads_channel_id, diary_channel_id,
       timezone, picks_day, picks_time, picks_count, picks_themes, picks_poll, picks_enabled,
       nominations_approval, nominations_limit, nominator_role_id, night_day, night_time, night_channel_id,
       thread_after_minutes, thread_archive_days, attendance_share
FROM guild_settings WHERE guild_id = ?
"""

# Writes every column: callers read the row, change what they change (dataclasses.replace) and write it back inside
# one transaction, so a change and its history entries commit together.
SAVE_SETTINGS = """
INSERT INTO guild_settings (
    guild_id, picks_channel_id, polls_channel_id, announcements_channel_id, moderator_role_id, voter_role_id,
    threads_channel_id, diary_channel_id,
    timezone, picks_day, picks_time, picks_count, picks_themes, picks_poll, picks_enabled,
    nominations_approval, nominations_limit, nominator_role_id, night_day, night_time, night_channel_id,
    thread_after_minutes, thread_archive_days, attendance_share, updated_at
) VALUES (
    :guild_id, :picks_channel_id, :polls_channel_id, :announcements_channel_id, :moderator_role_id, :voter_role_id,
    :threads_channel_id, :diary_channel_id,
    :timezone, :picks_day, :picks_time, :picks_count, :picks_themes, :picks_poll, :picks_enabled,
    :nominations_approval, :nominations_limit, :nominator_role_id, :night_day, :night_time, :night_channel_id,
    :thread_after_minutes, :thread_archive_days, :attendance_share, :now
)
ON CONFLICT (guild_id) DO UPDATE SET
    picks_channel_id = excluded.picks_channel_id,
    polls_channel_id = excluded.polls_channel_id,
    announcements_channel_id = excluded.announcements_channel_id,
    threads_channel_id = excluded.threads_channel_id,
    diary_channel_id = excluded.diary_channel_id,
    moderator_role_id = excluded.moderator_role_id,
    voter_role_id = excluded.voter_role_id,
    timezone = excluded.timezone,
    picks_day = excluded.picks_day,
    picks_time = excluded.picks_time,
    picks_count = excluded.picks_count,
    picks_themes = excluded.picks_themes,
    picks_poll = excluded.picks_poll,
    picks_enabled = excluded.picks_enabled,
    nominations_approval = excluded.nominations_approval,
    nominations_limit = excluded.nominations_limit,
    nominator_role_id = excluded.nominator_role_id,
    night_day = excluded.night_day,
    night_time = excluded.night_time,
    night_channel_id = excluded.night_channel_id,
    thread_after_minutes = excluded.thread_after_minutes,
    thread_archive_days = excluded.thread_archive_days,
    attendance_share = excluded.attendance_share,
    updated_at = excluded.updated_at
"""
DELETE_SETTINGS = "DELETE FROM guild_settings WHERE guild_id = ?"

#: Servers whose weekly picks are switched on and complete (channel, day and time): the start-up re-arm reads this.
_PICKS_SCHEDULED = (
    "picks_enabled = 1 AND picks_channel_id IS NOT NULL AND picks_day IS NOT NULL AND picks_time IS NOT NULL"
)
# Servers whose weekly picks are complete and switched on, less those whose recorded slot still has its timer
# pending: the ones start-up must (re)arm.
SCHEDULED_WITHOUT_PENDING_SLOT = f"""
SELECT g.guild_id FROM guild_settings g
WHERE {_PICKS_SCHEDULED}
  AND NOT EXISTS (SELECT 1 FROM picks_schedule s JOIN timers t ON t.kind = ? AND t.key = s.timer_key
                  WHERE s.guild_id = g.guild_id AND t.done_at IS NULL)
  AND {{on_shards}}
ORDER BY g.guild_id
"""  # noqa: S608 - constant fragments; values go through placeholders


def _settings(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        picks_channel_id=row["picks_channel_id"],
        polls_channel_id=row["polls_channel_id"],
        announcements_channel_id=row["announcements_channel_id"],
        threads_channel_id=row["threads_channel_id"],
        diary_channel_id=row["diary_channel_id"],
        moderator_role_id=row["moderator_role_id"],
        voter_role_id=row["voter_role_id"],
        timezone=row["timezone"],
        picks_day=row["picks_day"],
        picks_time=row["picks_time"],
        picks_count=row["picks_count"],
        picks_themes=tuple(json.loads(row["picks_themes"])),
        picks_poll=bool(row["picks_poll"]),
        picks_enabled=bool(row["picks_enabled"]),
        nominations_approval=bool(row["nominations_approval"]),
        nominations_limit=int(row["nominations_limit"]),
        nominator_role_id=row["nominator_role_id"],
        night_day=row["night_day"],
        night_time=row["night_time"],
        night_channel_id=row["night_channel_id"],
        thread_after_minutes=int(row["thread_after_minutes"]),
        thread_archive_days=row["thread_archive_days"],
        attendance_share=row["attendance_share"],
    )


async def stored_settings(db: Reader, guild_id: int) -> GuildSettings | None:
    """The server's saved settings; ``None`` if it never saved any."""
    row = await db.fetchone(GET_SETTINGS, (guild_id,))
    return None if row is None else _settings(row)


async def save_settings(tx: Transaction, settings: GuildSettings, now: str) -> None:
    """Write every setting of the server (insert or replace its row)."""
    await tx.execute(
        SAVE_SETTINGS,
        {
            "guild_id": settings.guild_id,
            "picks_channel_id": settings.picks_channel_id,
            "polls_channel_id": settings.polls_channel_id,
            "announcements_channel_id": settings.announcements_channel_id,
            "threads_channel_id": settings.threads_channel_id,
            "diary_channel_id": settings.diary_channel_id,
            "moderator_role_id": settings.moderator_role_id,
            "voter_role_id": settings.voter_role_id,
            "timezone": settings.timezone,
            "picks_day": settings.picks_day,
            "picks_time": settings.picks_time,
            "picks_count": settings.picks_count,
            "picks_themes": json.dumps(list(settings.picks_themes)),
            "picks_poll": int(settings.picks_poll),
            "picks_enabled": int(settings.picks_enabled),
            "nominations_approval": int(settings.nominations_approval),
            "nominations_limit": settings.nominations_limit,
            "nominator_role_id": settings.nominator_role_id,
            "night_day": settings.night_day,
            "night_time": settings.night_time,
            "night_channel_id": settings.night_channel_id,
            "thread_after_minutes": settings.thread_after_minutes,
            "thread_archive_days": settings.thread_archive_days,
            "attendance_share": settings.attendance_share,
            "now": now,
        },
    )


async def delete_settings(tx: Transaction, guild_id: int) -> None:
    """Forget the server's row: it reads as the defaults again."""
    await tx.execute(DELETE_SETTINGS, (guild_id,))


async def scheduled_without_pending_slot(
    db: Reader, timer_kind: str, shard_count: int, shard_ids: Sequence[int]
) -> list[int]:
    """The servers of the given shards whose weekly picks are complete and switched on but have no pending
    ``timer_kind`` timer for their recorded slot: one query for every server at start-up (asking per server took
    two queries each)."""
    query = SCHEDULED_WITHOUT_PENDING_SLOT.format(on_shards=on_shards("g.guild_id", shard_ids))
    params = (timer_kind, *shard_params(shard_count, shard_ids))
    return [int(row[0]) for row in await db.fetchall(query, params)]
