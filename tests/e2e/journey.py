"""One person's whole story through the running system, checked at every step
the way the person (HTTP answers, mail) and a support person (audit) see it."""

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.clients import Clients, Person
from tests.polling import eventually

WRONG_PASSWORD = "not-my-password-7"


def problem_code(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["type"]).rsplit("/", 1)[-1]


async def walk_the_journey(clients: Clients, person: Person) -> str:
    """Register, verify, log in, get locked, reset, log in again; the user id."""
    identity, mailbox = clients.identity, clients.mailbox

    registered = await identity.register(person)
    assert registered.status_code == 202
    assert registered.json() == {"status": "verification_pending"}

    token = await mailbox.token(person.email, "/verify")
    verified = await identity.post("/v1/users/verification", person, {"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    user_id = str(verified.json()["user_id"])

    logged_in = await identity.log_in(person)
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json()["token_type"] == "bearer"
    first_token = str(logged_in.json()["access_token"])
    me = await identity.me(first_token)
    assert me.status_code == 200
    assert me.json()["email"] == person.email
    assert me.json()["email_verified"] is True

    for _ in range(4):
        refused = await identity.log_in(person, WRONG_PASSWORD)
        assert refused.status_code == 401
        assert problem_code(refused) == "invalid_credentials"
    fifth = await identity.log_in(person, WRONG_PASSWORD)
    assert fifth.status_code == 423
    assert problem_code(fifth) == "account_locked"
    assert int(fifth.headers["retry-after"]) > 0
    right_but_locked = await identity.log_in(person)
    assert right_but_locked.status_code == 423

    locked_mail = await mailbox.wait_for(person.email, count=2)
    assert "locked" in locked_mail[0]["subject"]
    while_locked = await activity_once(clients, person, lambda a: a["locked"])
    assert while_locked["status"] == "locked"
    assert while_locked["diagnosis"].startswith("Locked since ")
    assert person.ip in while_locked["diagnosis"]

    forgot = await identity.post("/v1/password/forgot", person, {"email": person.email})
    assert forgot.status_code == 202
    token = await mailbox.token(person.email, "/reset-password")
    new_password = f"{person.password}-renewed"
    reset = await identity.post(
        "/v1/password/reset", person, {"token": token, "new_password": new_password}
    )
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"status": "password_reset"}

    assert (await identity.me(first_token)).status_code == 401
    assert (await identity.log_in(person)).status_code == 401  # the old password
    person.password = new_password
    again = await identity.log_in(person)
    assert again.status_code == 200, again.text
    assert (await identity.me(str(again.json()["access_token"]))).status_code == 200
    return user_id


async def activity_once(
    clients: Clients, person: Person, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The person's audit activity once ``ready`` holds (projection catches up)."""

    async def answer() -> dict[str, Any] | None:
        found = await clients.audit.activity(person.email)
        return found if ready(found) else None

    found: dict[str, Any] = await eventually(answer, 60, f"activity of {person.email}")
    return found


JOURNEY_EVENTS = [
    ("registration_success", None),
    ("email_verified", None),
    ("login_success", None),
    *[("login_failed", "invalid_password")] * 5,
    ("account_locked", None),
    ("login_failed", "account_locked"),
    ("password_reset_requested", None),
    ("password_reset_success", None),
    ("account_unlocked", None),
    ("login_failed", "invalid_password"),
    ("login_success", None),
]
"""What identity records for the journey, in the order of the user's stream."""

JOURNEY_MAILS = {"verify_email", "account_locked", "reset_password", "password_changed"}


async def then_the_audit_tells_the_journey(
    clients: Clients, person: Person, user_id: str
) -> None:
    """Events, mails and the account's activity as a support person reads them."""
    everything = await eventually(
        lambda: _all_recorded(clients, user_id), 60, "the journey's events"
    )
    told = sorted(
        (e for e in everything if e["stream_version"] is not None),
        key=lambda e: e["stream_version"],
    )
    assert [(e["event_type"], e["reason"]) for e in told] == JOURNEY_EVENTS
    assert {e["ip"] for e in told} == {person.ip}
    assert all(e["trace_id"] and len(e["trace_id"]) == 32 for e in told)
    mails = [e for e in everything if e["event_type"] == "email_sent"]
    assert {e["data"]["template"] for e in mails} == JOURNEY_MAILS
    assert "sealed_token" not in str(everything)
    assert person.password not in str(everything)

    per_address = Counter(m["to"] for m in await clients.mailbox.messages(person.email))
    assert per_address == {person.email: len(JOURNEY_MAILS)}

    after = await activity_once(
        clients, person, lambda a: a["last_event_type"] == "login_success"
    )
    assert after["status"] == "recently_reset"
    assert after["locked"] is False
    assert after["email_verified"] is True
    assert after["last_ip"] == person.ip
    assert after["diagnosis"].startswith("Password was reset at ")
    assert "the last login succeeded at" in after["diagnosis"]


async def _all_recorded(clients: Clients, user_id: str) -> list[dict[str, Any]]:
    found = await clients.audit.events(user_id=user_id)
    identity_events = [e for e in found if e["stream_version"] is not None]
    mails = [e for e in found if e["event_type"] == "email_sent"]
    done = len(identity_events) == len(JOURNEY_EVENTS) and len(mails) == len(
        JOURNEY_MAILS
    )
    return found if done else []
