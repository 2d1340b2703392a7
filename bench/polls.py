"""Watch-party polls under load: ballots through the core, vote clicks through the loopback Discord, and kill -9.

1. Core: 1,000 ballots cast concurrently through ``bot.core.polls.vote`` (plurality, then approval and ranked
   choice) on SQLite and PostgreSQL side by side (bench/backends.py); every ballot must be recorded; ballots/s.
2. Loopback: 200 members click a vote button at once; p50/p99 from the INTERACTION_CREATE leaving the double to the
   bot's acknowledgement (sent only after the ballot is committed), side by side in the same run with
   tests/e2e/minimal_bot.py (a button that only acknowledges). Rounds alternate between the two bots; every round
   uses a fresh poll and checks that all 200 ballots are in the database, once each. The ephemeral "your vote is
   in" confirmation that follows each acknowledgement is timed too.
3. Crash: a burst of clicks, kill -9 of the bot mid-burst, restart; every acknowledged vote must be in the database.
Parts 2 and 3 run the bot on SQLite; bench/scale.py measures vote clicks with PostgreSQL and several processes.

    .venv/bin/python bench/polls.py                 # all three
    .venv/bin/python bench/polls.py --rounds 5 --json bench/out/polls.json
    .venv/bin/python bench/polls.py --skip-loopback --skip-crash --backend both [--database-url URL]

Bounded: every wait has a timeout and every bot process is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import SideBySide, add_arguments, backends  # noqa: E402

from bot.core import polls  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.films import active_films  # noqa: E402
from bot.core.tally import Method  # noqa: E402
from bot.core.timers import TimerService  # noqa: E402
from bot.db.database import open_database  # noqa: E402
from tests.catalog_builder import starter_catalog  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeUser, InteractionRecord  # noqa: E402
from tests.e2e.harness import BotProcess, DiscordDriver  # noqa: E402

GUILD = 1


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# -- 1. the core ------------------------------------------------------------------------------------------------------


METHODS = (Method.PLURALITY, Method.APPROVAL, Method.RANKED)


async def core_bench(count: int, target: str, catalog: Path, results: list[dict[str, Any]]) -> None:
    """Append a row per voting method to ``results`` (kept on a failure half-way, to show what ran)."""
    async with await open_database(target) as db:
        await db.migrate()
        await load_catalog(db, catalog)
        films = [f.id for f in await active_films(db)]
        clock = SystemClock()
        timers = TimerService(db, clock)
        for method in METHODS:
            poll = await polls.create_poll(
                db,
                clock,
                timers,
                guild_id=GUILD,
                channel_id=2,
                creator_id=3,
                title=f"bench {method.value}",
                film_ids=films,
                method=method,
                closes_at=clock.now() + timedelta(hours=1),
            )

            async def cast(user: int, poll: polls.Poll = poll, method: Method = method) -> None:
                film = films[user % len(films)]
                common = {"poll_id": poll.id, "guild_id": GUILD, "user_id": user, "role_ids": set()}
                if method is Method.RANKED:
                    await polls.rank_add(db, clock, film_id=film, **common)  # type: ignore[arg-type]
                else:
                    await polls.vote(db, clock, film_id=film, poll=poll, **common)  # type: ignore[arg-type]

            started = time.perf_counter()
            await asyncio.gather(*(cast(user) for user in range(1, count + 1)))
            elapsed = time.perf_counter() - started
            recorded = await polls.ballot_count(db, poll.id)
            closed = await polls.close_poll(db, clock, poll.id)
            assert closed.result is not None
            results.append(
                {
                    "method": method.value,
                    "ballots": count,
                    "recorded": recorded,
                    "counted": closed.result.ballots,
                    "seconds": round(elapsed, 3),
                    "ballots_per_s": round(count / elapsed),
                }
            )


async def core_side_by_side(count: int, args: argparse.Namespace, workdir: Path) -> dict[str, list[dict[str, Any]]]:
    """Each backend's rows, printed as a table (a backend that fails shows where)."""
    out: dict[str, list[dict[str, Any]]] = {}
    catalog = starter_catalog(workdir / "catalog")
    async with backends(args, workdir) as chosen:
        table = SideBySide(chosen.names)
        for backend in chosen.names:
            rows = out.setdefault(backend, [])
            target = await chosen.fresh(backend, "polls")

            async def measure(record: Any, target: str = target, rows: list[dict[str, Any]] = rows) -> None:
                await core_bench(count, target, catalog, rows)
                for row in rows:
                    record(
                        f"core {row['method']}, {row['ballots']} concurrent ballots",
                        f"{row['ballots_per_s']} ballots/s ({row['recorded']} recorded, {row['counted']} counted)",
                    )

            await table.run(backend, measure)
    print("ballots through the core:")
    table.print()
    return out


# -- 2. the loopback Discord ------------------------------------------------------------------------------------------


def add_members(fake: FakeDiscord, count: int) -> list[FakeMember]:
    members = []
    role = fake.world.member_role
    for index in range(count):
        user = FakeUser(id=fake.ids.next(), username=f"bench{index}", global_name=f"Bench {index}")
        member = FakeMember(user=user, guild_id=fake.guild.id, roles=[role])
        fake.guild.members.append(member)
        fake.users[user.id] = user
        members.append(member)
    return members


class Side:
    """One bot (real or minimal) with its own loopback Discord and 200 extra members."""

    def __init__(self, kind: str, workdir: Path, members: int) -> None:
        self.kind = kind
        self.workdir = workdir
        self.fake = FakeDiscord(interaction_deadline=None)
        self.members_wanted = members
        self.members: list[FakeMember] = []
        self.bot: BotProcess | None = None
        self.driver: DiscordDriver | None = None

    async def start(self) -> None:
        await self.fake.start()
        self.members = add_members(self.fake, self.members_wanted)
        catalog = starter_catalog(self.workdir / "catalog") if self.kind == "real" else None
        self.bot = BotProcess(self.fake, self.workdir, kind=self.kind, catalog=catalog)  # type: ignore[arg-type]
        await self.bot.start(timeout=90)
        self.driver = DiscordDriver(self.fake, timeout=30)

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.aclose()
        await self.fake.close()

    async def target(self, round_no: int) -> tuple[Any, str, int | None]:
        """(message, custom id to click, poll id) for a fresh round."""
        assert self.driver is not None
        if self.kind == "minimal":
            reply = await self.driver.command("/ping")
            message = reply.message
            assert message is not None
            return message, "minimal:ack", None
        reply = await self.driver.command(
            "/poll create",
            member=self.fake.world.moderator,
            options={
                "title": f"Bench round {round_no}",
                "deadline": "1d",
                "film1": "the-last-waltz",
                "film2": "dont-look-back",
                "film3": "get-back",
            },
        )
        message = self.fake.messages[int(reply.text.split("/")[-1].split()[0])]
        custom_id = message.component("1. The Last Waltz (1978)")["custom_id"]
        poll_id = int(custom_id.split(":")[2])
        return message, custom_id, poll_id

    async def burst(self, round_no: int, warmup: bool = False) -> dict[str, Any]:
        message, custom_id, poll_id = await self.target(round_no)
        await asyncio.sleep(0.2)  # members need a moment to see the message
        voters = self.members[:10] if warmup else self.members
        records: list[InteractionRecord] = [
            self.fake.component_interaction(message, custom_id, member=member) for member in voters
        ]
        started = time.perf_counter()
        await asyncio.gather(*(self.fake.dispatch_interaction(r) for r in records))
        async with asyncio.timeout(120):
            await asyncio.gather(*(r.responded.wait() for r in records))
        wall = time.perf_counter() - started
        latencies = [r.latency * 1000 for r in records if r.latency is not None]
        confirmations: list[float] = []
        if self.kind == "real":
            # The ephemeral "your vote is in" follow-ups that come after the acknowledgements.
            await self.fake.wait_until(
                lambda: all(r.followup_ids for r in records), timeout=60, what="every vote's confirmation"
            )
            sent = {
                req.path.rsplit("/", 1)[-1]: req.at
                for req in self.fake.requests
                if req.method == "POST" and req.path.startswith("/webhooks/") and req.status == 200
            }
            confirmations = [
                (sent[r.token] - r.dispatched_at) * 1000 for r in records if r.token in sent and r.dispatched_at
            ]
        recorded = None
        if poll_id is not None:
            assert self.bot is not None
            with sqlite3.connect(f"file:{self.bot.db_path}?mode=ro", uri=True, timeout=10) as db:
                (recorded,) = db.execute("SELECT count(*) FROM ballots WHERE poll_id = ?", (poll_id,)).fetchone()
        return {
            "latencies": latencies,
            "confirmations": confirmations,
            "wall": wall,
            "recorded": recorded,
            "clicks": len(records),
        }


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(latencies, 50), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }


async def loopback_bench(clicks: int, rounds: int, workdir: Path) -> dict[str, Any]:
    sides = {kind: Side(kind, workdir / kind, clicks) for kind in ("real", "minimal")}
    for side in sides.values():
        side.workdir.mkdir(parents=True, exist_ok=True)
    per_round: dict[str, list[dict[str, Any]]] = {"real": [], "minimal": []}
    try:
        for side in sides.values():
            await side.start()
            await side.burst(0, warmup=True)
        for round_no in range(1, rounds + 1):
            order = ("real", "minimal") if round_no % 2 else ("minimal", "real")
            for kind in order:
                per_round[kind].append(await sides[kind].burst(round_no))
    finally:
        for side in sides.values():
            await side.close()
    out: dict[str, Any] = {"clicks": clicks, "rounds": rounds}
    for kind, results in per_round.items():
        pooled = [x for r in results for x in r["latencies"]]
        out[kind] = {
            **summary(pooled),
            "answered": len(pooled),
            "sent": sum(r["clicks"] for r in results),
            "round_p99_ms": [summary(r["latencies"])["p99_ms"] for r in results],
            "round_p50_ms": [summary(r["latencies"])["p50_ms"] for r in results],
            "throughput_per_s": round(len(pooled) / sum(r["wall"] for r in results), 1),
        }
        if kind == "real":
            out[kind]["recorded_per_round"] = [r["recorded"] for r in results]
            confirmed = [x for r in results for x in r["confirmations"]]
            out[kind]["confirmation"] = {**summary(confirmed), "confirmed": len(confirmed)}
    out["p99_ratio"] = round(out["real"]["p99_ms"] / out["minimal"]["p99_ms"], 3)
    out["p50_ratio"] = round(out["real"]["p50_ms"] / out["minimal"]["p50_ms"], 3)
    out["median_round_p99_ratio"] = round(
        statistics.median(out["real"]["round_p99_ms"]) / statistics.median(out["minimal"]["round_p99_ms"]), 3
    )
    return out


# -- 3. kill -9 during a burst ----------------------------------------------------------------------------------------


async def crash_test(clicks: int, workdir: Path) -> dict[str, Any]:
    side = Side("real", workdir / "crash", clicks)
    side.workdir.mkdir(parents=True, exist_ok=True)
    try:
        await side.start()
        assert side.bot is not None
        message, custom_id, poll_id = await side.target(1)
        await asyncio.sleep(0.2)
        records = [side.fake.component_interaction(message, custom_id, member=m) for m in side.members]
        burst = asyncio.gather(*(side.fake.dispatch_interaction(r) for r in records))
        # Kill once the first acknowledgements are out: the rest of the burst is still in the bot's hands.
        await side.fake.wait_until(
            lambda: sum(r.responded.is_set() for r in records) >= clicks // 10, timeout=60, what="a tenth acked"
        )
        await side.bot.kill()
        killed_at = datetime.now(UTC)
        await burst
        acknowledged = {r.member.id for r in records if r.responded.is_set() and r.member is not None}
        await side.bot.start(timeout=90)
        with sqlite3.connect(f"file:{side.bot.db_path}?mode=ro", uri=True, timeout=10) as db:
            stored = {row[0] for row in db.execute("SELECT user_id FROM ballots WHERE poll_id = ?", (poll_id,))}
        return {
            "clicks": clicks,
            "acknowledged_before_kill": len(acknowledged),
            "in_database_after_restart": len(stored),
            "acknowledged_but_lost": len(acknowledged - stored),
            "unanswered_at_kill": sum(not r.responded.is_set() for r in records),
            "killed_at": killed_at.isoformat(timespec="seconds"),
        }
    finally:
        await side.close()


# -- main -----------------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="polls-bench-"))
    result: dict[str, Any] = {}
    if not args.skip_core:
        result["core"] = await core_side_by_side(args.ballots, args, workdir)
    if not args.skip_loopback:
        result["loopback"] = await loopback_bench(args.clicks, args.rounds, workdir)
    if not args.skip_crash:
        result["crash"] = await crash_test(args.clicks, workdir)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1000, help="ballots cast through the core (default 1000)")
    parser.add_argument("--clicks", type=int, default=200, help="concurrent vote clicks (default 200)")
    parser.add_argument("--rounds", type=int, default=10, help="bursts per bot, alternating (default 10)")
    parser.add_argument("--skip-core", action="store_true")
    parser.add_argument("--skip-loopback", action="store_true")
    parser.add_argument("--skip-crash", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    add_arguments(parser)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    ok = True
    for rows in result.get("core", {}).values():
        ok &= len(rows) == len(METHODS)
        ok &= all(row["recorded"] == row["counted"] == row["ballots"] for row in rows)
    loop = result.get("loopback")
    if loop:
        for kind, label in (("real", "filmclub vote click"), ("minimal", "minimal bot ack   ")):
            r = loop[kind]
            print(
                f"{label} x{loop['clicks']} x{loop['rounds']} rounds: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms "
                f"(p90 {r['p90_ms']}, max {r['max_ms']}, mean {r['mean_ms']}; {r['answered']}/{r['sent']} answered; "
                f"{r['throughput_per_s']}/s; p99 per round {r['round_p99_ms']})"
            )
        c = loop["real"]["confirmation"]
        print(
            f"filmclub ephemeral confirmation (follow-up after the ack): p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms "
            f"(max {c['max_ms']}; {c['confirmed']} confirmed)"
        )
        recorded = loop["real"]["recorded_per_round"]
        ok &= all(n == loop["clicks"] for n in recorded)
        ok &= loop["p99_ratio"] <= 1.25
        print(
            f"p99 ratio filmclub/minimal {loop['p99_ratio']} (target <= 1.25; median of per-round p99s "
            f"{loop['median_round_p99_ratio']}), p50 ratio {loop['p50_ratio']}; ballots recorded per round {recorded}"
        )
    crash = result.get("crash")
    if crash:
        ok &= crash["acknowledged_but_lost"] == 0
        print(
            f"kill -9 during {crash['clicks']} clicks: {crash['acknowledged_before_kill']} acknowledged before the "
            f"kill ({crash['unanswered_at_kill']} never answered), {crash['in_database_after_restart']} in the "
            "database after restart, "
            f"{crash['acknowledged_but_lost']} acknowledged votes lost"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
