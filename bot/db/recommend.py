"""SQL that recommendations read: the catalog in bulk, change counters, and members' interactions with their times."""

from __future__ import annotations

# One row whatever exists: the loaded catalog's identity and the server's change counters (0 before any change).
VERSIONS = """
SELECT (SELECT CAST(generation AS TEXT) FROM catalog_state WHERE id = 1),
       coalesce(v.ratings, 0), coalesce(v.watching, 0), coalesce(v.collections, 0)
FROM (SELECT 1) LEFT JOIN recommend_versions v ON v.guild_id = ?
"""

SNAPSHOT_FILMS = """
SELECT id, title, year, runtime, kind, directors, featuring FROM films WHERE retired = 0 ORDER BY id
"""
SNAPSHOT_FILM_THEMES = """
SELECT ft.film_id, ft.theme_slug FROM film_themes ft
JOIN films f ON f.id = ft.film_id JOIN themes t ON t.slug = ft.theme_slug
WHERE f.retired = 0 AND t.retired = 0
ORDER BY ft.film_id, ft.position
"""

# Ratings (with when they were last changed) and films marked watched without a rating: the taste model's input.
INTERACTIONS = """
SELECT user_id, film_id, rating / 2.0, updated_at FROM reviews WHERE guild_id = :guild_id
UNION ALL
SELECT w.user_id, w.film_id, NULL, w.watched_at FROM member_watched w
WHERE w.guild_id = :guild_id
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.guild_id = w.guild_id AND r.user_id = w.user_id
                  AND r.film_id = w.film_id)
"""

# /tonight's groups, kept so a page button can name one by id (migration 0007); asking again reuses the row.
REMEMBER_GROUP = """
INSERT INTO tonight_groups (guild_id, members) VALUES (?, ?)
ON CONFLICT (guild_id, members) DO UPDATE SET members = excluded.members
RETURNING id
"""
GROUP = "SELECT members FROM tonight_groups WHERE guild_id = ? AND id = ?"
