"""The web server under load, inside the real bot, while the bot also handles vote bursts from the loopback Discord.

The real bot runs with WEB_PORT on loopback (SQLite, rate limit off for the load generator's single address). The
club has an open poll and a scheduled screening. For the club page and the calendar feed in turn, an async load
generator (aiohttp, ``--connections`` at once) requests the address for ``--seconds``: first with the bot idle, then
while 200 members click a vote button at once, burst after burst, through the loopback Discord. Prints requests/s and
p50/p99 per phase, the vote bursts' acknowledgement p99, and the club page's weight (HTML and every file it loads).

    .venv/bin/python bench/web.py
    .venv/bin/python bench/web.py --seconds 10 --connections 16 --json bench/out/web.json

Everything (bot, loopback Discord, load generator) shares the machine's cores: the figures are for the whole
machine, as a club's bot would have it. Bounded: every wait has a timeout and the bot process is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import re
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.polls import add_members  # noqa: E402
from tests.catalog_builder import starter_catalog  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord, FakeMember, InteractionRecord  # noqa: E402
from tests.e2e.harness import BotProcess, DiscordDriver  # noqa: E402

ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+/c/[A-Za-z0-9_-]{24}/")
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def load(url: str, *, seconds: float, connections: int) -> dict[str, Any]:
    """``connections`` clients requesting ``url`` back to back for ``seconds``; every answer must be a 200."""
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client() -> None:
            nonlocal failures
            while time.perf_counter() < stop:
                started = time.perf_counter()
                async with http.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        wall = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


class Club:
    def __init__(self, workdir: Path, members: int) -> None:
        self.workdir = workdir
        self.fake = FakeDiscord(interaction_deadline=None)
        self.members_wanted = members
        self.members: list[FakeMember] = []
        self.port = free_port()
        self.bot: BotProcess | None = None
        self.driver: DiscordDriver | None = None
        self.bursts: list[dict[str, Any]] = []

    async def start(self) -> str:
        await self.fake.start()
        self.members = add_members(self.fake, self.members_wanted)
        env = {"WEB_PORT": str(self.port), "WEB_HOST": "127.0.0.1", "WEB_RATE_LIMIT": "0"}
        catalog = starter_catalog(self.workdir / "catalog")
        self.bot = BotProcess(self.fake, self.workdir, kind="real", catalog=catalog, env=env)
        await self.bot.start(timeout=90)
        self.driver = DiscordDriver(self.fake, timeout=30)
        moderator = self.fake.world.moderator
        reply = await self.driver.command("/config web", member=moderator, options={"public": True})
        found = ADDRESS.search(reply.text)
        assert found is not None, reply.text
        await self.driver.command(
            "/screening schedule",
            member=moderator,
            options={"film": "stop-making-sense", "when": "2d", "location": "The Roxy"},
        )
        return found[0]

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.aclose()
        await self.fake.close()

    async def burst(self, round_no: int) -> None:
        """A fresh poll, and every member clicks its first film at once; waits for every acknowledgement."""
        assert self.driver is not None
        reply = await self.driver.command(
            "/poll create",
            member=self.fake.world.moderator,
            options={"title": f"Burst {round_no}", "deadline": "1d", "film1": "the-last-waltz", "film2": "get-back"},
        )
        message = self.fake.messages[int(reply.text.split("/")[-1].split()[0])]
        custom_id = message.component("1. The Last Waltz (1978)")["custom_id"]
        records: list[InteractionRecord] = [
            self.fake.component_interaction(message, custom_id, member=member) for member in self.members
        ]
        started = time.perf_counter()
        await asyncio.gather(*(self.fake.dispatch_interaction(r) for r in records))
        async with asyncio.timeout(120):
            await asyncio.gather(*(r.responded.wait() for r in records))
        latencies = [r.latency * 1000 for r in records if r.latency is not None]
        self.bursts.append(
            {"clicks": len(records), "wall_s": time.perf_counter() - started, "p99_ms": percentile(latencies, 99)}
        )

    async def keep_bursting(self, until: float) -> None:
        round_no = len(self.bursts)
        while time.perf_counter() < until:
            round_no += 1
            await self.burst(round_no)


async def page_weight(http: aiohttp.ClientSession, page: str, origin: str) -> dict[str, Any]:
    async with http.get(page) as response:
        html = await response.read()
    assets = sorted(set(ASSET.findall(html.decode("utf-8"))))
    sizes = {"html": len(html)}
    compressed = len(gzip.compress(html))
    for asset in assets:
        async with http.get(origin + asset) as response:
            body = await response.read()
        sizes[asset.split("?")[0]] = len(body)
        compressed += len(gzip.compress(body))
    return {
        "files": {name: round(size / 1024, 1) for name, size in sizes.items()},
        "total_kb": round(sum(sizes.values()) / 1024, 1),
        "total_gzip_kb": round(compressed / 1024, 1),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="filmclub-web-bench-") as folder:
        club = Club(Path(folder), args.clicks)
        try:
            page = await club.start()
            origin = page.split("/c/")[0]
            await club.burst(0)  # warm-up: the bot's first burst, and a poll with 200 ballots on the page
            targets = {"club page": page, "calendar feed": page + "calendar.ics"}
            out: dict[str, Any] = {"connections": args.connections, "seconds": args.seconds, "clicks": args.clicks}
            async with aiohttp.ClientSession() as http:
                out["weight"] = await page_weight(http, page, origin)
            for name, url in targets.items():
                idle = await load(url, seconds=args.seconds, connections=args.connections)
                club.bursts.clear()
                until = time.perf_counter() + args.seconds
                busy, _ = await asyncio.gather(
                    load(url, seconds=args.seconds, connections=args.connections), club.keep_bursting(until)
                )
                busy["vote_bursts"] = len(club.bursts)
                busy["vote_ack_p99_ms"] = round(max((b["p99_ms"] for b in club.bursts), default=float("nan")), 1)
                out[name] = {"idle": idle, "during vote bursts": busy}
        finally:
            await club.close()
    return out


def report(out: dict[str, Any]) -> None:
    print(f"web bench: {out['connections']} connections, {out['seconds']} s a phase, bursts of {out['clicks']} clicks")
    for name in ("club page", "calendar feed"):
        for phase, row in out[name].items():
            extra = (
                f", {row['vote_bursts']} vote bursts (ack p99 {row['vote_ack_p99_ms']} ms)"
                if "vote_bursts" in row
                else ""
            )
            print(
                f"  {name:13} {phase:18} {row['rps']:8.1f} req/s  p50 {row['p50_ms']:6.1f} ms  "
                f"p99 {row['p99_ms']:6.1f} ms  ({row['requests']} requests, {row['failures']} not 200){extra}"
            )
    weight = out["weight"]
    files = ", ".join(f"{name} {kb} KB" for name, kb in weight["files"].items())
    print(f"  club page weight: {weight['total_kb']} KB ({weight['total_gzip_kb']} KB gzipped): {files}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    result = asyncio.run(main(arguments))
    report(result)
    if arguments.json is not None:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(result, indent=2))
