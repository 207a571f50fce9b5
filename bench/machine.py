"""The machine the figures were measured on."""

import os
import platform
import sqlite3
import subprocess
from pathlib import Path


def cpu_model() -> str:
    for line in _lscpu().splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _lscpu() -> str:
    try:
        return subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False, timeout=10
        ).stdout
    except OSError:
        return ""


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def describe(postgres_version: str | None) -> dict[str, str]:
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu_model(),
        "memory": f"{memory_gib()} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": postgres_version or "not reachable (PostgreSQL rows skipped)",
    }


# The benchmark's own work outside its process tree: the PostgreSQL server it
# queries.
SERVERS_WE_USE = ("postgres",)


class ForeignCpu:
    """CPU taken by processes that are not the benchmark's own while it runs:
    everything outside this process's tree, except the servers it uses.
    (A process that starts and ends between two readings is missed.)"""

    def __init__(self) -> None:
        self._start = _foreign_ticks()
        self._began = os.times().elapsed

    def cores(self) -> float:
        """Cores' worth of foreign CPU, on average, since this was created."""
        now = _foreign_ticks()
        ticks = sum(t - self._start.get(pid, 0) for pid, t in now.items())
        seconds = os.times().elapsed - self._began
        return ticks / os.sysconf("SC_CLK_TCK") / seconds if seconds > 0 else 0.0


def _foreign_ticks() -> dict[int, int]:
    """CPU ticks (user + system) of every process outside our tree."""
    stats: dict[int, tuple[int, str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # after the name: state, ppid, ..., utime (12th), stime (13th)
        stats[int(entry.name)] = (
            int(fields[1]),
            name,
            int(fields[11]) + int(fields[12]),
        )
    ours = {os.getpid()}
    grew = True
    while grew:
        before = len(ours)
        ours |= {pid for pid, (parent, _, _) in stats.items() if parent in ours}
        grew = len(ours) > before
    return {
        pid: ticks
        for pid, (_, name, ticks) in stats.items()
        if pid not in ours and not name.startswith(SERVERS_WE_USE)
    }
