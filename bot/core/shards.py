"""Which shard a server belongs to, and the shards one process runs.

Discord splits a bot's servers over its gateway connections ("shards") by server id, and every part of the bot that
asks "is this server mine?" must answer exactly as Discord routes: :func:`shard_of` is that one definition (its SQL
twin, for queries that filter by shard, is :func:`bot.db.shards.on_shards`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Longer SHARD_IDS text than this is refused: ranges (``0-511``) say any real set in a few characters, so a longer
#: value is a mistake (a generated list pasted whole), not a configuration worth parsing.
MAX_SHARD_IDS_TEXT = 1_000

_ONE = re.compile(r"\d+")
_RANGE = re.compile(r"(\d+)\s*-\s*(\d+)")


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a server's events to: ``(guild_id >> 22) % shard_count`` (Discord's sharding formula;
    the top 42 bits of a snowflake are its creation time, so servers spread evenly)."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class ShardSet:
    """The shards this process runs (``ids``, sorted) out of the bot's ``count``."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        check_shard_ids(self.ids, self.count)

    @classmethod
    def every(cls, count: int = 1) -> ShardSet:
        """All ``count`` shards in one process (the default, and what SQLite requires)."""
        return cls(count, tuple(range(count)))

    @property
    def is_every_shard(self) -> bool:
        return len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        """Whether this process runs the shard of ``guild_id`` (and so answers and writes for that server)."""
        return shard_of(guild_id, self.count) in self.ids

    def describe(self) -> str:
        """For log lines: "shard 0 of 1", "shards 0-3 of 8", "shards 0, 2, 5-7 of 8"."""
        noun = "shard" if len(self.ids) == 1 else "shards"
        return f"{noun} {format_shard_ids(self.ids)} of {self.count}"


def check_shard_ids(ids: Iterable[int], count: int) -> tuple[int, ...]:
    """``ids`` sorted, or ValueError naming the first problem: none at all, out of ``0..count-1``, or repeated."""
    if count < 1:
        raise ValueError(f"the shard count must be at least 1, not {count}")
    seen: set[int] = set()
    for shard in ids:
        if not 0 <= shard < count:
            raise ValueError(f"shard {shard} is out of range: with SHARD_COUNT={count} the shards are 0 to {count - 1}")
        if shard in seen:
            raise ValueError(f"shard {shard} is listed twice")
        seen.add(shard)
    if not seen:
        raise ValueError("no shard given")
    return tuple(sorted(seen))


def parse_shard_ids(text: str, count: int) -> tuple[int, ...]:
    """Read SHARD_IDS: shard ids and inclusive ranges separated by commas (``0-3``, ``0,2,5``, ``4-7,9``), every one
    of them below ``count``; sorted. Raises ValueError with a message an operator can act on."""
    if len(text) > MAX_SHARD_IDS_TEXT:
        too_long = f"the list is {len(text)} characters long (at most {MAX_SHARD_IDS_TEXT})"
        raise ValueError(f"{too_long}: write ranges like 0-63")
    ids: list[int] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise ValueError(f"{text.strip()!r} has an empty item: write ids and ranges separated by single commas")
        if _ONE.fullmatch(item):
            ids.append(int(item))
            continue
        bounds = _RANGE.fullmatch(item)
        if bounds is None:
            raise ValueError(f"{item!r} is not a shard id or a range like 0-3")
        first, last = int(bounds[1]), int(bounds[2])
        if first > last:
            raise ValueError(f"the range {item!r} runs backwards: write {last}-{first}")
        if last >= count:  # checked before expanding, so 0-999999999 is refused rather than built
            raise ValueError(f"shard {last} is out of range: with SHARD_COUNT={count} the shards are 0 to {count - 1}")
        ids.extend(range(first, last + 1))
    return check_shard_ids(ids, count)


def format_shard_ids(ids: Iterable[int]) -> str:
    """The inverse of :func:`parse_shard_ids` for sorted ids, with runs as ranges: ``0-3, 5``."""
    runs: list[list[int]] = []
    for shard in ids:
        if runs and shard == runs[-1][1] + 1:
            runs[-1][1] = shard
        else:
            runs.append([shard, shard])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)
