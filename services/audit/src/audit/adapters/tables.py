"""The audit store: plain SQL tables analysts can query (docs/audit.md)."""

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both back-ends.

    PostgreSQL stores ``timestamptz``; SQLite stores fixed-width UTC text, so
    comparisons and ordering stay chronological there too.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


metadata = MetaData()

events = Table(
    "audit_events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("user_id", Uuid),
    Column("email", String(320)),
    Column("success", Boolean, nullable=False),
    Column("reason", String(64)),
    Column("ip", String(64)),
    Column("user_agent", String(512)),
    Column("duration_ms", Float),
    Column("stream_version", Integer),
    Column("data", JSON, nullable=False),
    Column("trace_id", String(32)),
    Column("span_id", String(16)),
)
Index("ix_audit_events_occurred", events.c.occurred_at, events.c.event_id)
Index("ix_audit_events_type_occurred", events.c.event_type, events.c.occurred_at)
Index("ix_audit_events_user_occurred", events.c.user_id, events.c.occurred_at)
Index(
    "ix_audit_events_email_occurred", func.lower(events.c.email), events.c.occurred_at
)
Index("ix_audit_events_ip_occurred", events.c.ip, events.c.occurred_at)
Index("ix_audit_events_trace", events.c.trace_id)

minute_counts = Table(
    "audit_minute_counts",
    metadata,
    Column("bucket_start", UtcDateTime, primary_key=True),
    Column("event_type", String(64), primary_key=True),
    Column("success", Boolean, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("duration_ms_sum", Float, nullable=False),
    Column("duration_count", Integer, nullable=False),
)
Index(
    "ix_audit_minute_counts_type",
    minute_counts.c.event_type,
    minute_counts.c.bucket_start,
)

accounts = Table(
    "audit_accounts",
    metadata,
    Column("account_key", String(330), primary_key=True),
    Column("user_id", Uuid, index=True),
    Column("email", String(320)),
    Column("registered_at", UtcDateTime),
    Column("verified_at", UtcDateTime),
    Column("last_event_at", UtcDateTime),
    Column("last_attempt_at", UtcDateTime),
    Column("last_attempt_event_id", Uuid),
    Column("last_attempt_type", String(64)),
    Column("last_attempt_success", Boolean),
    Column("last_attempt_reason", String(64)),
    Column("last_attempt_ip", String(64)),
    Column("last_attempt_user_agent", String(512)),
    Column("last_login_at", UtcDateTime),
    Column("last_login_ip", String(64)),
    Column("last_login_user_agent", String(512)),
    Column("locked_at", UtcDateTime),
    Column("locked_until", UtcDateTime),
    Column("lock_failed_attempts", Integer),
    Column("lock_ip", String(64)),
    Column("lock_user_agent", String(512)),
    Column("unlocked_at", UtcDateTime),
    Column("unlock_cause", String(32)),
    Column("reset_requested_at", UtcDateTime),
    Column("reset_at", UtcDateTime),
    Column("password_changed_at", UtcDateTime),
    Column("last_email_at", UtcDateTime),
    Column("last_email_template", String(64)),
    Column("last_email_success", Boolean),
    Column("last_email_error", String(2000)),
)

alerts = Table(
    "audit_alerts",
    metadata,
    Column("alert_id", Uuid, primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("recovering_since", UtcDateTime),
    Column("value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("summary", String(500), nullable=False),
    Column("details", JSON, nullable=False),
)
Index("ix_audit_alerts_state", alerts.c.state, alerts.c.started_at)
Index("ix_audit_alerts_rule", alerts.c.rule, alerts.c.subject)

PROJECTION_TABLES: tuple[Table, ...] = (events, minute_counts, accounts)
