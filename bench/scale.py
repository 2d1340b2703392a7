"""Many servers, several processes: start-up, memory, every timer once, and vote clicks, per backend and process count.

N servers (1,000 by default; ``--servers 10000``) each have an open poll (posted) and a weekly picks schedule, all
due in the same minute. Real bot processes (``python -m bot run``) are launched at once against the loopback Discord,
which routes each server to its shard as Discord does; with several processes the shards are split between them
(SHARD_COUNT / SHARD_IDS). Measured per configuration (one process on SQLite; 1, 2 and 4 on PostgreSQL):

- start-up: from launch to each process's "filmclub ready" log line;
- memory: each process's peak RSS (VmHWM in /proc/<pid>/status) once its timers have run;
- exactly once: in the double's store, every server's picks channel has one picks post from the bot and its polls
  channel one poll result (beside the seeded poll), none missing, none twice;
- vote clicks per second: a burst of clicks on polls in two servers on different shards (so, with two processes,
  one in each), through the real interactions.

    .venv/bin/python bench/scale.py [--servers 1000] [--processes 1,2,4] [--backend both] [--database-url URL]

Bounded: every wait has a timeout, every process started here is stopped, every database made here is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from backends import Backends, add_arguments, backends, insert_many  # noqa: E402

from bot.core import polls  # noqa: E402
from bot.core.catalog import load_catalog  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.films import active_films  # noqa: E402
from bot.core.timers import TimerService  # noqa: E402
from bot.db.database import open_database  # noqa: E402
from tests.catalog_builder import starter_catalog  # noqa: E402
from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeUser, InteractionRecord  # noqa: E402
from tests.e2e.fake_discord.world import World  # noqa: E402
from tests.e2e.harness import BotProcess, DiscordDriver  # noqa: E402


@dataclass
class Outcome:
    """What one configuration measured."""

    backend: str
    processes: int
    shard_ids: list[str]
    seed_s: float = 0.0
    ready_s: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    picks_posts: dict[int, int] = field(default_factory=dict)  # server -> picks posts seen
    poll_results: dict[int, int] = field(default_factory=dict)  # server -> poll results seen
    timers_s: float | None = None  # from the due minute to the last post
    clicks: int = 0
    clicks_answered: int = 0
    clicks_recorded: int = 0
    clicks_per_s: float = 0.0
    error: str | None = None

    def once(self, counts: dict[int, int]) -> str:
        missing = sum(n == 0 for n in counts.values())
        twice = sum(n > 1 for n in counts.values())
        return "yes" if counts and not missing and not twice else f"no: {missing} missing, {twice} twice"


def shard_ranges(shards: int, processes: int) -> list[str]:
    """SHARD_IDS for each process: the shards split into contiguous ranges, e.g. 4 over 2 -> ["0-1", "2-3"]."""
    bounds = [round(i * shards / processes) for i in range(processes + 1)]
    return [f"{lo}-{hi - 1}" if hi - 1 > lo else str(lo) for lo, hi in itertools.pairwise(bounds)]


def vm_hwm_mib(pid: int | None) -> float:
    """A process's peak resident set size (VmHWM), in MiB."""
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- seeding ----------------------------------------------------------------------------------------------------------


async def post_as_bot(session: aiohttp.ClientSession, fake: FakeDiscord, channel_id: int, content: str) -> int:
    """Post a message as the bot through the double's REST API (the seeded polls' messages); its id."""
    async with session.post(
        f"{fake.api_base}/channels/{channel_id}/messages",
        json={"content": content},
        headers={"Authorization": f"Bot {fake.token}"},
        timeout=aiohttp.ClientTimeout(total=30),
    ) as response:
        response.raise_for_status()
        return int((await response.json())["id"])


async def seed(fake: FakeDiscord, worlds: list[World], target: str, catalog: Path, due: datetime) -> set[int]:
    """Every server: guild settings with weekly picks at ``due`` (in UTC); an open poll closing at ``due``, posted.
    Settings in bulk SQL (portable), polls through the core, as /poll create does. The picks timers are left to the
    processes, which arm each server's at start-up (as after a restore), so start-up includes that. Returns the
    polls' message ids."""
    posted = set()
    async with await open_database(target) as db:
        await db.migrate()
        await load_catalog(db, catalog)
        films = [f.id for f in await active_films(db)][:3]
        clock = SystemClock()
        timers = TimerService(db, clock)
        await insert_many(
            db,
            "INSERT INTO guild_settings (guild_id, picks_channel_id, polls_channel_id, timezone, picks_day, picks_time)"
            " VALUES (?, ?, ?, 'UTC', ?, ?)",
            [(w.guild.id, w.picks.id, w.polls.id, due.weekday(), due.strftime("%H:%M")) for w in worlds],
        )
        async with aiohttp.ClientSession() as session:
            for world in worlds:
                poll = await polls.create_poll(
                    db,
                    clock,
                    timers,
                    guild_id=world.guild.id,
                    channel_id=world.polls.id,
                    creator_id=world.moderator.id,
                    title="Scale night",
                    film_ids=films,
                    closes_at=due,
                    publish_timer=False,
                )
                message_id = await post_as_bot(session, fake, world.polls.id, f"Poll {poll.id}: Scale night")
                await polls.attach_message(db, poll.id, message_id)
                posted.add(message_id)
    return posted


# -- counting in the double -------------------------------------------------------------------------------------------


def count_posts(fake: FakeDiscord, worlds: list[World], seeded: set[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Per server: the bot's messages in its picks channel, and in its polls channel beside the seeded poll."""
    picks_channel = {w.picks.id: w.guild.id for w in worlds}
    polls_channel = {w.polls.id: w.guild.id for w in worlds}
    picks_seen = dict.fromkeys((w.guild.id for w in worlds), 0)
    results_seen = dict.fromkeys((w.guild.id for w in worlds), 0)
    for message in list(fake.messages.values()):
        if message.deleted or message.ephemeral or message.author.id != fake.bot_user.id:
            continue
        if message.channel_id in picks_channel:
            picks_seen[picks_channel[message.channel_id]] += 1
        elif message.channel_id in polls_channel and message.id not in seeded:
            results_seen[polls_channel[message.channel_id]] += 1
    return picks_seen, results_seen


# -- vote clicks ------------------------------------------------------------------------------------------------------


def add_voters(fake: FakeDiscord, world: World, count: int) -> list[FakeMember]:
    voters = []
    for index in range(count):
        user = FakeUser(id=fake.ids.next(), username=f"voter{index}", global_name=f"Voter {index}")
        member = FakeMember(user=user, guild_id=world.guild.id, roles=[world.member_role])
        world.guild.members.append(member)
        fake.users[user.id] = user
        voters.append(member)
    return voters


async def click_burst(fake: FakeDiscord, worlds: list[World], clicks: int, target: str) -> tuple[int, int, float]:
    """``clicks`` vote clicks at once, split over a fresh poll in each of ``worlds``: (answered, recorded, clicks/s)."""
    records: list[InteractionRecord] = []
    poll_ids = []
    for world in worlds:
        driver = DiscordDriver(fake, member=world.moderator, channel=world.polls, timeout=60)
        reply = await driver.command(
            "/poll create",
            options={"title": "Click night", "deadline": "1d", "film1": "the-last-waltz", "film2": "dont-look-back"},
        )
        message = fake.messages[int(reply.text.split("/")[-1].split()[0].strip(")"))]
        custom_id = message.component("1. The Last Waltz (1978)")["custom_id"]
        poll_ids.append(int(custom_id.split(":")[2]))
        records += [
            fake.component_interaction(message, custom_id, member=voter)
            for voter in add_voters(fake, world, clicks // len(worlds))
        ]
    await asyncio.sleep(0.5)  # members need a moment to see the messages
    started = time.perf_counter()
    await asyncio.gather(*(fake.dispatch_interaction(r) for r in records))
    async with asyncio.timeout(180):
        await asyncio.gather(*(r.responded.wait() for r in records))
    wall = time.perf_counter() - started
    async with await open_database(target) as db:
        recorded = sum([await polls.ballot_count(db, poll_id) for poll_id in poll_ids])
    return sum(r.responded.is_set() for r in records), recorded, len(records) / wall


# -- one configuration ------------------------------------------------------------------------------------------------


async def run_config(
    args: argparse.Namespace, chosen: Backends, backend: str, processes: int, catalog: Path
) -> Outcome:
    shards = args.shards
    outcome = Outcome(backend, processes, shard_ranges(shards, processes))
    fake = FakeDiscord(interaction_deadline=None, shard_count=shards)
    await fake.start()
    bots: list[BotProcess] = []
    try:
        worlds = [fake.add_guild(f"Club {i}", shard=i % shards) for i in range(args.servers)]
        target = await chosen.fresh(backend, f"scale{processes}")
        now = datetime.now(UTC)
        lead = args.lead if args.lead is not None else 30 + 0.025 * args.servers  # seeding, then start-up
        due = (now + timedelta(seconds=lead)).replace(second=0, microsecond=0) + timedelta(minutes=1)
        started = time.perf_counter()
        seeded = await seed(fake, worlds, target, catalog, due)
        outcome.seed_s = time.perf_counter() - started
        print(f"  {backend} x{processes}: seeded {args.servers:,} servers in {outcome.seed_s:.1f} s, due {due:%H:%M}")
        for index, shard_ids in enumerate(outcome.shard_ids):
            workdir = chosen.workdir / f"{backend}-{processes}-{index}"
            workdir.mkdir(parents=True, exist_ok=True)
            env = {"SHARD_COUNT": str(shards), "SHARD_IDS": shard_ids}
            if backend == "postgres":
                env["DATABASE_URL"] = target
            db_path = Path(target) if backend == "sqlite" else None
            bots.append(BotProcess(fake, workdir, kind="real", db_path=db_path, env=env, catalog=catalog))
        for bot in bots:
            await bot.start(wait_ready=False)
        await asyncio.gather(*(bot.wait_ready(timeout=args.ready_timeout) for bot in bots))
        outcome.ready_s = [bot.ready_times[-1] for bot in bots]
        print(f"  ready after {', '.join(f'{s:.1f} s' for s in outcome.ready_s)}")

        deadline = due.timestamp() + args.timers_timeout
        seen, changed_at = -1, time.time()
        while time.time() < deadline:
            picks_seen, results_seen = count_posts(fake, worlds, seeded)
            if all(picks_seen.values()) and all(results_seen.values()):
                outcome.timers_s = time.time() - due.timestamp()
                break
            posted = sum(picks_seen.values()) + sum(results_seen.values())
            if posted != seen:
                seen, changed_at = posted, time.time()
            elif time.time() > max(changed_at, due.timestamp()) + args.stall:
                break  # nothing new for a while after the due minute: what is missing stays missing
            await asyncio.sleep(2)
        await asyncio.sleep(args.settle)  # a timer fired twice would show now
        outcome.picks_posts, outcome.poll_results = count_posts(fake, worlds, seeded)
        outcome.peak_rss_mib = [vm_hwm_mib(bot.pid) for bot in bots]

        clicked = [next(w for i, w in enumerate(worlds) if i % shards == shard) for shard in {0, shards // 2}]
        outcome.clicks = args.clicks // len(clicked) * len(clicked)
        outcome.clicks_answered, outcome.clicks_recorded, outcome.clicks_per_s = await click_burst(
            fake, clicked, args.clicks, target
        )
    except Exception as error:  # the table shows it; the other configurations still run
        outcome.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
        for bot in bots:
            print(f"  --- {bot.log_path}:\n{bot.tail()}"[-3000:], file=sys.stderr)
    finally:
        for bot in bots:
            with contextlib.suppress(Exception):
                await bot.aclose()
        await fake.close()
    return outcome


def print_table(outcomes: list[Outcome], servers: int) -> None:
    print(f"\n{servers:,} servers, each with an open poll and weekly picks due in the same minute")
    header = (
        f"{'backend x processes':<22}{'start-up to ready':<24}{'peak RSS/process':<24}{'picks once':<26}"
        f"{'results once':<26}{'all posted after due':<22}{'vote clicks/s':<16}"
    )
    print(header)
    for o in outcomes:
        label = f"{o.backend} x{o.processes} ({','.join(o.shard_ids)})"
        if o.error:
            print(f"{label:<22}FAILED: {o.error}")
            continue
        ready = "/".join(f"{s:.1f}" for s in o.ready_s) + " s"
        rss = "/".join(f"{m:.0f}" for m in o.peak_rss_mib) + " MiB"
        timers = f"{o.timers_s:.0f} s" if o.timers_s is not None else "not all"
        clicks = f"{o.clicks_per_s:.0f} ({o.clicks_recorded}/{o.clicks} in db)"
        print(
            f"{label:<22}{ready:<24}{rss:<24}{o.once(o.picks_posts):<26}{o.once(o.poll_results):<26}"
            f"{timers:<22}{clicks:<16}"
        )


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    catalog = starter_catalog(workdir / "catalog")
    outcomes = []
    async with backends(args, workdir) as chosen:
        for backend in chosen.names:
            counts = [1] if backend == "sqlite" else args.processes
            for processes in counts:
                outcomes.append(await run_config(args, chosen, backend, processes, catalog))
                print_table(outcomes[-1:], args.servers)
    print_table(outcomes, args.servers)
    ok = all(
        o.error is None
        and o.once(o.picks_posts) == "yes"
        and o.once(o.poll_results) == "yes"
        and o.clicks_recorded == o.clicks
        for o in outcomes
    )
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"the bots' logs are kept in {workdir}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=1_000)
    parser.add_argument("--shards", type=int, default=4, help="SHARD_COUNT (default 4)")
    parser.add_argument(
        "--processes", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 4], help="on PostgreSQL"
    )
    parser.add_argument("--clicks", type=int, default=200, help="vote clicks in the burst (default 200)")
    parser.add_argument(
        "--lead", type=float, help="seconds from the start of seeding to the due minute (default 30 s + 25 ms a server)"
    )
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--timers-timeout", type=float, default=600, help="seconds after the due minute")
    parser.add_argument("--stall", type=float, default=60, help="seconds without a new post before giving up")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait for duplicates after the last post")
    add_arguments(parser)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
