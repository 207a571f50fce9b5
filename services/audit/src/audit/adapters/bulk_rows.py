"""Many rows at once in the driver's own terms: the projection's hot path.

SQLAlchemy processes every bound value in Python, which costs more than the
database's own work when a consumer writes thousands of rows a second. Here
each column gets one converter, chosen once per back-end, and rows go through
``exec_driver_sql`` (so they stay in the connection's transaction): SQLite
takes them as one ``executemany``, PostgreSQL as one statement over
``unnest`` of one array per column. Values are stored exactly as SQLAlchemy
stores them, so every other query reads them back as usual.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Boolean, Float, Integer, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.tables import UtcDateTime

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _json(value: Any) -> Any:
    return json.dumps(value)


def _sqlite_time(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC:
    # "2030-06-01 12:00:00.000000" (the "+00:00" of an aware time cut off).
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_uuid(value: UUID | None) -> str | None:
    return None if value is None else value.hex


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _read_sqlite_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _read_sqlite_uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(hex=value)


def _read_sqlite_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _read_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class BulkRows:
    """Bulk inserts, upserts and keyed reads on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"

    async def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        skip_conflicts: bool = False,
    ) -> None:
        """Insert; with ``skip_conflicts`` a row whose key exists is left out."""
        sql = self._insert_sql(table, columns)
        if skip_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        await self._write(sql, table, columns, rows)

    async def upsert(
        self,
        table: Table,
        key: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        """Insert, or replace every column but ``key`` of the existing row."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        conflict = f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
        await self._write(
            self._insert_sql(table, columns) + conflict, table, columns, rows
        )

    async def select_in(
        self,
        table: Table,
        columns: Sequence[str],
        keys: dict[str, Sequence[Any]],
    ) -> list[tuple[Any, ...]]:
        """Rows whose ``column`` is one of its values, for any of ``keys``."""
        conditions: list[str] = []
        params: list[Any] = []
        for column, values in keys.items():
            if not values:
                continue
            write = self._writers(table, [column])[0]
            if self._sqlite:
                conditions.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params.extend(write(v) for v in values)
            else:
                # One array parameter: one prepared statement whatever the count.
                kind = _pg_type(table.c[column].type)
                conditions.append(f"{column} = ANY(${len(params) + 1}::{kind}[])")
                params.append([write(v) for v in values])
        if not conditions:
            return []
        sql = (
            f"SELECT {', '.join(columns)} FROM {table.name} "  # noqa: S608 - names from our tables
            f"WHERE {' OR '.join(conditions)}"
        )
        result = await self._conn.exec_driver_sql(sql, tuple(params))
        readers = self._readers(table, columns)
        return [
            tuple(read(value) for read, value in zip(readers, row, strict=True))
            for row in result.fetchall()
        ]

    async def _write(
        self,
        sql: str,
        table: Table,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        converted = [
            (i, write)
            for i, write in enumerate(self._writers(table, columns))
            if write is not _same
        ]
        params = []
        for row in rows:
            values = list(row)
            for i, write in converted:
                values[i] = write(values[i])
            params.append(values)
        if not params:
            return
        if self._sqlite:
            await self._conn.exec_driver_sql(sql, list(map(tuple, params)))
        else:
            columns_of_rows = zip(*params, strict=True)
            await self._conn.exec_driver_sql(sql, tuple(map(list, columns_of_rows)))

    def _insert_sql(self, table: Table, columns: Sequence[str]) -> str:
        names = ", ".join(columns)
        if self._sqlite:
            marks = ", ".join("?" for _ in columns)
            return f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
        arrays = ", ".join(
            f"${i + 1}::{_pg_type(table.c[name].type)}[]"
            for i, name in enumerate(columns)
        )
        return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608

    def _writers(self, table: Table, columns: Sequence[str]) -> list[Convert]:
        return [self._writer(table.c[name].type) for name in columns]

    def _readers(self, table: Table, columns: Sequence[str]) -> list[Convert]:
        return [self._reader(table.c[name].type) for name in columns]

    def _writer(self, kind: Any) -> Convert:
        if isinstance(kind, JSON):
            return _json
        if not self._sqlite:
            return _same
        if isinstance(kind, UtcDateTime):
            return _sqlite_time
        if isinstance(kind, Uuid):
            return _sqlite_uuid
        if isinstance(kind, Boolean):
            return _sqlite_bool
        return _same

    def _reader(self, kind: Any) -> Convert:
        if isinstance(kind, JSON):
            return _read_json
        if not self._sqlite:
            return _same
        if isinstance(kind, UtcDateTime):
            return _read_sqlite_time
        if isinstance(kind, Uuid):
            return _read_sqlite_uuid
        if isinstance(kind, Boolean):
            return _read_sqlite_bool
        return _same


def _pg_type(kind: Any) -> str:
    """The PostgreSQL type of a column, for its array parameter."""
    for python_type, name in (
        (JSON, "json"),
        (UtcDateTime, "timestamptz"),
        (Uuid, "uuid"),
        (Boolean, "boolean"),
        (Integer, "integer"),
        (Float, "double precision"),
    ):
        if isinstance(kind, python_type):
            return name
    return "text"
