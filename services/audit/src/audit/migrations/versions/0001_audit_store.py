"""The audit store: events, per-minute counts, accounts, alerts.

Revision ID: 0001_audit_store
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_audit_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("email", sa.String(320)),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("duration_ms", sa.Float()),
        sa.Column("stream_version", sa.Integer()),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("span_id", sa.String(16)),
    )
    op.create_index(
        "ix_audit_events_occurred", "audit_events", ["occurred_at", "event_id"]
    )
    op.create_index(
        "ix_audit_events_type_occurred", "audit_events", ["event_type", "occurred_at"]
    )
    op.create_index(
        "ix_audit_events_user_occurred", "audit_events", ["user_id", "occurred_at"]
    )
    op.create_index(
        "ix_audit_events_email_occurred",
        "audit_events",
        [sa.text("lower(email)"), "occurred_at"],
    )
    op.create_index(
        "ix_audit_events_ip_occurred", "audit_events", ["ip", "occurred_at"]
    )
    op.create_index("ix_audit_events_trace", "audit_events", ["trace_id"])

    op.create_table(
        "audit_minute_counts",
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("event_type", sa.String(64), primary_key=True),
        sa.Column("success", sa.Boolean(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("duration_ms_sum", sa.Float(), nullable=False),
        sa.Column("duration_count", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_audit_minute_counts_type",
        "audit_minute_counts",
        ["event_type", "bucket_start"],
    )

    op.create_table(
        "audit_accounts",
        sa.Column("account_key", sa.String(330), primary_key=True),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("email", sa.String(320)),
        sa.Column("registered_at", sa.DateTime(timezone=True)),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("last_event_at", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_event_id", sa.Uuid()),
        sa.Column("last_attempt_type", sa.String(64)),
        sa.Column("last_attempt_success", sa.Boolean()),
        sa.Column("last_attempt_reason", sa.String(64)),
        sa.Column("last_attempt_ip", sa.String(64)),
        sa.Column("last_attempt_user_agent", sa.String(512)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("last_login_ip", sa.String(64)),
        sa.Column("last_login_user_agent", sa.String(512)),
        sa.Column("locked_at", sa.DateTime(timezone=True)),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("lock_failed_attempts", sa.Integer()),
        sa.Column("lock_ip", sa.String(64)),
        sa.Column("lock_user_agent", sa.String(512)),
        sa.Column("unlocked_at", sa.DateTime(timezone=True)),
        sa.Column("unlock_cause", sa.String(32)),
        sa.Column("reset_requested_at", sa.DateTime(timezone=True)),
        sa.Column("reset_at", sa.DateTime(timezone=True)),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.Column("last_email_at", sa.DateTime(timezone=True)),
        sa.Column("last_email_template", sa.String(64)),
        sa.Column("last_email_success", sa.Boolean()),
        sa.Column("last_email_error", sa.String(2000)),
    )
    op.create_index("ix_audit_accounts_user_id", "audit_accounts", ["user_id"])

    op.create_table(
        "audit_alerts",
        sa.Column("alert_id", sa.Uuid(), primary_key=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("recovering_since", sa.DateTime(timezone=True)),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_alerts_state", "audit_alerts", ["state", "started_at"])
    op.create_index("ix_audit_alerts_rule", "audit_alerts", ["rule", "subject"])


def downgrade() -> None:
    op.drop_table("audit_alerts")
    op.drop_table("audit_accounts")
    op.drop_table("audit_minute_counts")
    op.drop_table("audit_events")
