"""The stack as a library: start every process in order, watch, stop them all."""

import asyncio
import time
from types import TracebackType

import httpx

from devstack.settings import StackSettings
from devstack.stack.errors import ChildFailed, StackError
from devstack.stack.output import StackOutput
from devstack.stack.ports import check_ports
from devstack.stack.process import ManagedProcess
from devstack.stack.table import (
    AnswersHealth,
    Exits,
    Listens,
    Stage,
    stack_stages,
)

_POLL = 0.1


class Stack:
    """The processes of :func:`stack_stages`, started and stopped as one.

    ``start`` raises :class:`StackError` (a busy port, a child that died or
    never became ready) after stopping whatever it had started; ``stop``
    terminates every child in reverse order and may be called any time.
    """

    def __init__(
        self,
        settings: StackSettings,
        output: StackOutput | None = None,
        stages: list[Stage] | None = None,
    ) -> None:
        self.settings = settings
        self.stages = stack_stages(settings) if stages is None else stages
        self.output = output or StackOutput()
        self.output.align([spec.name for stage in self.stages for spec in stage])
        self._started: list[list[ManagedProcess]] = []

    @property
    def processes(self) -> list[ManagedProcess]:
        return [process for group in self._started for process in group]

    def check_ports(self) -> None:
        """Raise :class:`StackError` naming the first port taken or claimed twice."""
        check_ports(self.stages, self.settings.host)

    async def start(self) -> None:
        self.check_ports()
        self.settings.data_path.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.settings.startup_timeout
        try:
            for stage in self.stages:
                await self._start_stage(stage, deadline)
        except BaseException:
            await self.stop()
            raise

    async def wait(self) -> ManagedProcess:
        """Block until a long-running child exits; answer which one."""
        running = {
            asyncio.create_task(process.wait()): process
            for process in self.processes
            if not process.spec.one_shot
        }
        if not running:
            raise StackError("no long-running child to wait for")
        try:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in running:
                task.cancel()
        return running[done.pop()]

    async def stop(self) -> None:
        """SIGTERM every child, the last started first; SIGKILL after the grace."""
        while self._started:
            group = self._started.pop()
            await asyncio.gather(
                *(process.terminate(self.settings.stop_grace) for process in group)
            )

    def kill(self) -> None:
        """SIGKILL every child at once (a second Ctrl-C)."""
        for process in self.processes:
            process.kill()

    async def __aenter__(self) -> "Stack":
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _start_stage(self, stage: Stage, deadline: float) -> None:
        group: list[ManagedProcess] = []
        self._started.append(group)
        for spec in stage:
            process = ManagedProcess(spec, self.output)
            try:
                await process.spawn()
            except OSError as error:
                raise ChildFailed(spec.name, f"could not start: {error}", []) from error
            group.append(process)
        waiting = [asyncio.create_task(self._ready(p, deadline)) for p in group]
        try:
            await asyncio.gather(*waiting)
        finally:
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    async def _ready(self, process: ManagedProcess, deadline: float) -> None:
        ready = process.spec.ready
        if isinstance(ready, Exits):
            await self._finished(process, deadline)
            return
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
            while not await _answers(ready, http):
                if process.returncode is not None:
                    returncode = await process.wait()
                    raise _failed(process, f"exited with status {returncode}")
                if time.monotonic() > deadline:
                    raise _failed(process, "did not become ready in time")
                await asyncio.sleep(_POLL)
        self.output.note(f"{process.name} is ready (pid {process.pid})", "green")

    async def _finished(self, process: ManagedProcess, deadline: float) -> None:
        try:
            async with asyncio.timeout_at(_loop_time(deadline)):
                returncode = await process.wait()
        except TimeoutError:
            raise _failed(process, "did not finish in time") from None
        if returncode != 0:
            raise _failed(process, f"exited with status {returncode}")


async def _answers(ready: Listens | AnswersHealth, http: httpx.AsyncClient) -> bool:
    if isinstance(ready, Listens):
        try:
            _, writer = await asyncio.open_connection(ready.host, ready.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        return True
    try:
        return (await http.get(ready.url)).status_code == 200
    except httpx.TransportError:
        return False


def _failed(process: ManagedProcess, reason: str) -> ChildFailed:
    return ChildFailed(process.name, reason, list(process.tail))


def _loop_time(deadline: float) -> float:
    """``deadline`` on the monotonic clock, as a time of the running loop."""
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())
