"""Build small catalogs as real TOML files for tests, so every test reads the catalog the way the bot does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.catalog import load_catalog
from bot.core.films import active_films
from bot.db.database import Database


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def theme(slug: str, **overrides: Any) -> dict[str, Any]:
    entry = {
        "slug": slug,
        "title": slug.replace("-", " ").title(),
        "description": f"A test theme called {slug}, with a description long enough to pass validation.",
    }
    entry.update(overrides)
    return entry


def film(film_id: str, **overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": film_id,
        "title": film_id.replace("-", " ").title(),
        "year": 1978,
        "directors": ["Test Director"],
        "runtime": 100,
        "kind": "documentary",
        "countries": ["US"],
        "themes": ["live-on-stage"],
        "blurb": f"A test film called {film_id}; the blurb only needs to be long enough to pass.",
        "prompts": ["What did you make of the ending?", "Which scene stayed with you the most?"],
    }
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


def to_toml(themes: Sequence[dict[str, Any]] = (), films: Sequence[dict[str, Any]] = ()) -> str:
    blocks = []
    for name, entries in (("theme", themes), ("film", films)):
        for entry in entries:
            lines = [f"[[{name}]]"] + [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_catalog(folder: Path, files: dict[str, str]) -> Path:
    """Write ``{file name: TOML text}`` into ``folder`` (created) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def load_films(
    db: Database, folder: Path, films: Sequence[dict[str, Any]], themes: Sequence[dict[str, Any]] | None = None
) -> dict[str, int]:
    """Write ``films`` (under ``themes``, by default the one theme ``live-on-stage``) as one catalog file in
    ``folder``, load it the way the bot does, and return each film's database id by its slug."""
    chosen_themes = [theme("live-on-stage")] if themes is None else themes
    await load_catalog(db, write_catalog(folder, {"c.toml": to_toml(chosen_themes, films)}))
    return {loaded.slug: loaded.id for loaded in await active_films(db)}


def starter_catalog(folder: Path) -> Path:
    """Two themes and three films in two files: the smallest catalog that exercises cross-file rules."""
    return write_catalog(
        folder,
        {
            "themes.toml": to_toml(themes=[theme("live-on-stage"), theme("on-the-road")]),
            "films.toml": to_toml(
                films=[
                    film(
                        "the-last-waltz",
                        title="The Last Waltz",
                        directors=["Martin Scorsese"],
                        runtime=117,
                        kind="concert film",
                        themes=["live-on-stage", "on-the-road"],
                        alt_titles=["Last Waltz"],
                    ),
                    film(
                        "dont-look-back",
                        title="Dont Look Back",
                        year=1967,
                        directors=["D. A. Pennebaker"],
                        runtime=96,
                        themes=["on-the-road"],
                        featuring=["Bob Dylan", "Joan Baez"],
                    ),
                    film(
                        "get-back",
                        title="The Beatles: Get Back",
                        year=2021,
                        directors=["Peter Jackson"],
                        runtime=468,
                        kind="docuseries",
                        episodes=3,
                        themes=["live-on-stage"],
                    ),
                ]
            ),
        },
    )
