"""What the edge knows about the request that caused a command."""

import time
from dataclasses import dataclass, field

MAX_USER_AGENT_CHARS = 512


@dataclass(frozen=True)
class RequestContext:
    """The client as far as it can be told, and when the request started."""

    ip: str | None = None
    user_agent: str | None = None
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if self.user_agent is not None and len(self.user_agent) > MAX_USER_AGENT_CHARS:
            object.__setattr__(
                self, "user_agent", self.user_agent[:MAX_USER_AGENT_CHARS]
            )

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)
