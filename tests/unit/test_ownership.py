"""The ownership registry (bot/db/ownership.py) classifies every table of the real schema, on both backends: a new
table that nobody classified fails here, as does a member-id column that nobody declared."""

from __future__ import annotations

import re

from bot.db import ownership
from bot.db.database import Database

# Column names that hold a member's id in this schema; a new one must be declared in the registry's ``members``.
MEMBER_COLUMN = re.compile(r"^(user_id|member_id|host_id|\w+_by|\w+_user)$")
NOT_MEMBERS = {("timers", "claimed_by")}  # the process that claimed the timer


async def schema(db: Database) -> dict[str, dict[str, frozenset[str]]]:
    """Each table's columns and the tables its foreign keys point at."""
    tables: dict[str, dict[str, frozenset[str]]] = {}
    for (name,) in await db.fetchall(db.dialect.user_tables()):
        columns = frozenset(row[0] for row in await db.fetchall(db.dialect.column_names(), (name,)))
        parents = frozenset(row[0] for row in await db.fetchall(db.dialect.referenced_tables(), (name,))) - {name}
        tables[name] = {"columns": columns, "parents": parents}
    return tables


async def test_every_table_is_classified_exactly_once(db: Database) -> None:
    tables = set(await schema(db))
    owned = [each.table for each in ownership.OWNED]
    assert len(owned) == len(set(owned)), "a table is listed twice in OWNED"
    assert not set(owned) & ownership.SHARED
    assert tables - set(owned) - ownership.SHARED == set(), "tables classified nowhere in bot/db/ownership.py"
    assert (set(owned) | ownership.SHARED) - tables == set(), "the registry names tables the schema lacks"


async def test_declared_columns_exist_and_every_member_column_is_declared(db: Database) -> None:
    tables = await schema(db)
    for each in ownership.OWNED:
        columns = tables[each.table]["columns"]
        declared = set(each.members) | set(each.member_lists)
        assert declared <= columns, f"{each.table}: no column {declared - columns}"
        if each.guild is not None:
            assert each.guild in columns, f"{each.table}: no guild column {each.guild}"
        else:
            assert each.parent is not None and each.parent.column in columns
            assert ownership.by_name(each.parent.table).guild is not None
        undeclared = {c for c in columns if MEMBER_COLUMN.match(c) and (each.table, c) not in NOT_MEMBERS} - declared
        assert undeclared == set(), f"{each.table}: member columns not in the registry: {undeclared}"
    for name in ownership.SHARED:
        assert {c for c in tables[name]["columns"] if MEMBER_COLUMN.match(c)} == set(), name


async def test_children_come_before_their_parents(db: Database) -> None:
    tables = await schema(db)
    position = {each.table: index for index, each in enumerate(ownership.OWNED)}
    late = [
        f"{child} after {parent}"
        for child in position
        for parent in tables[child]["parents"]
        if parent in position and position[parent] < position[child]
    ]
    assert late == []


def test_a_table_reaches_its_server_one_way() -> None:
    try:
        ownership.Owned("x", guild=None)
    except ValueError as error:
        assert "exactly one" in str(error)
    else:  # pragma: no cover - the assertion below fails
        raise AssertionError("a table without guild column nor parent was accepted")
    assert ownership.by_name("ballots").guild_condition("b").startswith("b.poll_id IN (SELECT id FROM polls")
    assert [c for _, c in ownership.member_tables(ownership.Role.BALLOT)] == ["user_id"]
