"""The web application's factory, and the server the bot runs it on (``WEB_PORT``)."""

from __future__ import annotations

import logging

import jinja2
from aiohttp import web

from bot.web import api, pages
from bot.web.app import (
    LIMITER,
    PAGES,
    SERVICES,
    STATIC_FILES,
    TEMPLATE_ENV,
    TEMPLATES,
    PageCache,
    RateLimit,
    SiteServices,
    conditional,
    content_security_policy,
    load_static,
    make_headers_middleware,
    rate_limited,
    static_file,
)

log = logging.getLogger(__name__)


class WebServerUnavailable(Exception):
    """The web server could not listen where WEB_HOST and WEB_PORT say (the port is taken, the address is not
    this machine's)."""


#: Seconds a rendered page is served again to other visitors before it is rendered anew (live counts lag this much).
PAGE_CACHE_SECONDS = 2.0


def create_app(
    site: SiteServices,
    *,
    per_minute: int = 120,
    rate_limit: RateLimit | None = None,
    page_cache_seconds: float = PAGE_CACHE_SECONDS,
) -> web.Application:
    """The web application: security headers outermost (they go on errors too), then the rate limit, then ETags;
    then the pages (:mod:`bot.web.pages`) and the static files."""
    app = web.Application(
        middlewares=[make_headers_middleware(content_security_policy(site.image_origin)), rate_limited, conditional],
        client_max_size=1024,  # read-only: no request has a body worth reading
    )
    app[SERVICES] = site
    app[PAGES] = PageCache(page_cache_seconds)
    app[LIMITER] = rate_limit or RateLimit(per_minute=per_minute, burst=max(1, per_minute // 2))
    app[TEMPLATE_ENV] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[TEMPLATE_ENV].filters.update(pages.FILTERS)
    app[STATIC_FILES] = load_static()
    app.router.add_get("/static/{name}", static_file)
    pages.add_routes(app)
    api.add_routes(app)
    return app


class WebServer:
    """The application on a TCP port, started and stopped with the bot."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, shutdown_timeout=2.0).start()
        except OSError as error:
            await runner.cleanup()
            raise WebServerUnavailable(
                f"cannot serve the web pages on {self.host}:{self.port} ({error.strerror or error})"
            ) from error
        self._runner = runner
        log.info("web pages served on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("web server stopped")
