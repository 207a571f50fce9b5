"""``GET /dashboard``: a server-rendered page that refreshes itself from the API."""

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from audit.adapters.event_queries import EventFilter
from audit.domain.alerts import AlertState, alert_document
from audit.http.documents import activity_document, event_document
from audit.http.parameters import PRINTABLE
from audit.queries import Activity, AuditQueries
from shared.events import EventType

TEMPLATES = Path(__file__).parent.parent / "templates"
WINDOW = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
RECENT_EVENTS = 25
MISSING = "\N{EN DASH}"

# Script, styles and data from this origin only; the page frames nothing and
# nobody frames it. Trace links leave for Jaeger as ordinary navigation.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

CHARTS: list[dict[str, Any]] = [
    {
        "id": "logins",
        "title": "Logins per minute",
        "datasets": [
            {"label": "succeeded", "event_type": "login_success", "color": "#2e7d32"},
            {"label": "failed", "event_type": "login_failed", "color": "#c62828"},
        ],
    },
    {
        "id": "registrations",
        "title": "Registrations per minute",
        "datasets": [
            {
                "label": "registrations",
                "event_type": "registration_success",
                "color": "#1565c0",
            }
        ],
    },
    {
        "id": "lockouts",
        "title": "Lockouts per minute",
        "datasets": [
            {"label": "lockouts", "event_type": "account_locked", "color": "#ef6c00"}
        ],
    },
    {
        "id": "resets",
        "title": "Password resets per minute",
        "datasets": [
            {
                "label": "requested",
                "event_type": "password_reset_requested",
                "color": "#6a1b9a",
            },
            {
                "label": "completed",
                "event_type": "password_reset_success",
                "color": "#00838f",
            },
        ],
    },
]


def dashboard_router(
    queries: AuditQueries, jaeger_ui_url: str, refresh_s: int
) -> APIRouter:
    router = APIRouter(tags=["dashboard"])
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters.update(
        percent=format_percent,
        milliseconds=format_ms,
        number=format_number,
        clock=format_time,
    )
    jaeger = jaeger_ui_url.rstrip("/")

    @router.get("/dashboard", response_class=HTMLResponse, summary="The dashboard")
    async def dashboard(
        request: Request,
        account: Annotated[str | None, Query(max_length=320, pattern=PRINTABLE)] = None,
    ) -> HTMLResponse:
        summary = (await queries.summary(WINDOW)).as_document()
        alerts = [
            alert_document(a) for a in await queries.alerts([AlertState.FIRING], 50)
        ]
        page = await queries.events(EventFilter(), RECENT_EVENTS, None)
        charts = [
            {
                **chart,
                "datasets": [
                    {
                        **dataset,
                        "points": await queries.timeseries(
                            [EventType(dataset["event_type"])], MINUTE, 60
                        ),
                    }
                    for dataset in chart["datasets"]
                ],
            }
            for chart in CHARTS
        ]
        searched = (account or "").strip()
        activity = await _activity(queries, searched) if searched else None
        response = templates.TemplateResponse(
            request,
            "dashboard.html",
            {
                "summary": summary,
                "alerts": alerts,
                "events": [event_document(e) for e in page.items],
                "charts": charts,
                "account": searched,
                "activity": activity_document(activity) if activity else None,
                "jaeger": jaeger,
                "refresh_ms": refresh_s * 1000,
                "data": {"charts": charts, "summary": summary},
            },
        )
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-store"
        return response

    return router


async def _activity(queries: AuditQueries, account: str) -> Activity | None:
    try:
        user_id = UUID(account)
    except ValueError:
        return await queries.activity_by_email(account.lower())
    return await queries.activity_by_user(user_id)


# The page's script formats refreshed figures exactly the same way (dashboard.js):
# half-up rounding, as JavaScript's Math.round does.
def format_percent(value: float | None) -> str:
    return MISSING if value is None else f"{math.floor(value * 1000 + 0.5) / 10:.1f}%"


def format_ms(value: float | None) -> str:
    return MISSING if value is None else f"{math.floor(value + 0.5)} ms"


def format_number(value: float | None) -> str:
    if value is None:
        return MISSING
    return str(int(value)) if float(value).is_integer() else str(value)


def format_time(value: str | None) -> str:
    """An ISO time as ``2026-12-03 12:03:05`` (UTC)."""
    if not value:
        return MISSING
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
