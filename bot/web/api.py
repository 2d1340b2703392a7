"""The club's calendar feed and JSON API: the same data as the pages (:mod:`bot.core.club_page`,
:mod:`bot.core.calendar`), as iCalendar and as JSON, under the club's secret address.

Read-only like every page, behind the same middlewares (rate limit, ETag/304, security headers) and the same
plain 404 for an unknown or retired slug. The JSON is the core's records field for field (README: "JSON API"):
dataclasses become objects, moments become ISO 8601 in UTC, nothing else is added, so no Discord id can slip in.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from aiohttp import web

from bot.core import calendar
from bot.core import club_page as data
from bot.core.web_pages import page_path
from bot.web.app import cached_page, club_of, services

#: The API's version, in every answer: fields are only ever added under one version.
API_VERSION = 1
#: Calendars poll their feeds; a few minutes' staleness is fine and spares the database.
FEED_MAX_AGE = 300


def plain(value: Any) -> Any:
    """A core record as JSON values: dataclasses as objects (field order kept), tuples as lists, moments as UTC
    ISO 8601 strings, enums as their values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def json_response(kind: str, payload: Any) -> web.Response:
    body = json.dumps({"api": API_VERSION, "kind": kind, "data": plain(payload)}, ensure_ascii=False)
    return web.Response(text=body, content_type="application/json", charset="utf-8")


async def club_json(request: web.Request) -> web.Response:
    page = await club_of(request)
    site = services(request)

    async def produce() -> web.Response:
        club = await data.club_page(site.db, site.clock, page, details=site.details, names=site.member_names)
        return json_response("club", club)

    return await cached_page(request, page, produce)


async def film_json(request: web.Request) -> web.Response:
    page = await club_of(request)
    site = services(request)
    film_id = int(request.match_info["film_id"])

    async def produce() -> web.Response:
        shown = await data.film_page(site.db, page, film_id, details=site.details, names=site.member_names)
        if shown is None:
            raise web.HTTPNotFound()
        return json_response("film", shown)

    return await cached_page(request, page, produce)


async def catalog_json(request: web.Request) -> web.Response:
    await club_of(request)
    return json_response("catalog", await data.catalog_themes(services(request).db))


async def theme_json(request: web.Request) -> web.Response:
    await club_of(request)
    found = await data.theme_films(services(request).db, request.match_info["theme"])
    if found is None:
        raise web.HTTPNotFound()
    theme, films = found
    return json_response("theme", {"theme": theme, "films": films})


async def search_json(request: web.Request) -> web.Response:
    page = await club_of(request)
    query = request.query.get("q", "")[: data.SEARCH_MAX_LENGTH]
    titles = await services(request).titles_for(page.guild_id)
    return json_response("search", {"query": query, "films": data.search_films(titles, query)})


async def calendar_feed(request: web.Request) -> web.Response:
    """The club's screenings as an iCalendar feed (text/calendar), each linked to its film's page."""
    page = await club_of(request)
    assert page.slug is not None  # club_of only returns public pages  # noqa: S101
    site = services(request)
    base = site.base_url or str(request.url.origin())
    film_url = base.rstrip("/") + page_path(page.slug) + "films/{film_id}"
    name = site.club_name(page.guild_id) or "Film club"
    text = await calendar.calendar_feed(site.db, site.clock, page.guild_id, name=name, film_url=film_url)
    return web.Response(
        body=text.encode("utf-8"),
        headers={
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": 'inline; filename="screenings.ics"',
            "Cache-Control": f"public, max-age={FEED_MAX_AGE}",
        },
    )


def add_routes(app: web.Application) -> None:
    slug = "/c/{slug}"
    app.router.add_get(f"{slug}/calendar.ics", calendar_feed)
    app.router.add_get(f"{slug}/api/club.json", club_json)
    app.router.add_get(slug + r"/api/films/{film_id:\d{1,18}}.json", film_json)
    app.router.add_get(f"{slug}/api/catalog.json", catalog_json)
    app.router.add_get(slug + r"/api/catalog/{theme:[a-z0-9][a-z0-9-]{0,80}}.json", theme_json)
    app.router.add_get(f"{slug}/api/search.json", search_json)
