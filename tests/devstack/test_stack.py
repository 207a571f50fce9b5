"""The Stack library on small real processes: order, readiness, stopping."""

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Protocol

import pytest
from rich.console import Console

from devstack.broker import free_port, port_is_free
from devstack.settings import StackSettings
from devstack.stack import (
    ChildFailed,
    PortInUse,
    ProcessSpec,
    Stack,
    StackError,
    StackOutput,
    run_in_foreground,
    stack_stages,
    summary_lines,
)
from devstack.stack.table import Exits, Listens, PortClaim
from tests.devstack.processes import children, is_alive


def listener(
    name: str, *, first: str = "", ignore_sigterm: bool = False
) -> ProcessSpec:
    """A Python child that runs ``first``, listens on a free port, and sleeps."""
    port = free_port()
    code = (
        "import signal, socket, subprocess, time\n"
        + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore_sigterm else "")
        + first
        + f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        + f"print('{name} listening', flush=True)\n"
        + "time.sleep(300)\n"
    )
    return ProcessSpec(
        name,
        (sys.executable, "-c", code),
        dict(os.environ),
        Listens("127.0.0.1", port),
        "cyan",
        (PortClaim(port, f"{name} port", "TEST_PORT"),),
    )


def step(name: str, code: str) -> ProcessSpec:
    return ProcessSpec(
        name, (sys.executable, "-c", code), dict(os.environ), Exits(), "blue"
    )


def never_ready(name: str) -> ProcessSpec:
    """A child that never listens on the port it is waited on."""
    port = free_port()
    return ProcessSpec(
        name, ("sleep", "300"), dict(os.environ), Listens("127.0.0.1", port), "red"
    )


class MakeStack(Protocol):
    def __call__(
        self,
        stages: list[tuple[ProcessSpec, ...]],
        *,
        stop_grace: float = 10.0,
        startup_timeout: float = 60.0,
    ) -> Stack: ...


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[MakeStack]:
    """Stacks writing to a string, all stopped at the end even if a test fails."""
    made: list[Stack] = []

    def make(
        stages: list[tuple[ProcessSpec, ...]],
        *,
        stop_grace: float = 10.0,
        startup_timeout: float = 60.0,
    ) -> Stack:
        settings = StackSettings(
            data_dir=tmp_path / "data",
            stop_grace=stop_grace,
            startup_timeout=startup_timeout,
        )
        output = StackOutput(Console(file=io.StringIO(), width=200))
        made.append(Stack(settings, output, stages))
        return made[-1]

    yield make
    for stack in made:
        await stack.stop()


def printed(stack: Stack) -> str:
    file = stack.output.console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


async def test_stages_start_in_order_and_output_is_prefixed(
    tmp_path: Path, make_stack: MakeStack
) -> None:
    stack = make_stack(
        [(listener("first"),), (step("second", "print('after first')"),)]
    )

    await stack.start()
    await stack.stop()

    output = printed(stack)
    assert output.index("first    | first listening") < output.index(
        "second   | after first"
    )
    assert (tmp_path / "data").is_dir()


async def test_stop_kills_grandchildren_with_their_parent(
    make_stack: MakeStack,
) -> None:
    spawner = listener("spawner", first="subprocess.Popen(['sleep', '300'])\n")
    stack = make_stack([(spawner,)])
    await stack.start()
    [parent] = stack.processes
    assert parent.pid is not None
    grandchildren = children(parent.pid)
    assert grandchildren

    await stack.stop()

    assert not is_alive(parent.pid)
    assert [pid for pid in grandchildren if is_alive(pid)] == []


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace(
    make_stack: MakeStack,
) -> None:
    stubborn = listener("stubborn", ignore_sigterm=True)
    stack = make_stack([(stubborn,)], stop_grace=0.5)
    await stack.start()
    [process] = stack.processes

    await stack.stop()

    assert process.returncode == -signal.SIGKILL
    assert "stubborn ignored SIGTERM; killing it" in printed(stack)


async def test_a_failing_step_names_itself_and_stops_what_started_before(
    make_stack: MakeStack,
) -> None:
    first = listener("first")
    stack = make_stack(
        [(first,), (step("migrate", "print('no such table'); exit(3)"),)]
    )

    with pytest.raises(ChildFailed) as failure:
        await stack.start()

    assert failure.value.name == "migrate"
    assert str(failure.value) == "migrate exited with status 3"
    assert failure.value.tail == ["no such table"]
    assert port_is_free("127.0.0.1", first.ports[0].port)
    assert stack.processes == []


async def test_a_child_that_never_gets_ready_fails_the_start(
    make_stack: MakeStack,
) -> None:
    stack = make_stack([(never_ready("silent"),)], startup_timeout=1.0)

    with pytest.raises(ChildFailed, match="silent did not become ready in time"):
        await stack.start()


async def test_wait_answers_the_child_that_exited(make_stack: MakeStack) -> None:
    stack = make_stack([(listener("steady"), listener("fragile"))])
    await stack.start()
    fragile = next(p for p in stack.processes if p.name == "fragile")
    assert fragile.pid is not None
    os.kill(fragile.pid, signal.SIGKILL)

    exited = await stack.wait()

    assert exited is fragile
    assert exited.returncode == -signal.SIGKILL


async def test_a_busy_port_is_named_with_its_variable(make_stack: MakeStack) -> None:
    spec = listener("api")
    busy = spec.ports[0].port
    holder = socket.socket()
    holder.bind(("127.0.0.1", busy))
    holder.listen()
    try:
        with pytest.raises(PortInUse) as failure:
            await make_stack([(spec,)]).start()
    finally:
        holder.close()

    assert str(failure.value) == (
        f"port {busy} (api port) is already in use on 127.0.0.1: stop what holds "
        "it, or pick another port with TEST_PORT=<port>"
    )


def test_the_same_port_twice_is_refused(tmp_path: Path) -> None:
    settings = StackSettings(data_dir=tmp_path, identity_port=7000, audit_port=7000)

    with pytest.raises(StackError, match="port 7000 is configured for both"):
        Stack(settings).check_ports()


def test_the_table_wires_every_service_to_the_stack(tmp_path: Path) -> None:
    settings = StackSettings(
        data_dir=tmp_path / "d",
        kafka_bootstrap_servers=None,
        broker_port=7092,
        identity_port=7001,
        mailbox_smtp_port=7025,
        public_url=None,
    )

    stages = stack_stages(settings)

    names = [[spec.name for spec in stage] for stage in stages]
    assert names == [
        ["broker", "mailbox"],
        ["identity migrate", "notifier migrate", "audit migrate"],
        ["identity", "notifier", "audit"],
    ]
    notifier = stages[2][1].env
    data = str((tmp_path / "d").resolve())
    assert notifier["DATA_DIR"] == data
    assert (
        notifier["NOTIFIER_DATABASE_URL"] == f"sqlite+aiosqlite:///{data}/notifier.db"
    )
    assert notifier["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:7092"
    assert notifier["KAFKA_ENABLE_IDEMPOTENCE"] == "false"
    assert notifier["SMTP_HOST"] == "127.0.0.1"
    assert notifier["SMTP_PORT"] == "7025"
    assert notifier["PUBLIC_URL"] == "http://127.0.0.1:7001"
    assert notifier["TOKEN_SEALING_KEY_FILE"] == f"{data}/secrets/token-sealing.key"


def test_with_a_broker_given_none_is_started(tmp_path: Path) -> None:
    settings = StackSettings(data_dir=tmp_path, kafka_bootstrap_servers="kafka:9092")

    stages = stack_stages(settings)

    assert [spec.name for spec in stages[0]] == ["mailbox"]
    identity = stages[2][0].env
    assert identity["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


LAUNCHER = """
import asyncio, os, sys
from devstack.settings import StackSettings
from devstack.stack import ProcessSpec, Stack
from devstack.stack.table import Listens

async def main() -> None:
    port = int(sys.argv[1])
    code = (
        "import socket, time; s = socket.socket(); "
        f"s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(300)"
    )
    spec = ProcessSpec(
        "child", (sys.executable, "-c", code), dict(os.environ),
        Listens("127.0.0.1", port), "cyan",
    )
    stack = Stack(StackSettings(data_dir=sys.argv[2]), stages=[(spec,)])
    await stack.start()
    print("child pid", stack.processes[0].pid, flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""


def test_children_die_when_the_launcher_is_killed(tmp_path: Path) -> None:
    command = [sys.executable, "-c", LAUNCHER, str(free_port()), str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as launcher:
        try:
            assert launcher.stdout is not None
            line = next(ln for ln in launcher.stdout if ln.startswith("child pid"))
            child = int(line.split()[-1])
            assert is_alive(child)
        finally:
            launcher.kill()  # no chance to stop its children

    deadline = time.monotonic() + 10
    while is_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(child)


async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_in_the_foreground_a_child_dying_later_stops_all_and_fails(
    make_stack: MakeStack,
) -> None:
    stack = make_stack([(listener("steady"), listener("fragile"))])
    running = asyncio.create_task(run_in_foreground(stack))
    await until(lambda: "authtrail is up" in printed(stack))
    steady, fragile = stack.processes
    assert steady.pid is not None and fragile.pid is not None

    os.kill(fragile.pid, signal.SIGKILL)

    assert await running == 1
    assert "fragile exited with status -9; stopping" in printed(stack)
    assert not is_alive(steady.pid)


async def test_in_the_foreground_sigterm_during_start_up_stops_cleanly(
    make_stack: MakeStack,
) -> None:
    stack = make_stack([(listener("first"),), (never_ready("slow"),)])
    running = asyncio.create_task(run_in_foreground(stack))
    await until(lambda: len(stack.processes) == 2)
    pids = [p.pid for p in stack.processes if p.pid]

    # The stack's handler has replaced the default action by now.
    os.kill(os.getpid(), signal.SIGTERM)

    assert await running == 0
    assert "stopping during start-up" in printed(stack)
    assert [pid for pid in pids if is_alive(pid)] == []


def test_the_summary_says_where_everything_is(tmp_path: Path) -> None:
    settings = StackSettings(
        data_dir=tmp_path,
        kafka_bootstrap_servers=None,
        identity_port=7001,
        audit_port=7003,
        mailbox_http_port=7025,
        otel_exporter_otlp_endpoint="http://127.0.0.1:4317",
        otel_sdk_disabled=False,
    )

    summary = dict(summary_lines(settings))

    assert summary["identity API docs"] == "http://127.0.0.1:7001/docs"
    assert summary["audit dashboard"] == "http://127.0.0.1:7003/dashboard"
    assert summary["dev mailbox"].startswith("http://127.0.0.1:7025")
    assert summary["broker"].endswith("(embedded Tansu, memory only)")
    assert summary["telemetry"] == (
        "OTLP http://127.0.0.1:4317; Jaeger UI http://127.0.0.1:16686"
    )


async def test_a_missing_program_is_named(make_stack: MakeStack) -> None:
    missing = ProcessSpec(
        "ghost", ("/nonexistent/ghost", "serve"), dict(os.environ), Exits(), "red"
    )
    stack = make_stack([(listener("first"),), (missing,)])

    with pytest.raises(ChildFailed, match=r"ghost could not start: .*No such file"):
        await stack.start()

    assert stack.processes == []
