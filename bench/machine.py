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
