"""The audit query API of CONTRACT.md: events, activity, metrics, alerts."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query

from audit.adapters.event_queries import EventFilter
from audit.domain.alerts import AlertState, alert_document
from audit.http.cursor import decode_cursor, encode_cursor
from audit.http.documents import activity_document, event_document
from audit.http.parameters import (
    BUCKETS,
    PRINTABLE,
    Bucket,
    as_utc,
    invalid,
    parse_event_types,
    parse_window,
)
from audit.queries import AuditQueries
from shared.events import EventType
from shared.http import PROBLEM_JSON, Problem

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetail"}
MAX_LIMIT = 1000
MAX_BUCKETS = 1440
AlertFilter = Literal["active", "pending", "firing", "resolved", "all"]
_ALERT_STATES: dict[str, list[AlertState] | None] = {
    "active": [AlertState.FIRING],
    "pending": [AlertState.PENDING],
    "firing": [AlertState.FIRING],
    "resolved": [AlertState.RESOLVED],
    "all": None,
}


def api_router(queries: AuditQueries) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["audit"])

    @router.get("/events", summary="Audit events, newest first")
    async def list_events(
        user_id: UUID | None = None,
        email: Annotated[str | None, Query(max_length=320, pattern=PRINTABLE)] = None,
        event_type: EventType | None = None,
        success: bool | None = None,
        ip: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> dict[str, Any]:
        since, until = as_utc(since), as_utc(until)
        if since and until and since >= until:
            raise invalid("until", "must be later than since")
        where = EventFilter(
            user_id=user_id,
            email=email.strip().lower() if email is not None else None,
            event_type=event_type,
            success=success,
            ip=ip.strip() if ip is not None else None,
            since=since,
            until=until,
        )
        after = decode_cursor(cursor) if cursor else None
        page = await queries.events(where, limit, after)
        return {
            "items": [event_document(e) for e in page.items],
            "next_cursor": encode_cursor(page.next_position)
            if page.next_position
            else None,
        }

    @router.get(
        "/users/{user_id}/activity",
        summary="One user's activity and diagnosis",
        responses={
            404: {
                "description": "not_found: no audit event names this user id",
                "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
            }
        },
    )
    async def user_activity(user_id: Annotated[UUID, Path()]) -> dict[str, Any]:
        activity = await queries.activity_by_user(user_id)
        if activity is None:
            raise Problem(
                404, "not_found", "Not found", "No audit event names this user id."
            )
        return activity_document(activity)

    @router.get("/activity", summary="One address's activity and diagnosis")
    async def email_activity(
        email: Annotated[str, Query(min_length=1, max_length=320, pattern=PRINTABLE)],
    ) -> dict[str, Any]:
        address = email.strip().lower()
        if not address:
            raise invalid("email", "must not be blank")
        return activity_document(await queries.activity_by_email(address))

    @router.get("/metrics/summary", summary="The dashboard's summary figures")
    async def metrics_summary(
        window: Annotated[str, Query(max_length=8)] = "1h",
    ) -> dict[str, object]:
        return (await queries.summary(parse_window(window))).as_document()

    @router.get("/metrics/timeseries", summary="Counts and failures per time bucket")
    async def metrics_timeseries(
        event_type: Annotated[str | None, Query(max_length=600)] = None,
        bucket: Bucket = "1m",
        window: Annotated[str | None, Query(max_length=8)] = None,
    ) -> list[dict[str, object]]:
        size = BUCKETS[bucket]
        span = parse_window(window) if window else size * 60
        if span < size:
            raise invalid("window", "must hold at least one bucket")
        buckets = int(span / size)
        if buckets > MAX_BUCKETS:
            raise invalid("window", f"at most {MAX_BUCKETS} buckets of {bucket}")
        return await queries.timeseries(parse_event_types(event_type), size, buckets)

    @router.get("/alerts", summary="Alerts, newest first")
    async def list_alerts(
        state: AlertFilter = "all",
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> list[dict[str, Any]]:
        alerts = await queries.alerts(_ALERT_STATES[state], limit)
        return [alert_document(a) for a in alerts]

    return router
