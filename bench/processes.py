"""Processes a benchmark starts: services, the peer, load generators.

Each service runs in a session of its own with its output in a log file, so a
benchmark reads its CPU time from /proc and stops the whole group at the end.
"""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parent.parent
# Variables of the developer's own set-up that must not reach a benchmark child.
_FOREIGN = ("OTEL_", "KAFKA_", "IDENTITY_", "NOTIFIER_", "AUDIT_", "SMTP_", "MAILBOX_")


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env.pop("DATA_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def script(name: str) -> str:
    """A console script of this environment (``identity``, ``audit``, ...)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class ChildFailed(RuntimeError):
    pass


class Service:
    """A long-running child answering ``health_url`` once ready."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        health_url: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log = log
        self.health_url = health_url
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    async def start(self, within: float = 60.0) -> "Service":
        self.process = await asyncio.to_thread(self._spawn)
        if self.health_url is not None:
            await self._wait_healthy(within)
        return self

    def _spawn(self) -> "subprocess.Popen[bytes]":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as sink:
            return subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def _wait_healthy(self, within: float) -> None:
        assert self.health_url is not None and self.process is not None
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ChildFailed(f"{self.name} exited: {self.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(self.health_url)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise ChildFailed(f"{self.name} not healthy in {within} s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self, grace: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await asyncio.to_thread(process.wait)


async def run_once(
    argv: Sequence[str], env: Mapping[str, str], log: Path, within: float = 300
) -> str:
    """Run a command to its end; its stdout, or ChildFailed with its output."""
    log.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ChildFailed(f"{argv[0]} timed out after {within} s") from None
    with log.open("ab") as sink:
        sink.write(err)
    if process.returncode != 0:
        tail = err.decode(errors="replace")[-3000:]
        raise ChildFailed(f"{' '.join(argv[:4])} exited {process.returncode}: {tail}")
    return out.decode()


async def python_module(
    module: str, spec: Mapping[str, Any], log: Path, within: float = 600
) -> Any:
    """Run ``python -m module <spec file>`` and parse the JSON it prints."""
    log.parent.mkdir(parents=True, exist_ok=True)
    path = log.parent / f"{module}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(spec))
    out = await run_once(
        [sys.executable, "-m", module, str(path)],
        clean_environment(),
        log,
        within,
    )
    return json.loads(out)
