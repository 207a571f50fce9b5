"""The opaque ``cursor`` of ``GET /v1/events``: where the previous page ended."""

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from audit.adapters.event_queries import Position
from shared.http import Problem


def encode_cursor(position: Position) -> str:
    raw = json.dumps(
        {"t": position.occurred_at.isoformat(), "id": str(position.event_id)},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; a 422 problem for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw)
        at = datetime.fromisoformat(fields["t"])
        if at.tzinfo is None:
            raise ValueError("cursor time without zone")
        return Position(at, UUID(fields["id"]))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise Problem(
            422,
            "validation_error",
            "The request is not valid",
            "The cursor is not one this API issued.",
            errors=[
                {
                    "loc": ["query", "cursor"],
                    "msg": "invalid cursor",
                    "type": "value_error",
                }
            ],
        ) from exc
