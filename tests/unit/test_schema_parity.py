"""Both backends' migrations give the same schema: tables, columns in order, types, nullability, defaults, keys,
indexes and foreign keys; and their triggers keep the same totals.

The SQLite migrations are applied to a temporary file, the PostgreSQL ones to a fresh database, each file as the
backends apply them (in order, one transaction each); then both schemas are read back from the databases' own
catalogs and compared.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.postgres_server import create_database, drop_database, unique_name

MIGRATIONS = Path(__file__).resolve().parents[2] / "bot" / "db" / "migrations"

# SQLite's declared types and what each becomes on PostgreSQL (docs: /work/notes/db-design.md, "Types").
TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision"}
# PostgreSQL's codes for a foreign key's ON DELETE / ON UPDATE action, as SQLite spells them.
ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the PostgreSQL type name
    not_null: bool
    has_default: bool


@dataclass(frozen=True)
class Index:
    columns: tuple[str, ...]
    unique: bool
    partial: bool


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    on_delete: str
    on_update: str


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    # Every unique key (primary key, UNIQUE constraint, unique index) and every index created by name, keyed by
    # its index name; constraints' own indexes are named by each database, so they are keyed by their columns.
    indexes: dict[str, Index]
    foreign_keys: frozenset[ForeignKey]


def migration_files(dialect: str) -> list[Path]:
    return sorted((MIGRATIONS / dialect).glob("[0-9][0-9][0-9][0-9]_*.sql"))


def test_both_backends_have_the_same_migration_files() -> None:
    sqlite_names = [path.name for path in migration_files("sqlite")]
    assert sqlite_names, f"no SQLite migrations in {MIGRATIONS / 'sqlite'}"
    assert [path.name for path in migration_files("postgres")] == sqlite_names


# -- SQLite ----------------------------------------------------------------------------------------------------------


def _constraint_key(columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(columns) + ")"


def sqlite_schema(path: Path) -> dict[str, Table]:
    conn = sqlite3.connect(path)
    try:
        for migration in migration_files("sqlite"):
            conn.executescript(f"BEGIN;\n{migration.read_text(encoding='utf-8')}\n;COMMIT;")
        names = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        return {name: _sqlite_table(conn, name) for (name,) in names}
    finally:
        conn.close()


def _sqlite_table(conn: sqlite3.Connection, name: str) -> Table:
    info = conn.execute(f"PRAGMA table_info({name})").fetchall()  # cid, name, type, notnull, default, pk
    columns = [
        Column(col, TYPES[kind.upper()], bool(not_null or pk), default is not None)
        for _, col, kind, not_null, default, pk in info
    ]
    primary_key = tuple(col for _, col, *_, pk in sorted(info, key=lambda row: row[5]) if pk)
    indexes = {_constraint_key(primary_key): Index(primary_key, unique=True, partial=False)} if primary_key else {}
    for _, index_name, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})").fetchall():
        index_columns = tuple(row[2] for row in conn.execute(f"PRAGMA index_info({index_name})").fetchall())
        key = index_name if origin == "c" else _constraint_key(index_columns)
        indexes[key] = Index(index_columns, unique=bool(unique), partial=bool(partial))
    references: dict[int, list[tuple[str, str, str, str, str]]] = {}
    # id, seq, parent, column, parent column, on update, on delete, match
    for key_id, _, parent, column, parent_column, on_update, on_delete, _ in conn.execute(
        f"PRAGMA foreign_key_list({name})"
    ).fetchall():
        references.setdefault(key_id, []).append((column, parent, parent_column, on_delete, on_update))
    foreign_keys = frozenset(
        ForeignKey(tuple(r[0] for r in rows), rows[0][1], tuple(r[2] for r in rows), rows[0][3], rows[0][4])
        for rows in references.values()
    )
    return Table(tuple(columns), indexes, foreign_keys)


# -- PostgreSQL ------------------------------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_postgres(server_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a new, empty database on the tests' PostgreSQL server, dropped afterwards."""
    name = unique_name("filmclub_parity")
    url = await create_database(server_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await drop_database(server_url, name)


COLUMNS = """
SELECT column_name, data_type, is_nullable = 'NO' AS not_null, column_default IS NOT NULL AS has_default
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
"""
INDEXES = """
SELECT index_class.relname AS name, ix.indisunique AS unique, ix.indpred IS NOT NULL AS partial,
       EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = ix.indexrelid) AS backs_constraint,
       ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
FROM pg_index ix
JOIN pg_class index_class ON index_class.oid = ix.indexrelid
WHERE ix.indrelid = CAST($1 AS regclass)
"""
FOREIGN_KEYS = """
SELECT ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
       CAST(CAST(c.confrelid AS regclass) AS text) AS parent,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n) AS parent_columns,
       CAST(c.confdeltype AS text) AS on_delete, CAST(c.confupdtype AS text) AS on_update
FROM pg_constraint c WHERE c.conrelid = CAST($1 AS regclass) AND c.contype = 'f'
"""


async def postgres_schema(conn: asyncpg.Connection) -> dict[str, Table]:
    for migration in migration_files("postgres"):
        async with conn.transaction():
            await conn.execute(migration.read_text(encoding="utf-8"))
    names = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
    )
    schema: dict[str, Table] = {}
    for (name,) in names:
        columns = tuple(Column(*row) for row in await conn.fetch(COLUMNS, name))
        indexes = {}
        for row in await conn.fetch(INDEXES, name):
            columns_of_index = tuple(row["columns"])
            key = _constraint_key(columns_of_index) if row["backs_constraint"] else row["name"]
            indexes[key] = Index(columns_of_index, unique=row["unique"], partial=row["partial"])
        foreign_keys = frozenset(
            ForeignKey(
                tuple(row["columns"]),
                row["parent"],
                tuple(row["parent_columns"]),
                ACTIONS[row["on_delete"]],
                ACTIONS[row["on_update"]],
            )
            for row in await conn.fetch(FOREIGN_KEYS, name)
        )
        schema[name] = Table(columns, indexes, foreign_keys)
    return schema


# Writes that fire every trigger: reviews added, re-rated, re-saved with the same rating and removed, watching and
# collections changed. Literal values, so the same text runs on both.
TRIGGER_WRITES = [
    "INSERT INTO films (id, slug, title, year, runtime, kind, blurb, source_file, content_hash) VALUES "
    "(1, 'a', 'A', 2000, 90, 'film', '', 'f', 'h'), (2, 'b', 'B', 2001, 95, 'film', '', 'f', 'h')",
    "INSERT INTO reviews (guild_id, user_id, film_id, rating, created_at, updated_at) VALUES "
    "(10, 100, 1, 8, 't', 't'), (10, 101, 1, 6, 't', 't'), (10, 100, 2, 10, 't', 't'), (20, 100, 1, 3, 't', 't')",
    "UPDATE reviews SET rating = 4 WHERE guild_id = 10 AND user_id = 101",
    "UPDATE reviews SET rating = rating WHERE guild_id = 10 AND user_id = 100 AND film_id = 2",
    "DELETE FROM reviews WHERE guild_id = 10 AND user_id = 100 AND film_id = 2",
    "INSERT INTO watchlist (guild_id, user_id, film_id, added_at) VALUES (30, 1, 1, 't'), (30, 2, 2, 't')",
    "DELETE FROM watchlist WHERE user_id = 2",
    "INSERT INTO member_watched (guild_id, user_id, film_id, source, watched_at) VALUES (10, 1, 1, 'manual', 't')",
    "INSERT INTO club_watched (guild_id, film_id, source, watched_at) VALUES (40, 2, 'screening', 't')",
    "INSERT INTO collections (id, guild_id, slug, title, description, created_by, created_at) VALUES "
    "(1, 50, 'noir', 'Noir', '', 1, 't')",
    "UPDATE collections SET title = 'Friday Noir'",
    "INSERT INTO collection_films (collection_id, film_id, position, added_by, added_at) VALUES "
    "(1, 1, 1, 1, 't'), (1, 2, 2, 1, 't')",
    "DELETE FROM collection_films WHERE film_id = 2",
]
DERIVED = {
    "review_film_totals": "guild_id, film_id",
    "review_member_totals": "guild_id, user_id",
    "review_guild_totals": "guild_id",
    "recommend_versions": "guild_id",
}


async def test_triggers_keep_the_same_totals_on_both(tmp_path: Path, postgres_url: str) -> None:
    conn = sqlite3.connect(tmp_path / "triggers.db")
    try:
        for migration in migration_files("sqlite"):
            conn.executescript(migration.read_text(encoding="utf-8"))
        for statement in TRIGGER_WRITES:
            conn.execute(statement)
        expected = {t: conn.execute(f"SELECT * FROM {t} ORDER BY {key}").fetchall() for t, key in DERIVED.items()}
    finally:
        conn.close()
    async with fresh_postgres(postgres_url) as pg:
        for migration in migration_files("postgres"):
            await pg.execute(migration.read_text(encoding="utf-8"))
        for statement in TRIGGER_WRITES:
            await pg.execute(statement)
        actual = {
            t: [tuple(r) for r in await pg.fetch(f"SELECT * FROM {t} ORDER BY {key}")] for t, key in DERIVED.items()
        }

    assert expected["review_guild_totals"] == [(10, 1, 2, 2, 12), (20, 1, 1, 1, 3)]
    assert expected["recommend_versions"] == [(10, 6, 1, 0), (20, 1, 0, 0), (30, 0, 3, 0), (40, 0, 1, 0), (50, 0, 0, 5)]
    assert actual == expected


async def test_postgres_migrations_give_the_sqlite_schema(tmp_path: Path, postgres_url: str) -> None:
    expected = sqlite_schema(tmp_path / "parity.db")
    async with fresh_postgres(postgres_url) as conn:
        actual = await postgres_schema(conn)

    assert sorted(actual) == sorted(expected)
    for name, table in expected.items():
        assert actual[name].columns == table.columns, f"columns of {name}"
        assert actual[name].indexes == table.indexes, f"indexes of {name}"
        assert actual[name].foreign_keys == table.foreign_keys, f"foreign keys of {name}"
