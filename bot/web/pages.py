"""The pages: each handler resolves the club (:func:`bot.web.app.club_of`), asks the core for the page's data and
renders its template. Nothing here reads the database directly or decides anything a page shows."""

from __future__ import annotations

from aiohttp import web

from bot.web.app import club_of, render, services


async def club_home(request: web.Request) -> web.Response:
    page = await club_of(request)
    name = services(request).club_name(page.guild_id)
    return render(request, "club.html", club_name=name or "Film club", home=request.path)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/c/{slug}/", club_home)
