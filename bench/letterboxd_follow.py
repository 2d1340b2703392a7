"""Letterboxd following benchmark: what following ``--members`` members' feeds costs the bot and Letterboxd, measured
with the feed client (bot/services/letterboxd_feed.py) against the loopback Letterboxd
(tests/letterboxd_feed_double.py).

Figures:

- **requests**: per hour and per second on average at one read per member per ``--interval`` minutes, and the
  busiest minute of a simulated day when every member's next read comes ``--interval`` minutes after the last,
  jittered by ±``--jitter`` (a fraction of the interval), starting at random moments;
- **bytes** per hour when ``--changed`` of the feeds change in an interval (the rest answer 304);
- **CPU per read**, in this process: parsing a typical 50-entry feed alone, a read that gets the feed (200: HTTP and
  parsing), a conditional read answered 304; the loopback server runs in the same process, so the round trips
  include its share (an upper bound for the client);
- **a round** over every member (``--entries`` entries in each feed) through one client with the default caps (4
  reads at a time) but no rate limit: wall time and CPU, every feed unchanged (304) and with ``--changed`` of them
  new; at the client's default rate (2 reads a second) a round's pacing is ``members / 2`` seconds, which is what
  spreads it;
- parsing a 5 MB feed (the largest size the tests require; the client refuses more than 8 MB).

    python bench/letterboxd_follow.py [--members 1000] [--interval 30] [--jitter 0.1] [--changed 0.1] [--reads 200]
                                      [--entries 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.letterboxd_live import FeedStatus  # noqa: E402
from bot.services.letterboxd_feed import READS_PER_SECOND, LetterboxdFeed, parse_feed  # noqa: E402
from tests.letterboxd_feed_double import LetterboxdFeedDouble  # noqa: E402

TITLES = ("Alien", "Solaris", "Perfect Days", "Flow", "Stalker", "Heat", "Ran", "Ikiru", "Paterson", "Tampopo")


def fill(double: LetterboxdFeedDouble, username: str, entries: int, rng: random.Random) -> None:
    """A member with ``entries`` diary entries: about a third with a review of one to three paragraphs."""
    double.add_member(username, username.title())
    for number in range(entries):
        reviewed = rng.random() < 0.35
        paragraphs = " ".join(rng.choice(TITLES) for _ in range(rng.randint(10, 60)))
        double.add_entry(
            username,
            f"{rng.choice(TITLES)} {number}",
            rng.randint(1920, 2026),
            tmdb_id=rng.randint(1, 1_200_000),
            rating=rng.choice((None, *(n / 2 for n in range(1, 11)))),
            review="\n\n".join([paragraphs] * rng.randint(1, 3)) if reviewed else "",
            rewatch=rng.random() < 0.1,
            liked=rng.random() < 0.3,
            spoiler=reviewed and rng.random() < 0.1,
        )


def busiest_minute(members: int, interval: float, jitter: float, rng: random.Random) -> tuple[int, float]:
    """The most reads in one minute over a simulated day, and the average a minute."""
    per_minute: Counter[int] = Counter()
    day = 24 * 60.0
    for _ in range(members):
        moment = rng.uniform(0, interval)
        while moment < day:
            per_minute[int(moment)] += 1
            moment += interval * (1 + rng.uniform(-jitter, jitter))
    return max(per_minute.values()), sum(per_minute.values()) / day


def cpu_ms(work: int, cpu: float) -> str:
    return f"{cpu / work * 1000:.2f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="minutes between two reads of a member's feed")
    parser.add_argument("--jitter", type=float, default=0.1, help="± fraction of the interval")
    parser.add_argument("--changed", type=float, default=0.1, help="share of feeds that change in an interval")
    parser.add_argument("--reads", type=int, default=200, help="reads measured for the CPU per read")
    parser.add_argument("--entries", type=int, default=50, help="entries in each member's feed for the rounds")
    args = parser.parse_args()
    rng = random.Random(16)

    print(f"following {args.members} members, one read each every {args.interval:g} min (±{args.jitter:.0%})")
    per_hour = args.members * 60 / args.interval
    peak, average = busiest_minute(args.members, args.interval, args.jitter, rng)
    print(f"  requests: {per_hour:,.0f} an hour, {per_hour / 3600:.2f} a second on average")
    print(f"  busiest minute of a simulated day: {peak} reads (average {average:.1f} a minute)")
    paced = args.members / READS_PER_SECOND
    print(f"  a round at the client's default {READS_PER_SECOND:g} reads/s is paced over {paced:.0f} s")

    async with LetterboxdFeedDouble() as double:
        fill(double, "typical", 50, rng)
        feed, _etag = double.member("typical").body(double.base_url)
        print(f"\na typical feed: 50 entries, {len(feed) / 1024:.0f} KiB")

        started = time.process_time()
        for _ in range(args.reads):
            parsed = parse_feed(feed, "application/rss+xml; charset=utf-8")
        parse_cpu = time.process_time() - started
        assert len(parsed.entries) == 50
        print(f"  parse alone:               {cpu_ms(args.reads, parse_cpu)} CPU per feed")

        client = LetterboxdFeed(double.base_url, rate=1e6, burst=1000)
        try:
            walls: list[float] = []
            started = time.process_time()
            for _ in range(args.reads):
                began = time.perf_counter()
                full = await client.read("typical")
                walls.append(time.perf_counter() - began)
            full_cpu = time.process_time() - started
            assert full.status is FeedStatus.OK
            print(
                f"  read, 200 (HTTP + parse):  {cpu_ms(args.reads, full_cpu)} CPU, "
                f"p50 {statistics.median(walls) * 1000:.1f} ms wall"
            )
            walls.clear()
            started = time.process_time()
            for _ in range(args.reads):
                began = time.perf_counter()
                same = await client.read("typical", etag=full.etag, last_modified=full.last_modified)
                walls.append(time.perf_counter() - began)
            same_cpu = time.process_time() - started
            assert same.status is FeedStatus.NOT_MODIFIED
            print(
                f"  read, 304 (conditional):   {cpu_ms(args.reads, same_cpu)} CPU, "
                f"p50 {statistics.median(walls) * 1000:.1f} ms wall"
            )
        finally:
            await client.close()

        full_bytes = len(feed) + 300  # the feed and its headers
        not_modified_bytes = 300  # a 304 carries headers only
        changed = args.changed
        hourly = per_hour * (changed * full_bytes + (1 - changed) * not_modified_bytes)
        print(
            f"  bytes: {hourly / 1024 / 1024:.1f} MiB an hour with {changed:.0%} of the feeds changed "
            f"({per_hour * full_bytes / 1024 / 1024:.0f} MiB without conditional requests)"
        )

        # A round over every member, each with a full feed (the double renders each once per change).
        for number in range(args.members):
            fill(double, f"m{number}", args.entries, rng)
        client = LetterboxdFeed(double.base_url, rate=1e6, burst=1000)
        try:
            first = await asyncio.gather(*(client.read(f"m{n}") for n in range(args.members)))
            validators = {n: (result.etag, result.last_modified) for n, result in enumerate(first)}
            for label, share in (("unchanged (304)", 0.0), (f"{changed:.0%} changed", changed)):
                for number in rng.sample(range(args.members), int(args.members * share)):
                    double.add_entry(f"m{number}", "Heat", 1995, tmdb_id=949, rating=4.0)
                began, cpu = time.perf_counter(), time.process_time()
                results = await asyncio.gather(
                    *(
                        client.read(f"m{n}", etag=validators[n][0], last_modified=validators[n][1])
                        for n in range(args.members)
                    )
                )
                wall, cpu = time.perf_counter() - began, time.process_time() - cpu
                statuses = Counter(result.status.value for result in results)
                print(
                    f"  round of {args.members}, {label}: {wall:.2f} s wall, {cpu:.2f} s CPU "
                    f"({cpu / args.members * 1000:.2f} ms a member) {dict(statuses)}"
                )
        finally:
            await client.close()

        double.add_member("hoarder")
        double.fill_to("hoarder", 5 * 1024 * 1024)
        big, _etag = double.member("hoarder").body(double.base_url)
        started = time.process_time()
        parsed = parse_feed(big, "application/rss+xml; charset=utf-8")
        print(
            f"\na 5 MB feed ({len(big) / 1024 / 1024:.1f} MiB, {len(parsed.entries)} entries): "
            f"{time.process_time() - started:.2f} s CPU to parse (in a worker thread)"
        )


if __name__ == "__main__":
    asyncio.run(main())
