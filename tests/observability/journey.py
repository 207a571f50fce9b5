"""One account's whole life over real HTTP, remembering every secret it used.

Register, verify with the token from the mail, fail a login, log in, read the
profile, log out, forget the password, reset it with the token from the mail,
log in with the new one. Each step waits until its event reached the audit
store, so the steps' telemetry does not overlap in time.
"""

import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx

from devstack.settings import StackSettings
from identity.application.single_use_tokens import hash_token
from tests.polling import eventually

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
WAIT = 60.0


@dataclass
class Journey:
    email: str
    secrets: list[str] = field(default_factory=list)
    """Passwords, raw tokens from the mails, their hashes, the JWTs and their parts."""
    steps: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Step name to (start, end) in Unix nanoseconds: a step ends as the next starts."""
    user_id: str = ""

    def remember(self, *secrets: str) -> None:
        for secret in secrets:
            self.secrets.append(secret)
            if secret.count(".") == 2:  # a JWT: each part alone is telling too
                self.secrets.extend(part for part in secret.split(".") if part)


class JourneyRunner:
    def __init__(self, http: httpx.AsyncClient, settings: StackSettings) -> None:
        self._http = http
        self._settings = settings
        self._step: str | None = None
        self._started = 0

    async def run(self) -> Journey:
        tag = uuid.uuid4().hex[:8]
        journey = Journey(email=f"trail.{tag}@example.com")
        password = f"lantern-{tag}-quartz"
        wrong = f"wrong-{tag}-guess"
        new_password = f"harbour-{tag}-cobalt"
        journey.remember(password, wrong, new_password)
        steps = journey.steps

        self._begin(steps, "register")
        await self._post(
            "/v1/users", {"email": journey.email, "password": password}, status=202
        )
        verification = await self._token_from_mail(journey.email, "/verify")
        journey.remember(verification, hash_token(verification))
        await self._audited(journey.email, "registration_success")

        self._begin(steps, "verify")
        verified = await self._post("/v1/users/verification", {"token": verification})
        journey.user_id = verified.json()["user_id"]
        await self._audited(journey.email, "email_verified")

        self._begin(steps, "failed_login")
        await self._post(
            "/v1/auth/token", {"email": journey.email, "password": wrong}, status=401
        )
        await self._audited(journey.email, "login_failed")

        self._begin(steps, "login")
        jwt = await self._log_in(journey.email, password)
        journey.remember(jwt)
        await self._audited(journey.email, "login_success")

        self._begin(steps, "me_and_logout")
        bearer = {"Authorization": f"Bearer {jwt}"}
        me = await self._http.get(self._identity("/v1/users/me"), headers=bearer)
        assert me.status_code == 200, me.text
        await self._post("/v1/auth/logout", None, status=204, headers=bearer)
        await self._audited(journey.email, "logout")

        self._begin(steps, "forgot")
        await self._post("/v1/password/forgot", {"email": journey.email}, status=202)
        reset = await self._token_from_mail(journey.email, "/reset-password")
        journey.remember(reset, hash_token(reset))
        await self._audited(journey.email, "password_reset_requested")

        self._begin(steps, "reset")
        await self._post(
            "/v1/password/reset", {"token": reset, "new_password": new_password}
        )
        await self._audited(journey.email, "password_reset_success")

        self._begin(steps, "login_again")
        journey.remember(await self._log_in(journey.email, new_password))
        await self._audited(journey.email, "login_success", count=2)
        self._begin(steps, "end")
        return journey

    def _begin(self, steps: dict[str, tuple[int, int]], name: str) -> None:
        now = time.time_ns()
        if self._step is not None:
            steps[self._step] = (self._started, now)
        self._step, self._started = name, now

    def _identity(self, path: str) -> str:
        return f"{self._settings.identity_url}{path}"

    async def _post(
        self,
        path: str,
        body: dict[str, str] | None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        response = await self._http.post(
            self._identity(path),
            json=body,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
        )
        assert response.status_code == status, (path, response.text)
        return response

    async def _log_in(self, email: str, password: str) -> str:
        response = await self._post(
            "/v1/auth/token", {"email": email, "password": password}
        )
        token: str = response.json()["access_token"]
        return token

    async def _token_from_mail(self, email: str, path: str) -> str:
        async def link() -> str:
            answer = await self._http.get(
                f"{self._settings.mailbox_url}/api/messages", params={"to": email}
            )
            for message in answer.json():
                for url in message["links"]:
                    parts = urlsplit(url)
                    if parts.path == path:
                        return str(parse_qs(parts.query)["token"][0])
            return ""

        return await eventually(link, WAIT, f"a mail to {email} linking to {path}")

    async def _audited(self, email: str, event_type: str, count: int = 1) -> None:
        url = f"{self._settings.audit_url}/v1/events"

        async def stored() -> bool:
            answer = await self._http.get(
                url, params={"email": email, "event_type": event_type}
            )
            return answer.status_code == 200 and len(answer.json()["items"]) >= count

        await eventually(stored, WAIT, f"{count} {event_type} of {email} audited")
