"""Progress while the demo runs: bars on a terminal, periodic lines elsewhere."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from devstack.demo.tally import Tally

_LINE_EVERY = 5.0


class DemoProgress:
    """Three phases: onboarding (users), scenes (count), mixed traffic (seconds)."""

    def __init__(self, console: Console, tally: Tally, users: int, seconds: float):
        self._console = console
        self._tally = tally
        self._phase = "checking the stack"
        self._progress = _ProgressAndStatus(
            self.status,
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.fields[amount]:>9}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._onboarding = self._add("users onboarded", users)
        self._scenes = self._add("stuffing, lockout, reset", 3)
        self._mixed = self._add("mixed traffic (s)", seconds)

    def status(self) -> str:
        return f"{self._phase}: {self._tally.line()}"

    def onboarded(self) -> None:
        self._advance(self._onboarding)

    def scene(self, name: str) -> None:
        self._phase = name

    def scene_done(self) -> None:
        self._advance(self._scenes)

    def traffic(self, elapsed: float) -> None:
        self._set(self._mixed, elapsed)

    @contextlib.asynccontextmanager
    async def shown(self) -> AsyncIterator["DemoProgress"]:
        """Live bars on a terminal; a status line every few seconds elsewhere."""
        if self._console.is_terminal:
            with self._progress:
                yield self
            return
        lines = asyncio.create_task(self._print_lines())
        try:
            yield self
        finally:
            lines.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lines

    async def _print_lines(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            self._console.print(f"[{loop.time() - started:5.1f} s] {self.status()}")
            await asyncio.sleep(_LINE_EVERY)

    def _add(self, description: str, total: float) -> TaskID:
        return self._progress.add_task(
            description, total=total, amount=f"0/{total:.0f}"
        )

    def _advance(self, task: TaskID) -> None:
        self._set(task, self._progress.tasks[task].completed + 1)

    def _set(self, task: TaskID, completed: float) -> None:
        total = self._progress.tasks[task].total or 0
        self._progress.update(
            task, completed=completed, amount=f"{completed:.0f}/{total:.0f}"
        )


class _ProgressAndStatus(Progress):
    """The bars, and under them what the demo is doing and did so far."""

    def __init__(
        self, status: Callable[[], str], *columns: ProgressColumn, console: Console
    ) -> None:
        self._status = status  # before the base class renders a first time
        super().__init__(*columns, console=console)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield Text(self._status())
