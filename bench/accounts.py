"""Verified accounts to log in with, made through identity's own API.

Registration and verification go over HTTP; the verification token is taken
the way the notifier takes it: the sealed token of ``registration_success``
(read here from identity's outbox table) opened with the sealing key.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.sealing import TokenSealer

PASSWORD = "Bench-marking 4 a living!"


@dataclass(frozen=True)
class Account:
    email: str
    password: str


async def register_and_verify(
    url: str, database_url: str, sealer: TokenSealer, count: int, label: str
) -> list[Account]:
    run = uuid.uuid4().hex[:6]
    accounts = [
        Account(f"{label}-{run}-{i}@bench.example.com", PASSWORD) for i in range(count)
    ]
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        gate = asyncio.Semaphore(4)

        async def register(account: Account) -> None:
            async with gate:
                response = await http.post(
                    "/v1/users",
                    json={"email": account.email, "password": account.password},
                )
                response.raise_for_status()

        await asyncio.gather(*(register(a) for a in accounts))
        tokens = await _verification_tokens(database_url, sealer, accounts)
        for token in tokens:
            answer = await http.post("/v1/users/verification", json={"token": token})
            answer.raise_for_status()
    return accounts


async def _verification_tokens(
    database_url: str, sealer: TokenSealer, accounts: list[Account]
) -> list[str]:
    wanted = {a.email for a in accounts}
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT message_value FROM outbox"))
            envelopes = [json.loads(bytes(row[0])) for row in rows]
    finally:
        await engine.dispose()
    tokens = [
        sealer.unseal(e["data"]["sealed_token"])
        for e in envelopes
        if e["event_type"] == "registration_success" and e["email"] in wanted
    ]
    if len(tokens) != len(wanted):
        raise RuntimeError(f"{len(tokens)} verification tokens for {len(wanted)}")
    return tokens


def login_requests(
    accounts: list[Account],
    kind: str = "success",
    form: bool = False,
    path: str = "/v1/auth/token",
) -> list[dict[str, object]]:
    """One login request per account: ``success``, ``wrong_password`` or
    ``unknown_email`` (the same addresses on another domain)."""
    requests: list[dict[str, object]] = []
    for account in accounts:
        email, password = account.email, account.password
        if kind == "wrong_password":
            password = password + "?"
        elif kind == "unknown_email":
            email = email.replace("@bench.", "@nobody.")
        if form:
            body: dict[str, object] = {
                "form": {"username": email, "password": password}
            }
        else:
            body = {"json": {"email": email, "password": password}}
        requests.append({"method": "POST", "path": path, **body})
    return requests
