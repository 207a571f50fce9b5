"""What a user, a support person and a test reader see of the running system:
the identity API, the dev mailbox and the audit API over real HTTP."""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.system import RunningSystem
from tests.polling import eventually

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
MAIL_WAIT = 60.0
AUDIT_WAIT = 60.0


@dataclass
class Person:
    email: str
    password: str
    ip: str = "203.0.113.10"
    """Sent as X-Forwarded-For: the system under test trusts 127.0.0.1 as a proxy."""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, label: str, ip: str = "203.0.113.10") -> "Person":
        tag = uuid.uuid4().hex[:8]
        return cls(f"{label}.{tag}@example.com", f"lantern-{tag}-quartz", ip)

    def request_headers(self) -> dict[str, str]:
        return {"User-Agent": BROWSER, "X-Forwarded-For": self.ip, **self.headers}


class Identity:
    def __init__(self, http: httpx.AsyncClient, system: RunningSystem) -> None:
        self._http = http
        self._base = system.identity_url

    async def post(
        self,
        path: str,
        person: Person,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = person.request_headers() | (headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return await self._http.post(f"{self._base}{path}", json=body, headers=sent)

    async def register(
        self, person: Person, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = {"email": person.email, "password": person.password}
        return await self.post("/v1/users", person, body, headers=headers)

    async def log_in(
        self, person: Person, password: str | None = None
    ) -> httpx.Response:
        body = {"email": person.email, "password": password or person.password}
        return await self.post("/v1/auth/token", person, body)

    async def me(self, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await self._http.get(f"{self._base}/v1/users/me", headers=headers)


class Mailbox:
    def __init__(self, http: httpx.AsyncClient, system: RunningSystem) -> None:
        self._http = http
        self._base = system.mailbox_url

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        params = {"to": to} if to else {}
        response = await self._http.get(f"{self._base}/api/messages", params=params)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    async def per_recipient(self) -> Counter[str]:
        return Counter(message["to"] for message in await self.messages())

    async def wait_for(self, to: str, count: int = 1) -> list[dict[str, Any]]:
        """The messages to ``to``, newest first, once there are ``count``."""

        async def enough() -> list[dict[str, Any]]:
            found = await self.messages(to)
            return found if len(found) >= count else []

        return await eventually(enough, MAIL_WAIT, f"{count} mail(s) to {to}")

    async def token(self, to: str, link_path: str) -> str:
        """The token of the newest mail to ``to`` linking to ``link_path``."""

        async def linked() -> list[str]:
            return [
                token
                for message in await self.messages(to)
                if (token := link_token(message, link_path)) is not None
            ]

        tokens = await eventually(linked, MAIL_WAIT, f"a {link_path} mail to {to}")
        return tokens[0]


def link_token(message: dict[str, Any], link_path: str) -> str | None:
    for link in message["links"]:
        parts = urlsplit(link)
        if parts.path.endswith(link_path):
            return str(parse_qs(parts.query)["token"][0])
    return None


class Audit:
    def __init__(self, http: httpx.AsyncClient, system: RunningSystem) -> None:
        self._http = http
        self._base = system.audit_url

    async def get(self, path: str, **params: str | int) -> Any:
        response = await self._http.get(f"{self._base}{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, **filters: str | int) -> list[dict[str, Any]]:
        """Every event matching ``filters``, newest first, all pages."""
        items: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": 1000, **filters}
        while True:
            page = await self.get("/v1/events", **params)
            items.extend(page["items"])
            if page["next_cursor"] is None:
                return items
            params["cursor"] = page["next_cursor"]

    async def wait_for_events(
        self, count: int, **filters: str | int
    ) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]]:
            found = await self.events(**filters)
            return found if len(found) >= count else []

        return await eventually(
            enough, AUDIT_WAIT, f"{count} audit event(s) with {filters}"
        )

    async def activity(self, email: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.get("/v1/activity", email=email)
        return found


@dataclass
class Clients:
    identity: Identity
    mailbox: Mailbox
    audit: Audit

    @classmethod
    def of(cls, http: httpx.AsyncClient, system: RunningSystem) -> "Clients":
        return cls(Identity(http, system), Mailbox(http, system), Audit(http, system))
