"""Stored events to JSON and back, named by their class."""

from typing import Any

from pydantic import TypeAdapter

from identity.domain.errors import CorruptStream
from identity.domain.events import EVENT_CLASSES, DomainEvent

_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    cls.__name__: TypeAdapter(cls) for cls in EVENT_CLASSES
}


def event_name(event: DomainEvent) -> str:
    return type(event).__name__


def encode_event(event: DomainEvent) -> str:
    return _ADAPTERS[event_name(event)].dump_json(event).decode()


def decode_event(name: str, payload: str) -> DomainEvent:
    try:
        adapter = _ADAPTERS[name]
    except KeyError as exc:
        raise CorruptStream(f"unknown stored event {name!r}") from exc
    event: DomainEvent = adapter.validate_json(payload)
    return event
