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


def summarise(folded: Path, threads: bool = True) -> dict[str, Any]:
    """Samples per thread kind, and the functions that own the most samples
    on the event-loop thread (or everywhere, ``threads=False``): self time,
    and inclusive time of project, aiokafka and SQLAlchemy functions."""
    kinds: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        kind = "event loop"
        if threads:
            kind = _thread_kind(frames[0])
            frames = frames[1:]
        if frames and (
            frames[-1].startswith(IDLE_LEAVES)
            or any(marker in frames[-1] for marker in IDLE_MARKERS)
        ):
            continue  # waiting, not working (uvloop's epoll shows as Runner.run)
        kinds[kind] += count
        total += count
        if kind != "event loop" or not frames:
            continue
        own[_short(frames[-1])] += count
        for frame in dict.fromkeys(_short(f) for f in frames):
            if any(p in frame for p in PROJECT_FRAMES):
                inclusive[frame] += count
    return {
        "samples": total,
        "threads": dict(kinds),
        "self": own.most_common(TOP),
        "inclusive": inclusive.most_common(TOP),
    }


IDLE_LEAVES = ("Runner.run (", "Condition.wait (", "_worker (concurrent/futures")
IDLE_MARKERS = ("aiosqlite/core.py:59)", "_bootstrap>)")
PROJECT_FRAMES = ("identity/", "audit/", "shared/", "sqlalchemy/", "aiokafka/")


def _thread_kind(first: str) -> str:
    name = first.split(": ", 1)[-1]
    if "MainThread" in name:
        return "event loop"
    if "argon2" in name:
        return "argon2 pool"
    if "_connection_worker_thread" in name:
        return "aiosqlite connection threads"
    return "other threads"


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


async def profile_command(
    lab: Lab, argv: list[str], env: dict[str, str], label: str
) -> list[str]:
    """Run ``argv`` under py-spy from start to end; the report's lines."""
    ensure_peer_environment()
    output = lab.work_dir / "profiles" / f"{label}.folded"
    output.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        str(py_spy()),
        "record",
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--output",
        str(output),
        "--",
        *argv,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()
    if not output.exists():
        return [f"profile ({label}): py-spy produced no output"]
    kept = Path(__file__).parent / "profiles"
    kept.mkdir(exist_ok=True)
    (kept / f"{label}.folded").write_text(output.read_text())
    summary = summarise(output, threads=False)
    total = max(1, summary["samples"])
    return [
        f"Profile ({label}, py-spy {RATE} Hz over the whole command; folded "
        f"stacks in bench/profiles/{label}.folded), functions holding the most "
        "samples (self): "
        + "; ".join(f"{f} {100 * n / total:.0f}%" for f, n in summary["self"][:10]),
        "Inclusive share of project, aiokafka and SQLAlchemy frames: "
        + "; ".join(
            f"{f} {100 * n / total:.0f}%" for f, n in summary["inclusive"][:12]
        ),
    ]
