"""Progress while the demo runs: bars on a terminal, periodic lines elsewhere."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from devstack.demo.tally import Tally

_LINE_EVERY = 5.0


class DemoProgress:
    """Three phases: onboarding (users), scenes (count), mixed traffic (seconds)."""

    def __init__(self, console: Console, tally: Tally, users: int, seconds: float):
        self._console = console
        self._tally = tally
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.completed:>4.0f}/{task.total:<4.0f}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._onboarding = self._progress.add_task("users onboarded", total=users)
        self._scenes = self._progress.add_task("stuffing, lockout, reset", total=3)
        self._mixed = self._progress.add_task("mixed traffic (s)", total=seconds)
        self._counters = self._progress.add_task("", total=None)
        self._phase = "checking the stack"

    def onboarded(self) -> None:
        self._progress.advance(self._onboarding)

    def scene(self, name: str) -> None:
        self._phase = name

    def scene_done(self) -> None:
        self._progress.advance(self._scenes)

    def traffic(self, elapsed: float) -> None:
        self._progress.update(self._mixed, completed=elapsed)

    @contextlib.asynccontextmanager
    async def shown(self) -> AsyncIterator["DemoProgress"]:
        refresh = asyncio.create_task(self._refresh())
        if self._console.is_terminal:
            self._progress.start()
        try:
            yield self
        finally:
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh
            self._progress.stop()

    async def _refresh(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            self._progress.update(self._counters, description=self._tally.line())
            if not self._console.is_terminal:
                self._console.print(
                    f"[{loop.time() - started:5.1f} s] {self._phase}: "
                    f"{self._tally.line()}"
                )
                await asyncio.sleep(_LINE_EVERY)
            else:
                await asyncio.sleep(0.5)
