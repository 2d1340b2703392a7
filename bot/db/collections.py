"""SQL for servers' own collections (moderator-made themes)."""

from __future__ import annotations

COLLECTIONS = """
SELECT id, guild_id, slug, title, description, created_by, created_at FROM collections
WHERE guild_id = ? ORDER BY title COLLATE NOCASE, id
"""
# Active films only, in the order they were added: a retired film drops out of its collections until it returns.
COLLECTION_FILMS = """
SELECT cf.collection_id, cf.film_id FROM collection_films cf
JOIN collections c ON c.id = cf.collection_id
JOIN films f ON f.id = cf.film_id
WHERE c.guild_id = ? AND f.retired = 0
ORDER BY cf.collection_id, cf.position
"""
COUNT_COLLECTIONS = "SELECT count(*) FROM collections WHERE guild_id = ?"
COUNT_FILMS = "SELECT count(*) FROM collection_films WHERE collection_id = ?"
INSERT_COLLECTION = """
INSERT INTO collections (guild_id, slug, title, description, created_by, created_at)
VALUES (:guild_id, :slug, :title, :description, :created_by, :now)
ON CONFLICT (guild_id, slug) DO NOTHING
RETURNING id
"""
ADD_FILM = """
INSERT INTO collection_films (collection_id, film_id, position, added_by, added_at)
VALUES (:collection_id, :film_id,
        (SELECT coalesce(max(position), -1) + 1 FROM collection_films WHERE collection_id = :collection_id),
        :added_by, :now)
ON CONFLICT (collection_id, film_id) DO NOTHING
"""
REMOVE_FILM = "DELETE FROM collection_films WHERE collection_id = ? AND film_id = ?"
DELETE_COLLECTION = "DELETE FROM collections WHERE id = ? AND guild_id = ?"
