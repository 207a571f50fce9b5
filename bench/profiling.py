"""Where identity's time goes under load: py-spy on the running process.

``py-spy record --format raw`` samples every thread (``--threads``) without
pausing the process (``--nonblocking``); the folded stacks are then summed
per thread kind and per function, so the report can say which part of a
request holds the CPU while the hashing threads wait or work.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from bench.lab import Lab
from bench.peer_env import ensure_peer_environment, py_spy
from bench.processes import Service

RATE = 200
TOP = 12


async def record(pid: int, seconds: float, output: Path, gil: bool = False) -> Path:
    ensure_peer_environment()
    output.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        str(py_spy()),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--threads",
        *(["--gil"] if gil else []),
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()
    return output


def summarise(folded: Path) -> dict[str, Any]:
    """Samples per thread kind, and the functions that own the most samples
    outside argon2 (self time, and inclusive time of project functions)."""
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0]
        kind = (
            "argon2 pool"
            if "argon2" in thread
            else (
                "event loop"
                if "MainThread" in thread or "0x" not in thread
                else "other"
            )
        )
        if "argon2" in thread:
            kind = "argon2 pool"
        threads[kind] += count
        total += count
        if kind != "event loop":
            continue
        own[_short(frames[-1])] += count
        for frame in dict.fromkeys(_short(f) for f in frames[1:]):
            if any(p in frame for p in ("identity/", "shared/", "sqlalchemy/")):
                inclusive[frame] += count
    return {
        "samples": total,
        "threads": dict(threads),
        "self": own.most_common(TOP),
        "inclusive": inclusive.most_common(TOP),
    }


def _short(frame: str) -> str:
    """``function (path:line)`` with the path cut to its package."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where.rsplit(':', 1)[0]})"


async def profile_identity(
    lab: Lab, service: Service, load: Awaitable[Any], label: str
) -> list[str]:
    """Run ``load`` while py-spy records ``service``; the report's lines."""
    seconds = lab.options.duration + lab.options.warmup
    output = lab.work_dir / "profiles" / f"{label}.folded"
    recording = asyncio.create_task(record(service.pid, seconds, output))
    result = await load
    await recording
    if not output.exists():
        return [f"profile ({label}): py-spy produced no output"]
    summary = summarise(output)
    kept = Path(__file__).parent / "profiles"
    kept.mkdir(exist_ok=True)
    (kept / f"{label}.folded").write_text(output.read_text())
    return _lines(label, summary, result)


def _lines(label: str, summary: dict[str, Any], result: Any) -> list[str]:
    total = max(1, summary["samples"])
    threads = ", ".join(
        f"{kind} {100 * n / total:.0f}%" for kind, n in summary["threads"].items()
    )
    loop = max(1, summary["threads"].get("event loop", 0))
    lines = [
        f"Profile ({label}, py-spy {RATE} Hz, all threads, "
        f"{result.get('throughput', 0):.1f} logins/s during it; folded stacks in "
        f"bench/profiles/{label}.folded): samples by thread: {threads}.",
        "Event-loop thread, functions holding the most samples (self): "
        + "; ".join(f"{f} {100 * n / loop:.0f}%" for f, n in summary["self"][:8]),
        "Event-loop thread, inclusive share of project and SQLAlchemy frames: "
        + "; ".join(f"{f} {100 * n / loop:.0f}%" for f, n in summary["inclusive"][:10]),
    ]
    return lines
