"""Responses shaped like Discord's: discord.py only parses bodies whose Content-Type is exactly application/json."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return web.Response(body=json.dumps(data, separators=(",", ":")).encode(), status=status, headers=merged)
