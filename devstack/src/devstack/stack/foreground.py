"""The stack in a terminal's foreground: up until a signal or a child's death."""

import asyncio
import contextlib
import signal

from devstack.stack.errors import ChildFailed, StackError
from devstack.stack.summary import summary_lines
from devstack.stack.supervisor import Stack

# SIGHUP too: a closed terminal must not leave the children running.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def run_in_foreground(stack: Stack) -> int:
    """0 after a requested stop; 1 when a port was busy or a child died.

    A second signal while stopping kills every child at once.
    """
    stop = asyncio.Event()

    def request_stop() -> None:
        if stop.is_set():
            stack.output.error("second signal: killing every child")
            stack.kill()
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, request_stop)
    stopping = asyncio.create_task(stop.wait())
    try:
        return await _supervise(stack, stopping)
    finally:
        stopping.cancel()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def _supervise(stack: Stack, stopping: asyncio.Task[bool]) -> int:
    output = stack.output
    starting = asyncio.create_task(stack.start())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        output.note("stopping during start-up")
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, StackError):
            await starting
        await stack.stop()
        output.note("stopped")
        return 0
    try:
        starting.result()
    except StackError as error:
        _report_start_failure(stack, error)
        return 1
    output.summary("authtrail is up; Ctrl-C stops it", summary_lines(stack.settings))

    watching = asyncio.create_task(stack.wait())
    await asyncio.wait({watching, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if watching.done():
        died = watching.result()
        output.error(f"{died.name} exited with status {died.returncode}; stopping")
        _show_tail(stack, died.name, list(died.tail))
        await stack.stop()
        return 1
    watching.cancel()
    output.note("stopping")
    await stack.stop()
    output.note("stopped")
    return 0


def _report_start_failure(stack: Stack, error: StackError) -> None:
    if isinstance(error, ChildFailed):
        stack.output.error(f"start-up failed: {error}; stopped the others")
        _show_tail(stack, error.name, error.tail)
    else:
        stack.output.error(f"cannot start: {error}")


def _show_tail(stack: Stack, name: str, tail: list[str]) -> None:
    if tail:
        stack.output.error(f"last output of {name}:")
        for line in tail:
            stack.output.error(f"  {line}")
