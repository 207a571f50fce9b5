"""The audit API's answers the closing report is made of."""

import asyncio
from typing import Any

import httpx

from devstack.demo.errors import ServiceUnavailable

_POLL = 0.25


class AuditReader:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    async def summary(self, window: str = "1h") -> dict[str, Any]:
        found: dict[str, Any] = await self._get("/v1/metrics/summary", window=window)
        return found

    async def alerts(self, state: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._get("/v1/alerts", state=state)
        return found

    async def events(self, **filters: str | int) -> list[dict[str, Any]]:
        page: dict[str, Any] = await self._get("/v1/events", **filters)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def wait_for_event(
        self, within: float, **filters: str | int
    ) -> dict[str, Any] | None:
        """The newest event matching ``filters``, once the audit has it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            items = await self.events(limit=1, **filters)
            if items or loop.time() >= deadline:
                return items[0] if items else None
            await asyncio.sleep(_POLL)

    async def _get(self, path: str, **params: str | int) -> Any:
        try:
            response = await self._http.get(f"{self._base}{path}", params=params)
        except httpx.TransportError as error:
            raise ServiceUnavailable(
                f"the audit service stopped answering at {self._base} ({error!r})"
            ) from error
        response.raise_for_status()
        return response.json()
