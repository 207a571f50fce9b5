"""Query parameters the API validates beyond their types: windows, buckets, times."""

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from shared.events import EventType
from shared.http import Problem

Bucket = Literal["1m", "5m", "15m", "1h"]
BUCKETS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
}
_WINDOW = re.compile(r"^(\d{1,5})([mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_WINDOW = timedelta(days=31)
# Text filters go to the database as given: control characters (NUL above
# all, which PostgreSQL refuses in text) are a validation error instead.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def invalid(parameter: str, message: str) -> Problem:
    """A 422 problem naming one query parameter, like FastAPI's own."""
    return Problem(
        422,
        "validation_error",
        "The request is not valid",
        f"{parameter}: {message}",
        errors=[{"loc": ["query", parameter], "msg": message, "type": "value_error"}],
    )


def parse_window(text: str, parameter: str = "window") -> timedelta:
    """``15m``, ``1h``, ``24h``, ``7d``: whole minutes, hours or days up to 31 days."""
    match = _WINDOW.match(text.strip())
    if match is None:
        raise invalid(parameter, "expected a number and a unit m, h or d, e.g. 1h")
    window = int(match[1]) * _UNITS[match[2]]
    if not timedelta(minutes=1) <= window <= MAX_WINDOW:
        raise invalid(parameter, "must be between 1m and 31d")
    return window


def parse_event_types(text: str | None) -> list[EventType]:
    """One event type or several, comma-separated; none means every type."""
    if text is None or not text.strip():
        return []
    try:
        return [EventType(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise invalid("event_type", "unknown event type") from exc


def as_utc(value: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
