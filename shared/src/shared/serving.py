"""Running an ASGI app under uvicorn with the project's logging."""

import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    """Runs ``on_stopped`` once the server has shut down gracefully, before
    uvicorn re-raises the signal that stopped it (which ends the process
    without running the caller's ``finally`` blocks)."""

    def __init__(self, config: uvicorn.Config, on_stopped: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stopped = on_stopped

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._on_stopped()


def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    on_stopped: Callable[[], None] = lambda: None,
) -> None:
    """Serve until SIGINT/SIGTERM; logging stays as the telemetry set it up.

    ``on_stopped`` runs after the graceful shutdown, also when a signal ended
    it: the place to flush telemetry.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    _Server(config, on_stopped).run()
