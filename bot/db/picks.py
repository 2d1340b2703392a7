"""SQL for weekly picks: the per-week claims with their films, and each server's next scheduled slot."""

from __future__ import annotations

_POST_COLUMNS = """
id, guild_id, week_key, theme_slug, theme_title, trigger, slot_at, requested_by, channel_id, message_id, claimed_at,
posted_at, poll_wanted, poll_id
"""

# The claim: at most one row per server and week. DO NOTHING + RETURNING gives no row when the week is taken.
CLAIM = """
INSERT INTO picks_posts (guild_id, week_key, theme_slug, theme_title, trigger, slot_at, requested_by, channel_id,
                         claimed_at, poll_wanted)
VALUES (:guild_id, :week_key, :theme_slug, :theme_title, :trigger, :slot_at, :requested_by, :channel_id, :claimed_at,
        :poll_wanted)
ON CONFLICT (guild_id, week_key) DO NOTHING
RETURNING id
"""
ADD_FILM = "INSERT INTO picks_post_films (post_id, position, film_id, reason) VALUES (?, ?, ?, ?)"
MARK_POSTED = "UPDATE picks_posts SET message_id = ?, posted_at = ? WHERE id = ? AND message_id IS NULL"
# Run inside the transaction that stores the poll (bot.core.polls.create_poll's ``record``): no row changed means
# another attempt recorded a poll first, and this one is rolled back.
SET_POLL = "UPDATE picks_posts SET poll_id = ? WHERE id = ? AND poll_id IS NULL AND poll_wanted = 1"
POLL_OF = "SELECT poll_id FROM picks_posts WHERE id = ?"
RELEASE = "DELETE FROM picks_posts WHERE id = ? AND message_id IS NULL"

POST_FOR_WEEK = f"SELECT {_POST_COLUMNS} FROM picks_posts WHERE guild_id = ? AND week_key = ?"  # noqa: S608
POST_BY_ID = f"SELECT {_POST_COLUMNS} FROM picks_posts WHERE id = ?"  # noqa: S608
RECENT_POSTS = f"""
SELECT {_POST_COLUMNS} FROM picks_posts WHERE guild_id = ? ORDER BY claimed_at DESC, id DESC LIMIT ?
"""  # noqa: S608
POST_FILMS = "SELECT post_id, position, film_id, reason FROM picks_post_films WHERE post_id = ? ORDER BY position"

#: Films of a server's posts in the given weeks (a JSON array of week keys): the no-repeat window.
FILMS_IN_WEEKS = """
SELECT DISTINCT pf.film_id FROM picks_post_films pf JOIN picks_posts p ON p.id = pf.post_id
WHERE p.guild_id = ? AND p.week_key IN (SELECT value FROM json_each(?))
"""
LAST_THEME = "SELECT theme_slug FROM picks_posts WHERE guild_id = ? ORDER BY claimed_at DESC, id DESC LIMIT 1"
LATEST_POSTED_FILMS = """
SELECT film_id FROM picks_post_films
WHERE post_id = (SELECT id FROM picks_posts WHERE guild_id = ? AND message_id IS NOT NULL
                 ORDER BY posted_at DESC, id DESC LIMIT 1)
ORDER BY position
"""

GET_SCHEDULE = "SELECT guild_id, timer_key, slot_at, week_key FROM picks_schedule WHERE guild_id = ?"
SAVE_SCHEDULE = """
INSERT INTO picks_schedule (guild_id, timer_key, slot_at, week_key, scheduled_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (guild_id) DO UPDATE SET
    timer_key = excluded.timer_key, slot_at = excluded.slot_at, week_key = excluded.week_key,
    scheduled_at = excluded.scheduled_at
"""
DELETE_SCHEDULE = "DELETE FROM picks_schedule WHERE guild_id = ?"
