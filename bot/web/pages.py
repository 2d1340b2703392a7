"""The pages: each handler resolves the club (:func:`bot.web.app.club_of`), asks :mod:`bot.core.club_page` for the
page's data and renders its template. Nothing here reads the database or decides what a page shows."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.core import club_page as data
from bot.core.schedule import zone
from bot.core.web_pages import WebPage, page_path
from bot.ui.charts import bar_chart
from bot.web.app import cached_page, club_of, render, services

#: Where a screening's Discord event opens (the page links to our redirect, so no id is in the page itself).
DISCORD_EVENT_URL = "https://discord.com/events/{guild_id}/{event_id}"
#: Results charts drawn, kept by poll (a closed poll's result never changes).
CHART_CACHE = 64
_charts: OrderedDict[tuple[int, int], bytes] = OrderedDict()


def _context(request: web.Request, site_page: WebPage, **values: Any) -> dict[str, Any]:
    """What every template gets: the club's name, its page's path (links are relative to it), and ``values``."""
    assert site_page.slug is not None  # club_of only returns public pages  # noqa: S101
    name = services(request).club_name(site_page.guild_id)
    return {"club_name": name or "Film club", "home": page_path(site_page.slug), **values}


async def club_home(request: web.Request) -> web.Response:
    page = await club_of(request)

    async def produce() -> web.Response:
        site = services(request)
        club = await data.club_page(site.db, site.clock, page, details=site.details, names=site.member_names)
        return render(request, "club.html", **_context(request, page, club=club))

    return await cached_page(request, page, produce)


async def club_redirect(request: web.Request) -> web.Response:
    page = await club_of(request)
    assert page.slug is not None  # noqa: S101
    raise web.HTTPPermanentRedirect(page_path(page.slug))


async def film(request: web.Request) -> web.Response:
    page = await club_of(request)

    async def produce() -> web.Response:
        site = services(request)
        shown = await data.film_page(
            site.db, page, int(request.match_info["film_id"]), details=site.details, names=site.member_names
        )
        if shown is None:
            raise web.HTTPNotFound()
        return render(request, "film.html", **_context(request, page, page=shown, now=site.clock.now()))

    return await cached_page(request, page, produce)


async def catalog(request: web.Request) -> web.Response:
    page = await club_of(request)
    themes = await data.catalog_themes(services(request).db)
    return render(request, "catalog.html", **_context(request, page, themes=themes))


async def theme(request: web.Request) -> web.Response:
    page = await club_of(request)
    found = await data.theme_films(services(request).db, request.match_info["theme"])
    if found is None:
        raise web.HTTPNotFound()
    shown, films = found
    return render(request, "theme.html", **_context(request, page, theme=shown, films=films))


async def search(request: web.Request) -> web.Response:
    page = await club_of(request)
    query = request.query.get("q", "")[: data.SEARCH_MAX_LENGTH]
    titles = await services(request).titles_for(page.guild_id)
    found = data.search_films(titles, query)
    return render(request, "search.html", **_context(request, page, query=query, films=found))


async def chart(request: web.Request) -> web.Response:
    page = await club_of(request)
    poll_id = int(request.match_info["poll_id"])
    key = (page.guild_id, poll_id)
    png = _charts.get(key)
    if png is None:
        drawn = await data.result_chart(services(request).db, page.guild_id, poll_id)
        if drawn is None:
            raise web.HTTPNotFound()
        png = await asyncio.to_thread(bar_chart, drawn.title, drawn.labels, drawn.values, highlight=drawn.highlight)
        _charts[key] = png
        while len(_charts) > CHART_CACHE:
            _charts.popitem(last=False)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


async def event(request: web.Request) -> web.Response:
    """A screening's Discord event: a redirect, so the ids are in no page."""
    page = await club_of(request)
    event_id = await data.screening_event(services(request).db, page.guild_id, int(request.match_info["screening_id"]))
    if event_id is None:
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(DISCORD_EVENT_URL.format(guild_id=page.guild_id, event_id=event_id))


# -- template filters ---------------------------------------------------------------------------------------------


def when(moment: datetime, timezone: str) -> str:
    """A moment in the club's timezone, for visitors without JavaScript: "Friday 13 March 2026, 20:00 (UTC)"."""
    local = moment.astimezone(zone(timezone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({timezone})"


def day(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(zone(timezone))
    return f"{local.day} {local:%B %Y}"


def time_left(until: datetime, now: datetime) -> str:
    left = until - now
    if left <= timedelta(0):
        return "closing now"
    minutes = round(left.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} left"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} left"
    return f"{hours // 24} days left"


def stars(value: float) -> str:
    """★★★★½ for 4.5 (whole stars and a half)."""
    halves = round(value * 2)
    return "★" * (halves // 2) + ("½" if halves % 2 else "")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


FILTERS = {"when": when, "day": day, "time_left": time_left, "stars": stars, "iso": iso}


def add_routes(app: web.Application) -> None:
    slug = "/c/{slug}"
    app.router.add_get(f"{slug}", club_redirect)
    app.router.add_get(f"{slug}/", club_home)
    app.router.add_get(slug + r"/films/{film_id:\d{1,18}}", film)
    app.router.add_get(f"{slug}/catalog", catalog)
    app.router.add_get(f"{slug}/catalog/search", search)
    app.router.add_get(slug + r"/catalog/{theme:[a-z0-9][a-z0-9-]{0,80}}", theme)
    app.router.add_get(slug + r"/polls/{poll_id:\d{1,18}}/chart.png", chart)
    app.router.add_get(slug + r"/screenings/{screening_id:\d{1,18}}/event", event)
