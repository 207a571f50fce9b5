"""The JSON documents of the query API."""

from datetime import datetime
from typing import Any

from audit.domain.audit_event import AuditEvent
from audit.domain.user_agent import describe_user_agent
from audit.queries import Activity


def event_document(event: AuditEvent) -> dict[str, Any]:
    """The envelope fields of one event, plus the ids of its trace."""
    return {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "user_id": _text(event.user_id),
        "email": event.email,
        "success": event.success,
        "reason": event.reason,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "duration_ms": event.duration_ms,
        "stream_version": event.stream_version,
        "data": event.data,
        "trace_id": event.trace_id,
        "span_id": event.span_id,
    }


def activity_document(activity: Activity) -> dict[str, Any]:
    state, now = activity.record.state, activity.as_of
    last_email = None
    if state is not None and state.last_email_at is not None:
        last_email = {
            "at": _iso(state.last_email_at),
            "template": state.last_email_template,
            "delivered": state.last_email_success,
            "error": state.last_email_error,
        }
    return {
        "user_id": _text(state.user_id) if state else None,
        "email": (state.email if state else None) or activity.address,
        "status": activity.diagnosis.status.value,
        "diagnosis": activity.diagnosis.sentence,
        "as_of": _iso(now),
        "registered": bool(state and state.registered),
        "registered_at": _iso(state.registered_at) if state else None,
        "email_verified": bool(state and state.verified),
        "last_attempt_at": _iso(state.last_attempt_at) if state else None,
        "last_event_type": state.last_attempt_type if state else None,
        "last_success": state.last_attempt_success if state else None,
        "last_reason": state.last_attempt_reason if state else None,
        "last_ip": state.last_attempt_ip if state else None,
        "last_user_agent": state.last_attempt_user_agent if state else None,
        "last_client": describe_user_agent(state.last_attempt_user_agent)
        if state
        else None,
        "last_trace_id": activity.record.last_attempt_trace_id,
        "failed_attempts_last_10m": activity.record.failed_last_10m,
        "locked": bool(state and state.locked(now)),
        "locked_at": _iso(state.locked_at) if state and state.locked(now) else None,
        "locked_until": _iso(state.locked_until)
        if state and state.locked(now)
        else None,
        "last_login_at": _iso(state.last_login_at) if state else None,
        "last_password_reset_at": _iso(state.reset_at) if state else None,
        "last_email": last_email,
        "recent_events": [event_document(e) for e in activity.record.recent],
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
