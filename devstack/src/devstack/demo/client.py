"""Identity as the demo's users call it: paced, and patient with 429."""

import asyncio
import email.utils
import time
from typing import Any

import httpx

from devstack.demo.errors import DemoError, ServiceUnavailable
from devstack.demo.pacing import Pacer
from devstack.demo.tally import Tally

_MAX_RATE_LIMITED_RETRIES = 10


class IdentityClient:
    """Sends one request per call, retrying it after each 429 once
    ``Retry-After`` has passed; a paced client waits its turn first."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        tally: Tally,
        *,
        pacer: Pacer | None,
        longest_wait: float,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._tally = tally
        self._pacer = pacer
        self._longest_wait = longest_wait

    async def post(
        self,
        path: str,
        user_agent: str,
        json: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        return await self._send("POST", path, user_agent, json, token)

    async def get(self, path: str, user_agent: str, token: str) -> httpx.Response:
        return await self._send("GET", path, user_agent, None, token)

    async def _send(
        self,
        method: str,
        path: str,
        user_agent: str,
        json: dict[str, Any] | None,
        token: str | None,
    ) -> httpx.Response:
        headers = {"User-Agent": user_agent}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        for _ in range(_MAX_RATE_LIMITED_RETRIES):
            if self._pacer is not None:
                await self._pacer.wait()
            response = await self._request(method, path, headers, json)
            if response.status_code != 429:
                return response
            wait = min(retry_after(response), self._longest_wait)
            self._tally.rate_limited += 1
            self._tally.waited_for_rate_limit += wait
            await asyncio.sleep(wait)
        raise DemoError(
            f"identity kept answering 429 to {method} {path}; "
            "is another client using this address's budget?"
        )

    async def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        json: dict[str, Any] | None,
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method, f"{self._base}{path}", headers=headers, json=json
            )
        except httpx.TransportError as error:
            raise ServiceUnavailable(
                f"identity stopped answering at {self._base} ({error!r}); "
                "is `make run` still up?"
            ) from error
        self._tally.requests += 1
        self._tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            raise DemoError(
                f"identity answered {response.status_code} to {method} {path}: "
                f"{response.text[:300]}"
            )
        return response


def retry_after(response: httpx.Response) -> float:
    """Seconds to wait: ``Retry-After`` as seconds or an HTTP date, else 1."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, when.timestamp() - time.time())
