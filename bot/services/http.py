"""A polite HTTP client for one outside service: every call has a deadline, the service's limits are respected, and
its secrets never reach a log line or an exception.

- **A deadline on every call** (``within`` seconds, or the client's default): every attempt, every wait for the rate
  limit, every back-off fits inside it, and each attempt also has a timeout of its own, so one stalled connection
  leaves time for another try.
- **A client-side rate limit** (a token bucket, by default 20 requests a second with bursts of 10: half of what TMDb
  tolerates per address), shared by every task using the client.
- **429 honoured**: ``Retry-After`` (seconds or an HTTP date) pauses every request of the client, not only the one
  refused; if the wait does not fit the deadline the call fails at once instead of sleeping in vain.
- **5xx and network failures retried** with exponential back-off and jitter, a few times, within the deadline.
- **Nonsense refused**: a body that is not JSON, or larger than the client accepts, is a :class:`BadAnswer`; a
  redirect is not followed.
- **Conditional requests**: :meth:`PoliteHttp.fetch` sends the caller's headers (``If-None-Match``,
  ``If-Modified-Since``) and returns a 304 as an answer, with the response headers (``ETag``, ``Last-Modified``).
- **Waits asked for are reported**: an error caused by a 429 carries ``retry_after`` (seconds), also for the calls
  the pause holds back, so a caller can plan its next try.
- **Secrets** (an API key sent as a query parameter, a token sent as a header) are added to the request at the last
  moment; logs and messages name the path only, and every message is scrubbed of the secret values besides. Errors
  are raised ``from None``: aiohttp's own exceptions print the full URL, query string included.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from pydantic import SecretStr

log = logging.getLogger(__name__)

#: Statuses worth another try: the service (or something in front of it) failed, not the request.
RETRY_STATUSES = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})


class ServiceError(Exception):
    """A call to the service failed. The message is safe to log: it names the service and the path, never a secret."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ServiceRefused(ServiceError):
    """The service refused the credentials (401): a configuration to fix, not worth another try."""


class ServiceNotFound(ServiceError):
    """The service has no such resource (404)."""


class ServiceUnavailable(ServiceError):
    """The service did not answer usefully within the deadline: timeouts, 5xx after retries, a 429 that asks for a
    longer wait than is left, an unreachable host, or a request it rejected."""


class BadAnswer(ServiceUnavailable):
    """The service answered 200 with something that is not what it documents (not JSON, too large)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a call tries: ``attempts`` in all, ``attempt_timeout`` seconds each, back-off from ``backoff`` seconds
    doubling up to ``backoff_cap`` (with jitter), and ``deadline`` seconds for a whole call that names none."""

    attempts: int = 4
    attempt_timeout: float = 4.0
    backoff: float = 0.25
    backoff_cap: float = 2.0
    deadline: float = 10.0

    def backoff_for(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (1 for the first): exponential, with "equal jitter" so that clients
        failed together do not come back together."""
        ceiling = min(self.backoff_cap, self.backoff * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class TokenBucket:
    """At most ``rate`` requests a second on average, ``burst`` at once; :meth:`pause_until` holds every request back
    (after a 429). Time is the event loop's clock.

    Each request reserves its moment when it asks (the bucket may go into debt), then sleeps until then outside any
    lock: requests go out in the order they asked, and one that cannot go before its deadline fails at once."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated: float | None = None
        self._paused_until = 0.0

    def pause_until(self, moment: float) -> None:
        self._paused_until = max(self._paused_until, moment)

    async def take(self, deadline: float) -> None:
        """Wait for a token; raise :class:`ServiceUnavailable` at once if it cannot come before ``deadline``."""
        now = asyncio.get_running_loop().time()
        if self._updated is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        ready = max(self._paused_until, now + max(0.0, (1 - self._tokens) / self.rate))
        if ready > deadline:
            paused = self._paused_until - now
            raise ServiceUnavailable(
                "the rate limit leaves no room for this request before its deadline",
                retry_after=paused if paused > 0 else None,
            )
        self._tokens -= 1  # reserved (no await between reading and taking: no other task can come between)
        if ready > now:
            await asyncio.sleep(ready - now)


@dataclass(frozen=True)
class HttpAnswer:
    """One answer the caller handles itself: a 2xx with its body, or a 304 (empty body) to a conditional request."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@dataclass
class HttpCounters:
    """What a client did since it started: requests sent, retries, 429s answered, calls that failed."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    failures: int = 0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class PoliteHttp:
    """GET requests to one service under ``base_url``, within a deadline, rate-limited and retried (see the module).

    ``query_secrets`` are added to every request's query string, ``header_secrets`` to its headers; neither is ever
    logged. ``rng`` makes the back-off's jitter reproducible in tests."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        query_secrets: Mapping[str, SecretStr] | None = None,
        header_secrets: Mapping[str, SecretStr] | None = None,
        headers: Mapping[str, str] | None = None,
        rate: float = 20.0,
        burst: int = 10,
        policy: RetryPolicy | None = None,
        max_bytes: int = 2 * 1024 * 1024,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.policy = policy or RetryPolicy()
        self.max_bytes = max_bytes
        self.counters = HttpCounters()
        self._query_secrets = dict(query_secrets or {})
        self._header_secrets = dict(header_secrets or {})
        self._headers = {"User-Agent": "filmclub (Discord bot for film clubs)", **(headers or {})}
        self._bucket = TokenBucket(rate, burst)
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    # -- the calls ----------------------------------------------------------------------------------------------------

    async def get_json(self, path: str, params: Mapping[str, str] | None = None, *, within: float | None = None) -> Any:
        """The JSON document at ``base_url + path``."""
        body, _type = await self.get(path, params, within=within, accept="application/json")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.counters.failures += 1
            raise BadAnswer(f"{self.name} answered {path} with something that is not JSON") from None

    async def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        within: float | None = None,
        accept: str = "*/*",
        max_bytes: int | None = None,
    ) -> tuple[bytes, str]:
        """The body and content type at ``base_url + path``, after the retries and waits the deadline allows."""
        answer = await self.fetch(path, params, within=within, accept=accept, max_bytes=max_bytes)
        return answer.body, answer.content_type

    async def fetch(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        within: float | None = None,
        accept: str = "*/*",
        max_bytes: int | None = None,
    ) -> HttpAnswer:
        """The answer at ``base_url + path`` (a 2xx, or a 304 to a request with conditional ``headers``), after the
        retries and waits the deadline allows; anything else raises a :class:`ServiceError`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.policy.deadline if within is None else within)
        try:
            return await self._get(path, params or {}, headers or {}, deadline, accept, max_bytes or self.max_bytes)
        except ServiceError as error:
            self.counters.failures += 1
            log.debug("%s GET %s failed: %s", self.name, path, error)
            raise

    async def _get(
        self,
        path: str,
        params: Mapping[str, str],
        extra_headers: Mapping[str, str],
        deadline: float,
        accept: str,
        max_bytes: int,
    ) -> HttpAnswer:
        loop = asyncio.get_running_loop()
        last_failure = "no attempt"
        for attempt in range(1, self.policy.attempts + 1):
            await self._bucket.take(deadline)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            started = time.perf_counter()
            self.counters.requests += 1
            try:
                async with asyncio.timeout(min(self.policy.attempt_timeout, remaining)):
                    status, headers, body = await self._request(path, params, extra_headers, accept, max_bytes)
            except TimeoutError:
                last_failure = f"no answer within {min(self.policy.attempt_timeout, remaining):.1f} s"
            except aiohttp.ClientError as error:
                last_failure = describe_client_error(error)
            else:
                took = (time.perf_counter() - started) * 1000
                log.debug("%s GET %s -> %d in %.0f ms", self.name, path, status, took)
                if status < 300 or status == 304:
                    return HttpAnswer(status, headers, body)
                reason = self._scrub(_service_message(body))
                if status == 401:
                    raise ServiceRefused(f"{self.name} refused the credentials (401{reason})", status=status)
                if status == 404:
                    raise ServiceNotFound(f"{self.name} has nothing at {path} (404{reason})", status=status)
                if status == 429:
                    self.counters.rate_limited += 1
                    wait = parse_retry_after(headers.get("Retry-After"))
                    wait = self.policy.backoff_for(attempt, self._rng) if wait is None else wait
                    resume = loop.time() + wait
                    self._bucket.pause_until(resume)
                    if resume >= deadline:
                        raise ServiceUnavailable(
                            f"{self.name} is rate-limiting the bot for {wait:.1f} s (429), longer than the call may "
                            "wait",
                            status=status,
                            retry_after=wait,
                        )
                    log.warning("%s asked the bot to slow down (429): waiting %.1f s", self.name, wait)
                    last_failure = "429"
                    self.counters.retries += 1
                    continue  # the bucket's pause holds this request (and every other) until then
                if status not in RETRY_STATUSES:
                    raise ServiceUnavailable(f"{self.name} refused GET {path} ({status}{reason})", status=status)
                last_failure = f"{status}{reason}"
            if attempt == self.policy.attempts:
                break
            pause = self.policy.backoff_for(attempt, self._rng)
            if loop.time() + pause >= deadline:
                break
            log.info("%s GET %s failed (%s); trying again in %.2f s", self.name, path, last_failure, pause)
            self.counters.retries += 1
            await asyncio.sleep(pause)
        raise ServiceUnavailable(f"{self.name} did not answer GET {path} in time (last: {last_failure})")

    async def _request(
        self, path: str, params: Mapping[str, str], extra_headers: Mapping[str, str], accept: str, max_bytes: int
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One attempt: status, headers and the body (at most ``max_bytes``)."""
        if self._closed:
            raise ServiceUnavailable(f"{self.name}'s client is closed")
        session = self._session_now()
        query = {**params, **{name: value.get_secret_value() for name, value in self._query_secrets.items()}}
        headers = {
            "Accept": accept,
            **extra_headers,
            **{name: value.get_secret_value() for name, value in self._header_secrets.items()},
        }
        # No redirects: a Location elsewhere would carry the request (and a bearer token) to a host not configured.
        async with session.get(self.base_url + path, params=query, headers=headers, allow_redirects=False) as response:
            if response.content_length is not None and response.content_length > max_bytes:
                raise BadAnswer(f"{self.name} answered {path} with {response.content_length} bytes, too many")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise BadAnswer(f"{self.name} answered {path} with more than {max_bytes} bytes")
                chunks.append(chunk)
            return response.status, response.headers, b"".join(chunks)

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None:
            # trust_env=False: the base URL setting is the way to a proxy; no environment variable redirects the key.
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=self.policy.attempt_timeout),
                connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=300),
                trust_env=False,
            )
        return self._session

    def _scrub(self, text: str) -> str:
        """``text`` without any secret value in it (a service may echo a request back)."""
        for secret in (*self._query_secrets.values(), *self._header_secrets.values()):
            value = secret.get_secret_value()
            if value:
                text = text.replace(value, "***")
        return text

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


def _service_message(body: bytes) -> str:
    """``": <status_message>"`` from a JSON error body (TMDb's ``status_code``/``status_message``), else ``""``."""
    try:
        document = json.loads(body[:4096])
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(document, dict):
        return ""
    message, code = document.get("status_message"), document.get("status_code")
    if not isinstance(message, str):
        return ""
    return f": {message[:200]}" + (f" [status_code {code}]" if isinstance(code, int) else "")


def describe_client_error(error: aiohttp.ClientError) -> str:
    """Why a request failed, without the URL (aiohttp's messages include it, query string and key included)."""
    if isinstance(error, aiohttp.ClientConnectorError):
        return (
            f"cannot connect to {error.host}:{error.port} ({error.os_error.strerror or type(error.os_error).__name__})"
        )
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return type(error).__name__
