"""Latency of /help under load, through the loopback Discord, against the real bot process.

N concurrent INTERACTION_CREATEs go out on the gateway at once; for each, the time from the dispatch hitting the
socket to the bot's interaction callback arriving at the double is measured. Prints p50/p99 (and more).

    .venv/bin/python bench/loopback_help.py                 # 200 x /help, real bot
    .venv/bin/python bench/loopback_help.py --bot minimal --button   # baseline: a button that only acknowledges

Bounded: every wait has a timeout and the bot process is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e.fake_discord import FakeDiscord, InteractionRecord  # noqa: E402
from tests.e2e.harness import BotKind, BotProcess, DiscordDriver, default_bot_kind  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


async def build_records(
    fake: FakeDiscord, driver: DiscordDriver, *, count: int, command: str, button: bool
) -> list[InteractionRecord]:
    members = driver.world.members
    if not button:
        return [
            fake.command_interaction(command, member=members[i % len(members)], channel=driver.world.general)
            for i in range(count)
        ]
    reply = await driver.command(command)
    message = reply.message
    if message is None or not message.components:
        raise SystemExit(f"{command} answered without a button to click")
    target = next(c for c in message.walk_components() if c.get("type") == 2 and c.get("custom_id"))
    return [
        fake.component_interaction(message, target["custom_id"], member=members[i % len(members)]) for i in range(count)
    ]


async def run(args: argparse.Namespace) -> dict[str, object]:
    kind: BotKind = args.bot or default_bot_kind()
    command = args.command or ("/help" if kind == "real" else "/ping")
    async with FakeDiscord(interaction_deadline=None) as fake:
        workdir = Path(tempfile.mkdtemp(prefix="loopback-bench-"))
        catalog = None
        if args.catalog == "starter":
            from tests.catalog_builder import starter_catalog

            catalog = starter_catalog(workdir / "catalog")
        elif args.catalog:
            catalog = Path(args.catalog)
        bot = BotProcess(fake, workdir, kind=kind, catalog=catalog)
        try:
            await bot.start(timeout=60)
            driver = DiscordDriver(fake, timeout=30)
            for _ in range(args.warmup):
                await driver.command(command)

            records = await build_records(fake, driver, count=args.n, command=command, button=args.button)
            started = time.perf_counter()
            await asyncio.gather(*(fake.dispatch_interaction(r) for r in records))
            async with asyncio.timeout(args.timeout):
                await asyncio.gather(*(r.responded.wait() for r in records))
            wall = time.perf_counter() - started
            latencies = [r.latency for r in records if r.latency is not None]
        finally:
            await bot.aclose()
    ms = [x * 1000 for x in latencies]
    result: dict[str, object] = {
        "bot": kind,
        "interaction": f"click on {command}'s button" if args.button else command,
        "concurrent": args.n,
        "answered": len(ms),
        "min_ms": round(min(ms), 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "over_3s": sum(1 for x in ms if x > 3000),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(ms) / wall, 1),
        "bot_ready_s": round(bot.ready_times[0], 2) if bot.ready_times else None,
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="concurrent interactions (default 200)")
    parser.add_argument("--bot", choices=["real", "minimal"], help="default: real once bot/ exists")
    parser.add_argument("--command", help="slash command to send (default /help, or /ping for the minimal bot)")
    parser.add_argument("--button", action="store_true", help="click the command's first button instead")
    parser.add_argument("--warmup", type=int, default=3, help="sequential warm-up interactions")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    parser.add_argument("--catalog", help='CATALOG_PATH for the bot, or "starter" for a small generated one')
    parser.add_argument("--json", type=Path, help="also write the result as JSON here (e.g. bench/out/help.json)")
    args = parser.parse_args()

    result = asyncio.run(run(args))
    print(
        f"{result['interaction']} x{result['concurrent']} on the {result['bot']} bot: "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms "
        f"(min {result['min_ms']}, p90 {result['p90_ms']}, max {result['max_ms']}, mean {result['mean_ms']}; "
        f"{result['over_3s']} over Discord's 3 s; {result['throughput_per_s']}/s over {result['wall_s']} s)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
