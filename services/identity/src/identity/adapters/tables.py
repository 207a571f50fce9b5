"""The identity schema: the event store, its outbox, and the read models.

The events are the truth. Every other table but the outbox lease is a read
model written in the same transaction as the events it reflects, and
``identity rebuild-read-models`` can derive it again from the events alone.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import DateTime, TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


# SQLite only gives an autoincrementing INTEGER PRIMARY KEY, never BIGINT.
Sequence = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    # NULL for an event that belongs to no stream (a refusal about no account).
    Column("stream_id", String(300)),
    Column("stream_version", Integer),
    Column("event_type", String(64), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("payload", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    UniqueConstraint("stream_id", "stream_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("message_key", LargeBinary, nullable=False),
    Column("message_value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime()),
    Index(
        "ix_outbox_pending",
        "seq",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
    Index("ix_outbox_published_at", "published_at"),
)

outbox_lease = Table(
    "outbox_lease",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(64)),
    Column("expires_at", UtcDateTime()),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("canonical_email", String(320), nullable=False, unique=True),
    Column("email_verified", Boolean, nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
    Column("token_generation", Integer, nullable=False),
)

single_use_tokens = Table(
    "single_use_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_single_use_tokens_user", "user_id", "kind"),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

lockouts = Table(
    "lockouts",
    metadata,
    Column("canonical_email", String(320), primary_key=True),
    Column("user_id", String(36)),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UtcDateTime()),
    Column("last_failure_at", UtcDateTime()),
)

READ_MODELS = (users, single_use_tokens, revoked_tokens, lockouts)
"""The tables ``rebuild-read-models`` empties and derives again, in this order."""

RELAY_LEASE = "relay"
