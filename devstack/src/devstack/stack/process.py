"""One child of the stack: spawned in its own process group, output relayed."""

import asyncio
import contextlib
import os
import signal
import subprocess
from collections import deque

from devstack.stack.output import StackOutput
from devstack.stack.parent_death import parent_death_signal
from devstack.stack.table import ProcessSpec

_CHUNK = 64 * 1024
_LONGEST_LINE = 1024 * 1024


class ManagedProcess:
    """A running child; ``tail`` keeps its last output lines for error reports."""

    def __init__(
        self, spec: ProcessSpec, output: StackOutput, tail_lines: int = 25
    ) -> None:
        self.spec = spec
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self._output = output
        self._process: asyncio.subprocess.Process | None = None
        self._relay: asyncio.Task[None] | None = None
        self._reaped = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process else None

    async def spawn(self) -> None:
        """Start the child; again after it exited, and then stopped like the first."""
        # A session of its own: a terminal's Ctrl-C reaches only the launcher,
        # which stops the children in order, and killpg reaches grandchildren.
        self._reaped = False
        self._process = await asyncio.create_subprocess_exec(
            *self.spec.argv,
            env=dict(self.spec.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Between fork and exec it only calls prctl: safe beside threads.
            preexec_fn=parent_death_signal(),
        )
        assert self._process.stdout is not None
        self._relay = asyncio.create_task(self._relay_output(self._process.stdout))

    async def wait(self) -> int:
        """The exit status, once the process has exited and its output drained.

        The group goes with its leader: any grandchild left is killed.
        """
        assert self._process is not None and self._relay is not None
        returncode = await self._process.wait()
        if not self._reaped:
            self._signal_group(signal.SIGKILL)
            self._reaped = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._relay), 2.0)
        return returncode

    async def terminate(self, grace: float) -> None:
        """SIGTERM to the group, SIGKILL after ``grace`` seconds."""
        if self._process is None or self._reaped:
            return
        if self._process.returncode is not None:
            await self.wait()
            return
        self._signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.wait(), grace)
        except TimeoutError:
            self._output.note(f"{self.name} ignored SIGTERM; killing it", "red")
            self._signal_group(signal.SIGKILL)
            await self.wait()

    def kill(self) -> None:
        if self._process is not None and not self._reaped:
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: signal.Signals) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    async def _relay_output(self, stream: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await stream.read(_CHUNK):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self._emit(line)
            if len(pending) > _LONGEST_LINE:
                self._emit(pending)
                pending = b""
        if pending:
            self._emit(pending)

    def _emit(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        self.tail.append(text)
        self._output.line(self.spec, text)
