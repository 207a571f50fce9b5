"""What a benchmark hands to the report: tables, goals, notes, the command."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Goal:
    """One target of the issue and whether this run met it."""

    name: str
    target: str
    measured: str
    met: bool


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    key: str
    title: str
    command: str
    method: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
