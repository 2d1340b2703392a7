"""Leavers benchmark: what the start-up pass over one server costs (bot.core.leavers), with the host rota and
Letterboxd registered as the cogs register them, on a SQLite file.

``--members`` members are followed (half on the host rota, every one linked to Letterboxd, so half are followed by
both features), none of them in the bot's cache; ``--gone`` of them have left. Figures:

- the pass without pacing: wall time and CPU in this process (what the features' database work costs: reading who
  is followed, and for each leaver leaving the rota and unlinking, each in its own transaction), per member;
- the pass as the bot runs it: Discord lookups, one per member, paced at ``LOOKUP_INTERVAL`` (computed: the lookups
  are spread out on purpose, so their wall time is the pacing, not the work).

    python bench/leavers.py [--members 1000] [--gone 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core import hosts  # noqa: E402
from bot.core import letterboxd_follow as follow  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.leavers import LOOKUP_INTERVAL, Leavers, Pacer  # noqa: E402
from bot.core.timers import TimerService  # noqa: E402
from bot.db.database import open_database  # noqa: E402

GUILD = 1


async def run(path: str, members: int, gone_share: float) -> None:
    db = await open_database(path)
    await db.migrate()
    clock = SystemClock()
    timers = TimerService(db, clock)
    try:
        ids = list(range(1000, 1000 + members))
        for user_id in ids:
            if user_id % 2 == 0:
                await hosts.join(db, clock, GUILD, user_id)
            await follow.link_account(db, clock, timers, GUILD, user_id, f"member{user_id}")
        gone = set(random.Random(1).sample(ids, int(members * gone_share)))

        leavers = Leavers(Pacer(0))

        async def volunteers(guild_id: int) -> list[int]:
            return await hosts.volunteer_ids(db, guild_id)

        async def off_the_rota(guild_id: int, user_id: int) -> bool:
            return await hosts.drop_volunteer(db, clock, guild_id, user_id) is not None

        async def linked(guild_id: int) -> list[int]:
            return await follow.linked_members(db, guild_id)

        async def unlinked(guild_id: int, user_id: int) -> bool:
            return await follow.member_left(db, timers, guild_id, user_id) is not None

        leavers.register("host rota", volunteers, off_the_rota)
        leavers.register("Letterboxd", linked, unlinked)

        async def lookup(user_id: int) -> bool | None:
            return user_id not in gone

        wall, cpu = time.perf_counter(), time.process_time()
        done = await leavers.sweep(GUILD, cached=lambda _user: False, lookup=lookup)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert done is not None
        print(f"followed members: {done.followed:,} ({members // 2:,} by both features); left: {len(done.gone):,}")
        print(f"pass without pacing: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")
        per_member, per_leaver = wall / done.followed * 1000, wall / max(1, len(gone)) * 1000
        print(f"  per member followed: {per_member:.2f} ms; per leaver: {per_leaver:.1f} ms")
        paced = done.looked_up * LOOKUP_INTERVAL
        print(
            f"as the bot runs it: {done.looked_up:,} Discord lookups, one every {LOOKUP_INTERVAL} s: "
            f"{paced:.0f} s ({paced / 60:.1f} min) in the background, {1 / LOOKUP_INTERVAL:.0f} requests a second"
        )
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--gone", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(str(Path(tmp) / "club.db"), args.members, args.gone))


if __name__ == "__main__":
    main()
