"""SQL for reading films and themes."""

from __future__ import annotations

_FILM_COLUMNS = """
films.id, films.slug, films.title, films.year, films.runtime, films.kind, films.episodes, films.seasons,
films.blurb, films.imdb_id, films.directors, films.featuring, films.countries, films.alt_titles, films.prompts,
films.retired,
(SELECT group_concat(theme_slug, ',') FROM (SELECT theme_slug FROM film_themes ft WHERE ft.film_id = films.id
                                           ORDER BY ft.position)) AS themes
"""
# The f-strings below join constant SQL fragments; values always go through placeholders.
FILM_BY_ID = f"SELECT {_FILM_COLUMNS} FROM films WHERE id = ?"  # noqa: S608
FILMS_BY_IDS = f"SELECT {_FILM_COLUMNS} FROM films WHERE id IN ({{placeholders}})"  # noqa: S608
ACTIVE_FILMS = f"SELECT {_FILM_COLUMNS} FROM films WHERE retired = 0 ORDER BY id"  # noqa: S608
INDEX_ROWS = "SELECT id, title, year, alt_titles, slug FROM films WHERE retired = 0 ORDER BY id"

THEMES = """
SELECT themes.slug, themes.title, themes.description,
       (SELECT count(*) FROM film_themes ft JOIN films f ON f.id = ft.film_id
        WHERE ft.theme_slug = themes.slug AND f.retired = 0)
FROM themes WHERE retired = 0 ORDER BY themes.title
"""
THEME_FILMS = """
SELECT f.id FROM film_themes ft JOIN films f ON f.id = ft.film_id
WHERE ft.theme_slug = ? AND f.retired = 0 ORDER BY f.id
"""
