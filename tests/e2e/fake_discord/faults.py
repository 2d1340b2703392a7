"""Fault injection: answer the next N requests on a route with 429 (rate limited) or a 5xx."""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field

from aiohttp import web

from .http_util import json_response

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
API_PREFIX = "/api/v10"


def normalise_route(route: str) -> str:
    route = route.strip()
    if route.startswith(API_PREFIX):
        route = route[len(API_PREFIX) :]
    return _PLACEHOLDER.sub("{}", route.rstrip("/") or "/")


@dataclass(eq=False)
class Fault:
    """A pending fault. ``route`` is a template ("/interactions/{id}/{token}/callback") or a concrete path."""

    method: str | None
    route: str
    status: int
    remaining: int
    retry_after: float = 0.25
    is_global: bool = False
    message: str | None = None
    hits: list[float] = field(default_factory=list)

    def matches(self, method: str, template: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.route in (normalise_route(template), normalise_route(path))

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    def response(self) -> web.Response:
        if self.status == 429:
            bucket = hashlib.sha1(self.route.encode(), usedforsecurity=False).hexdigest()[:16]
            headers = {
                "Retry-After": str(max(1, math.ceil(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": self.message or "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
                "code": 0,
            }
            return json_response(body, status=429, headers=headers)
        reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
        text = self.message or f"{self.status}: {reason.get(self.status, 'Error')}"
        return json_response({"message": text, "code": 0}, status=self.status)


class FaultInjector:
    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.fired: list[tuple[Fault, str, str]] = []

    def inject(
        self,
        route: str,
        *,
        status: int = 429,
        times: int = 1,
        retry_after: float = 0.25,
        is_global: bool = False,
        message: str | None = None,
    ) -> Fault:
        """``route`` may start with a method: ``"POST /interactions/{id}/{token}/callback"``."""
        method: str | None = None
        head, _, tail = route.partition(" ")
        if tail and head.isupper():
            method, route = head, tail
        fault = Fault(
            method=method,
            route=normalise_route(route),
            status=status,
            remaining=times,
            retry_after=retry_after,
            is_global=is_global,
            message=message,
        )
        self.pending.append(fault)
        return fault

    def take(self, method: str, template: str, path: str) -> Fault | None:
        for fault in self.pending:
            if fault.matches(method, template, path):
                fault.remaining -= 1
                fault.hits.append(time.perf_counter())
                self.fired.append((fault, method, path))
                if fault.exhausted:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.pending.clear()
