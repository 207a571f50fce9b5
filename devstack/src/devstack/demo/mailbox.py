"""The dev mailbox as the demo's users read it: wait for a link, take its token."""

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx

from devstack.demo.errors import DemoError, ServiceUnavailable

_POLL = 0.2


class MailboxReader:
    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._opened: set[str] = set()

    async def token(self, address: str, link_path: str) -> str:
        """The token of the newest unopened mail to ``address`` linking to
        ``link_path`` (``/verify``, ``/reset-password``); waits for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while loop.time() < deadline:
            for message in await self._messages(address):
                found = _token(message.get("links", []), link_path)
                message_id = str(message["id"])
                if found is not None and message_id not in self._opened:
                    self._opened.add(message_id)
                    return found
            await asyncio.sleep(_POLL)
        raise DemoError(
            f"no mail with a {link_path} link reached {address} within "
            f"{self._timeout:.0f} s; is the notifier running (see `make run`)?"
        )

    async def _messages(self, address: str) -> list[dict[str, object]]:
        url = f"{self._base}/api/messages"
        try:
            response = await self._http.get(url, params={"to": address})
        except httpx.TransportError as error:
            raise ServiceUnavailable(
                f"the dev mailbox stopped answering at {self._base} ({error!r})"
            ) from error
        response.raise_for_status()
        messages: list[dict[str, object]] = response.json()
        return messages


def _token(links: object, link_path: str) -> str | None:
    if not isinstance(links, list):
        return None
    for link in links:
        parts = urlsplit(str(link))
        tokens = parse_qs(parts.query).get("token")
        if parts.path.endswith(link_path) and tokens:
            return tokens[0]
    return None
