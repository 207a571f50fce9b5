"""``/healthz`` (process alive) and ``/readyz`` (dependencies reachable)."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared.http.problems import PROBLEM_BASE, PROBLEM_JSON

ReadinessCheck = Callable[[], Awaitable[None]]

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


def health_router(checks: dict[str, ReadinessCheck], timeout: float = 2.0) -> APIRouter:
    """Probes; each check raises when its dependency is not reachable."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Database and broker are reachable",
        responses={503: {"description": "A dependency is not reachable"}},
    )
    async def readyz() -> JSONResponse:
        failing: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
            except Exception as exc:
                failing[name] = type(exc).__name__
        if not failing:
            return JSONResponse(
                {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
            )
        names = ", ".join(sorted(failing))
        return JSONResponse(
            {
                "type": PROBLEM_BASE + "dependency_unavailable",
                "title": "Not ready",
                "status": 503,
                "detail": f"Not reachable: {names}",
                "failing": failing,
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )

    return router


def broker_check(bootstrap_servers: str) -> ReadinessCheck:
    """A check that the broker answers a metadata request."""
    from aiokafka import AIOKafkaClient

    async def check() -> None:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=2000
        )
        try:
            await client.bootstrap()
        finally:
            await client.close()

    return check
