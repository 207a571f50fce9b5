"""What every benchmark shares: options, a work folder, the broker, databases."""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.databases import Databases
from bench.processes import python_module
from devstack.broker import EmbeddedBroker

ARGON2 = {"memory_kib": 19_456, "time_cost": 2, "parallelism": 1}


@dataclass(frozen=True)
class Options:
    quick: bool = False
    runs: int = 3
    duration: float = 8.0
    warmup: float = 2.0
    profile: bool = True
    only: frozenset[str] = frozenset()
    postgres_dsn: str | None = None
    ingest_events: int = 100_000
    # Settings given to every identity the benchmarks start (--identity-env).
    identity_env: tuple[tuple[str, str], ...] = ()

    @property
    def cores(self) -> int:
        return os.cpu_count() or 1


@dataclass
class Lab:
    options: Options
    work_dir: Path
    databases: Databases
    _broker: EmbeddedBroker | None = field(default=None, init=False)

    async def broker(self) -> str:
        """Bootstrap servers of a shared embedded broker, started on first use."""
        if self._broker is None:
            self._broker = EmbeddedBroker()
            await self._broker.astart()
        return self._broker.bootstrap_servers

    def log(self, name: str) -> Path:
        return self.work_dir / "logs" / f"{name}.log"

    async def argon2_limit(self, seconds: float) -> float:
        """Raw verifications per second in one thread per core, right now."""
        spec = {"threads": self.options.cores, "seconds": seconds, **ARGON2}
        result = await python_module("bench.argon2_limit", spec, self.log("limit"))
        return float(result["per_second"])

    async def load(self, spec: dict[str, Any], name: str = "loadgen") -> Any:
        return await python_module("bench.loadgen", spec, self.log(name))

    async def close(self) -> None:
        if self._broker is not None:
            await self._broker.astop()
            self._broker = None
        await self.databases.drop_all()
