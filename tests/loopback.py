"""The one way the tests' stand-ins for outside services (Discord, TMDb, Letterboxd's feeds) listen on loopback."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str, *, shutdown_timeout: float = 0.5) -> tuple[web.AppRunner, int]:
    """Start ``app`` on a free port of ``host``: its runner (``cleanup()`` stops it) and the port it took."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, int(sockets[0].getsockname()[1])
