"""Looking at live processes through /proc, for tests that check leftovers."""

import os
from pathlib import Path

PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _state_and_parent(pid: int) -> tuple[str, int] | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def is_alive(pid: int) -> bool:
    found = _state_and_parent(pid)
    return found is not None and found[0] != "Z"


def children(pid: int) -> list[int]:
    return [
        child
        for child in _pids()
        if (found := _state_and_parent(child)) is not None and found[1] == pid
    ]


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    frontier = [pid]
    while frontier:
        kids = [kid for parent in frontier for kid in children(parent)]
        found += kids
        frontier = kids
    return found


def with_environment(variable: str, value: str) -> list[int]:
    """Live processes started with ``variable=value`` in their environment."""
    wanted = f"{variable}={value}".encode()
    matches = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        try:
            environ = (PROC / str(pid) / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0") and is_alive(pid):
            matches.append(pid)
    return matches
