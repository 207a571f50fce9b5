"""The scenes of a demo: what users and the attacker do, step by step.

Every step checks the answer a real client would get and stops the demo with
a clear message when identity answers something the contract does not say.
"""

import asyncio
import random
from dataclasses import dataclass

import httpx

from devstack.demo.client import IdentityClient
from devstack.demo.errors import DemoError
from devstack.demo.mailbox import MailboxReader
from devstack.demo.people import (
    ATTACKER_AGENT,
    Persona,
    guessed_password,
    mistyped,
    new_password,
)
from devstack.demo.tally import Tally

LOCKOUT_THRESHOLD = 5
"""Consecutive failures that lock an address (CONTRACT.md)."""

STUFFING_CONCURRENCY = 4


@dataclass
class Crowd:
    """What every scene works with, and what it leaves for the report."""

    users: IdentityClient
    attacker: IdentityClient
    mailbox: MailboxReader
    rng: random.Random
    tally: Tally
    started_at: float
    first_login_after: float | None = None
    last_event: tuple[str, str] | None = None
    """(address, event type) of the demo's last request: the audit has
    caught up once it shows that event."""


async def onboard(crowd: Crowd, person: Persona, *, impatient: bool) -> None:
    """Register, open the mail, verify, log in, look at the profile, log out.

    An impatient user tries to log in before verifying (403); a clumsy one
    mistypes the password once first.
    """
    agent = person.user_agent
    credentials = {"email": person.email, "password": person.password}
    expect(await crowd.users.post("/v1/users", agent, credentials), 202, "register")
    crowd.tally.registered += 1
    if impatient:
        expect(await log_in(crowd, person), 403, "log in before verifying")

    token = await crowd.mailbox.token(person.email, "/verify")
    crowd.tally.mails_read += 1
    verified = await crowd.users.post("/v1/users/verification", agent, {"token": token})
    expect(verified, 200, "verify the address")
    crowd.tally.verified += 1
    await session(crowd, person, clumsy=crowd.rng.random() < 0.3)


async def session(crowd: Crowd, person: Persona, *, clumsy: bool) -> None:
    """Log in (after one typo when clumsy), read the profile, log out."""
    if clumsy:
        typo = mistyped(person.password, crowd.rng)
        expect(await log_in(crowd, person, typo), 401, "log in with a typo")
    response = expect(await log_in(crowd, person), 200, "log in")
    access = str(response.json()["access_token"])
    agent = person.user_agent
    expect(await crowd.users.get("/v1/users/me", agent, access), 200, "read profile")
    logout = await crowd.users.post("/v1/auth/logout", agent, token=access)
    expect(logout, 204, "log out")
    crowd.tally.logouts += 1
    crowd.last_event = (person.email, "logout")


async def lock_out(crowd: Crowd, person: Persona) -> None:
    """Wrong passwords until the account locks; then even the right one gets 423."""
    for _ in range(LOCKOUT_THRESHOLD):
        guess = mistyped(person.password, crowd.rng)
        response = await log_in(crowd, person, guess)
        if response.status_code == 423:
            break
        expect(response, 401, "log in with a wrong password")
    expect(await log_in(crowd, person), 423, "log in while locked")
    crowd.tally.locked += 1
    crowd.last_event = (person.email, "login_failed")


async def reset_password(crowd: Crowd, person: Persona) -> None:
    """Forgot, open the mail, choose a new password, log in with it."""
    agent = person.user_agent
    forgot = await crowd.users.post(
        "/v1/password/forgot", agent, {"email": person.email}
    )
    expect(forgot, 202, "ask for a password reset")
    token = await crowd.mailbox.token(person.email, "/reset-password")
    crowd.tally.mails_read += 1
    password = new_password(crowd.rng)
    reset = await crowd.users.post(
        "/v1/password/reset", agent, {"token": token, "new_password": password}
    )
    expect(reset, 200, "reset the password")
    person.password = password
    crowd.tally.resets += 1
    await session(crowd, person, clumsy=False)


async def stuff_credentials(crowd: Crowd, addresses: list[str]) -> None:
    """One client address tries a leaked password on each address, fast."""
    gate = asyncio.Semaphore(STUFFING_CONCURRENCY)

    async def attempt(address: str) -> None:
        body = {"email": address, "password": guessed_password(crowd.rng)}
        async with gate:
            response = await crowd.attacker.post("/v1/auth/token", ATTACKER_AGENT, body)
        crowd.tally.stuffing_attempts += 1
        count_login(crowd, response)
        if response.status_code not in (401, 423):
            expect(response, 401, "credential stuffing attempt")

    await asyncio.gather(*(attempt(address) for address in addresses))
    crowd.last_event = (addresses[-1], "login_failed")


async def mixed_traffic(
    crowd: Crowd, people: list[Persona], seconds: float, workers: int
) -> None:
    """Users coming back to log in and out, some mistyping, for ``seconds``."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    idle = list(people)

    async def worker() -> None:
        while loop.time() < until and idle:
            person = idle.pop(crowd.rng.randrange(len(idle)))
            try:
                await session(crowd, person, clumsy=crowd.rng.random() < 0.15)
            finally:
                idle.append(person)

    await asyncio.gather(*(worker() for _ in range(max(1, workers))))


async def log_in(
    crowd: Crowd, person: Persona, password: str | None = None
) -> httpx.Response:
    body = {"email": person.email, "password": password or person.password}
    response = await crowd.users.post("/v1/auth/token", person.user_agent, body)
    count_login(crowd, response)
    return response


def count_login(crowd: Crowd, response: httpx.Response) -> None:
    if response.status_code != 200:
        crowd.tally.failed_logins += 1
        return
    crowd.tally.logins += 1
    if crowd.first_login_after is None:
        now = asyncio.get_running_loop().time()
        crowd.first_login_after = now - crowd.started_at


def expect(response: httpx.Response, status: int, step: str) -> httpx.Response:
    if response.status_code != status:
        raise DemoError(
            f"{step}: identity answered {response.status_code} where {status} "
            f"was expected: {response.text[:300]}"
        )
    return response
