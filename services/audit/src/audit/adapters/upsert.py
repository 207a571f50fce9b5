"""``INSERT ... ON CONFLICT`` for the two back-ends the store runs on."""

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

Upsert = postgresql.Insert | sqlite.Insert


def upsert_into(dialect_name: str, table: Table) -> Upsert:
    """An insert that supports ``on_conflict_do_*`` on this dialect."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the audit store does not support {dialect_name}")
