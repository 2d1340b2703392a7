"""``filmclub db copy``: move a club between SQLite and PostgreSQL (either way), with nothing lost.

Both databases are migrated to the latest schema first, so they have the same tables and columns (the two backends'
migrations are kept equal by tests/unit/test_schema_parity.py), and the copy checks that they do. The target must be
empty: a row in any table refuses the copy, naming the table, so a copy never mixes two clubs.

Every table is copied in ONE transaction on the target (one "table set" holding all tables): a copy that fails
half-way leaves the target empty, so it can simply be run again. Tables go parents first, in the order their foreign
keys give; each is read whole from the source, so the copy holds one table in memory at a time. The tables that
triggers fill while their sources are copied (:data:`TRIGGER_FILLED`) go last, and their trigger-made rows are
replaced by the source's: the target gets the source's totals and version counters exactly. PostgreSQL's identity
sequences are then moved past the copied ids, so the next row gets a new id.

Finally every table is read again on both sides and compared: row counts, and a SHA-256 of its rows sorted by primary
key in Python (the backends sort text differently) and written as JSON, so equal rows give equal digests whichever
backend holds them. Stop the bot while copying: rows it writes meanwhile would show as a mismatch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bot.db.database import Database

# Tables written by triggers on other tables (reviews, watchlists, collections, ...), never by the code itself.
TRIGGER_FILLED = ("review_film_totals", "review_member_totals", "review_guild_totals", "recommend_versions")


class CopyRefused(Exception):
    """The copy did not start; the message says why."""


@dataclass(frozen=True)
class TableCheck:
    """One table after the copy: its row count and digest on each side."""

    table: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    tables: tuple[TableCheck, ...]

    @property
    def matches(self) -> bool:
        return all(check.matches for check in self.tables)

    def describe(self) -> str:
        """A table of every table's counts and checksums, and a last line that says whether all match."""
        width = max(len("table"), *(len(check.table) for check in self.tables))
        lines = [f"{'table':<{width}}  {'source rows':>11}  {'target rows':>11}  sha256 (first 12)"]
        for check in self.tables:
            same = check.source_digest == check.target_digest
            verdict = check.source_digest[:12] + ("  same" if same else f" != {check.target_digest[:12]}  DIFFERENT")
            lines.append(f"{check.table:<{width}}  {check.source_rows:>11,}  {check.target_rows:>11,}  {verdict}")
        rows = sum(check.target_rows for check in self.tables)
        lines.append(f"copied {rows:,} rows in {len(self.tables)} tables from {self.source} to {self.target}")
        differing = [check.table for check in self.tables if not check.matches]
        lines.append(
            f"MISMATCH in {len(differing)} tables: {', '.join(differing)}" if differing else "every table matches"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Table:
    """A table as both backends must agree on it: columns in order (PostgreSQL's names), key, parent tables."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    parents: frozenset[str]


async def _tables(db: Database) -> dict[str, _Table]:
    dialect = db.dialect
    tables: dict[str, _Table] = {}
    for (name,) in await db.fetchall(dialect.user_tables()):
        columns = [row[0] for row in await db.fetchall(dialect.column_names(), (name,))]
        key = [row[0] for row in await db.fetchall(dialect.primary_key_columns(), (name,))]
        parents = frozenset(row[0] for row in await db.fetchall(dialect.referenced_tables(), (name,))) - {name}
        tables[name] = _Table(name, tuple(columns), tuple(key), parents)
    return tables


def _copy_order(tables: dict[str, _Table]) -> list[_Table]:
    """Parents before children (ties by name), then the trigger-filled tables."""
    ordered: list[_Table] = []
    placed: set[str] = set()
    waiting = sorted(name for name in tables if name not in TRIGGER_FILLED)
    while waiting:
        ready = [name for name in waiting if tables[name].parents <= placed]
        if not ready:
            raise CopyRefused(f"the foreign keys of {', '.join(waiting)} form a cycle; cannot order the copy")
        for name in ready:
            ordered.append(tables[name])
            placed.add(name)
        waiting = [name for name in waiting if name not in placed]
    return ordered + [tables[name] for name in TRIGGER_FILLED if name in tables]


def _select(table: _Table) -> str:
    columns = ", ".join(f'"{column}"' for column in table.columns)
    return f"SELECT {columns} FROM {table.name}"  # noqa: S608 - names from the database's own catalog


def _insert(table: _Table) -> str:
    columns = ", ".join(f'"{column}"' for column in table.columns)
    values = ", ".join("?" * len(table.columns))
    return f"INSERT INTO {table.name} ({columns}) VALUES ({values})"  # noqa: S608 - names from the catalog


async def _read(db: Database, table: _Table) -> list[tuple[Any, ...]]:
    """Every row of the table, sorted by primary key (in Python: the same order whichever backend it came from)."""
    rows = [tuple(row) for row in await db.fetchall(_select(table))]
    positions = [table.columns.index(column) for column in table.key] or range(len(table.columns))
    return sorted(rows, key=lambda row: [(row[i] is None, 0 if row[i] is None else row[i]) for i in positions])


def _digest(rows: list[tuple[Any, ...]]) -> str:
    """SHA-256 over the rows, one JSON array per row: ints, floats, text and null print alike from both backends."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


async def _check_target_empty(target: Database, tables: dict[str, _Table]) -> None:
    for name in sorted(tables):
        if await target.fetchval(f"SELECT 1 FROM {name} LIMIT 1") is not None:  # noqa: S608 - catalog name
            raise CopyRefused(
                f"the target {target.description} is not empty (table {name} has rows); copy into a new, empty database"
            )


async def copy_database(source: Database, target: Database) -> CopyReport:
    """Copy every row of ``source`` into the empty ``target`` (see the module's docstring), then compare them."""
    await source.migrate()
    await target.migrate()
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise CopyRefused(f"schema versions differ after migrating: source {source_version}, target {target_version}")
    tables, target_tables = await _tables(source), await _tables(target)
    differing = sorted(
        name
        for name in set(tables) | set(target_tables)
        if name not in tables or name not in target_tables or tables[name] != target_tables[name]
    )
    if differing:
        raise CopyRefused(f"the two schemas differ in tables {', '.join(differing)}; is one database newer?")
    await _check_target_empty(target, tables)

    order = _copy_order(tables)
    async with target.transaction() as tx:
        for table in order:
            rows = await _read(source, table)
            if table.name in TRIGGER_FILLED:
                await tx.execute(f"DELETE FROM {table.name}")  # noqa: S608 - the rows the copy's triggers wrote
            await tx.executemany(_insert(table), rows)
        identity_columns = target.dialect.identity_columns()
        for table_name, column in await tx.fetchall(identity_columns) if identity_columns else []:
            await tx.fetchval(target.dialect.reset_identity(table_name, column))

    checks = []
    for table in sorted(order, key=lambda t: t.name):
        source_rows, target_rows = await _read(source, table), await _read(target, table)
        checks.append(
            TableCheck(table.name, len(source_rows), len(target_rows), _digest(source_rows), _digest(target_rows))
        )
    return CopyReport(source.description, target.description, tuple(checks))
