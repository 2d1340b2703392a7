"""SQL for watchlists and what members and the club have watched."""

from __future__ import annotations

ADD_TO_WATCHLIST = """
INSERT INTO watchlist (guild_id, user_id, film_id, source, added_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
REMOVE_FROM_WATCHLIST = "DELETE FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?"
WATCHLIST = "SELECT film_id FROM watchlist WHERE guild_id = ? AND user_id = ? ORDER BY added_at, film_id"
WATCHLISTED_BY = "SELECT user_id FROM watchlist WHERE guild_id = ? AND film_id = ? ORDER BY added_at"
WATCHLIST_COUNTS = "SELECT film_id, count(*) FROM watchlist WHERE guild_id = ? GROUP BY film_id"

MARK_WATCHED = """
INSERT INTO member_watched (guild_id, user_id, film_id, source, watched_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
UNMARK_WATCHED = "DELETE FROM member_watched WHERE guild_id = ? AND user_id = ? AND film_id = ?"
SEEN_BY_MEMBER = """
SELECT film_id FROM member_watched WHERE guild_id = :guild_id AND user_id = :user_id
UNION SELECT film_id FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id
"""

MARK_CLUB_WATCHED = """
INSERT INTO club_watched (guild_id, film_id, source, reference, watched_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
UNMARK_CLUB_WATCHED = "DELETE FROM club_watched WHERE guild_id = ? AND film_id = ?"
CLUB_WATCHED = "SELECT film_id FROM club_watched WHERE guild_id = ?"

WATCHLIST_SIZE = "SELECT count(*) FROM watchlist WHERE guild_id = ? AND user_id = ?"
# Oldest addition first, like the list a member built; the film id breaks ties so pages never overlap.
WATCHLIST_PAGE = """
SELECT film_id, source, added_at FROM watchlist WHERE guild_id = ? AND user_id = ?
ORDER BY added_at, film_id LIMIT ? OFFSET ?
"""
ON_WATCHLIST = "SELECT 1 FROM watchlist WHERE guild_id = ? AND user_id = ? AND film_id = ?"
SEEN_COUNT = """
SELECT count(*) FROM (
    SELECT film_id FROM member_watched WHERE guild_id = :guild_id AND user_id = :user_id
    UNION SELECT film_id FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id
)
"""
MEMBER_WATCHED = "SELECT film_id, source, watched_at FROM member_watched WHERE guild_id = ? AND user_id = ?"
HAS_REVIEW = "SELECT 1 FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"
