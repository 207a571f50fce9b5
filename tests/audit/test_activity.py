"""Account activity and the diagnosis a support person reads out."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.audit.conftest import Clock, Store, audit_client, audit_settings, problem_of
from tests.audit.stream import MOBILE_SAFARI, NOW, Account, minutes

# The support call happens at 13:00 UTC; the story starts at 12:00.
CALL = NOW + minutes(60)

LENA = Account("lena@example.com", ip="203.0.113.7", user_agent=MOBILE_SAFARI)
UMA = Account("uma@example.com")
UNA = Account("una@example.com")
NOBODY = Account("nobody@example.com")
PROBED = Account("probed@example.com")
RITA = Account("rita@example.com")
OLGA = Account("olga@example.com")
FRED = Account("fred@example.com")
EXA = Account("exa@example.com")


def at(clock: str) -> Any:
    hours, mins = clock.split(":")
    return NOW + minutes((int(hours) - 12) * 60 + int(mins))


@pytest.fixture(scope="module")
async def support(module_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    await module_store.project(
        [
            # Locked: five wrong passwords in a row from a phone, then one more.
            LENA.registered(at("12:00")),
            LENA.verified(at("12:02")),
            *(LENA.login_failed(at(f"12:5{i + 1}"), attempts=i + 1) for i in range(5)),
            LENA.locked(at("12:55")),
            LENA.login_failed(at("12:56"), reason="account_locked"),
            # Unverified: the verification mail went out, the link was never used.
            UMA.registered(at("12:30")),
            UMA.email_sent(at("12:31")),
            UMA.login_failed(at("12:40"), reason="email_not_verified"),
            # Unverified, and the verification mail bounced.
            UNA.registered(at("12:30")),
            UNA.email_failed(at("12:31")),
            # Never registered: identity answers as for any wrong password.
            NOBODY.login_failed(at("12:55"), reason="unknown_email", registered=False),
            NOBODY.login_failed(at("12:57"), reason="unknown_email", registered=False),
            # Never registered, and locked like a real address would be.
            *(
                PROBED.login_failed(
                    at(f"12:5{i}"), reason="unknown_email", registered=False
                )
                for i in range(5)
            ),
            PROBED.locked(at("12:55"), registered=False),
            # Recently reset: locked, reset the password, logged in again.
            RITA.registered(at("12:00")),
            RITA.verified(at("12:01")),
            *(RITA.login_failed(at(f"12:1{i}")) for i in range(5)),
            RITA.locked(at("12:14")),
            RITA.reset_requested(at("12:20")),
            RITA.reset_done(at("12:25")),
            RITA.unlocked(at("12:25")),
            RITA.logged_in(at("12:26")),
            # All well.
            OLGA.registered(at("12:00")),
            OLGA.verified(at("12:01")),
            OLGA.logged_in(at("12:45")),
            # Failing: two wrong passwords just now, not locked yet.
            FRED.registered(at("12:00")),
            FRED.verified(at("12:01")),
            FRED.login_failed(at("12:55")),
            FRED.login_failed(at("12:58")),
            # A lock that has run out.
            EXA.registered(at("12:00")),
            EXA.verified(at("12:01")),
            EXA.locked(at("12:05")),
        ]
    )
    settings = audit_settings(module_store.url)
    async with audit_client(settings, Clock(CALL)) as client:
        yield client


async def activity(api: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await api.get("/v1/activity", params={"email": email})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_locked_account(support: httpx.AsyncClient) -> None:
    body = await activity(support, "lena@example.com")

    assert body["diagnosis"] == (
        "Locked since 12:55 UTC after 6 failed logins in 10 minutes from "
        "203.0.113.7 (Mobile Safari); unlocks at 13:25 UTC or after a password reset."
    )
    assert body["status"] == "locked"
    assert body["locked"] is True
    assert body["locked_until"] == at("13:25").isoformat()
    assert body["failed_attempts_last_10m"] == 6
    assert body["last_attempt_at"] == at("12:56").isoformat()
    assert body["last_event_type"] == "login_failed"
    assert body["last_reason"] == "account_locked"
    assert body["last_ip"] == "203.0.113.7"
    assert body["last_user_agent"] == MOBILE_SAFARI
    assert body["last_client"] == "Mobile Safari"
    assert len(body["last_trace_id"]) == 32


async def test_the_same_account_by_user_id(support: httpx.AsyncClient) -> None:
    by_email = await activity(support, "lena@example.com")

    response = await support.get(f"/v1/users/{LENA.user_id}/activity")

    assert response.status_code == 200
    assert response.json()["diagnosis"] == by_email["diagnosis"]
    assert response.json()["email"] == "lena@example.com"


async def test_an_address_is_looked_up_trimmed_and_lower_cased(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "  Lena@EXAMPLE.com ")
    assert body["status"] == "locked"


async def test_an_unverified_account_whose_mail_was_delivered(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "uma@example.com")

    assert body["status"] == "unverified"
    assert body["diagnosis"] == (
        "Registered at 12:30 UTC but the email address is not verified yet, so every "
        "login is refused until the verification link is used; the last email "
        "(verification) was delivered at 12:31 UTC."
    )
    assert body["email_verified"] is False
    assert body["last_reason"] == "email_not_verified"


async def test_an_unverified_account_whose_mail_bounced(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "una@example.com")

    assert body["status"] == "unverified"
    assert body["diagnosis"].endswith(
        "the last email (verification) failed at 12:31 UTC: 550 no such user."
    )
    assert body["last_email"]["delivered"] is False


async def test_an_address_that_never_registered_but_tried_to_log_in(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "nobody@example.com")

    assert body["status"] == "never_registered"
    assert body["diagnosis"] == (
        "No account is registered for nobody@example.com; the last attempt was a "
        "login failed at 12:57 UTC from 198.51.100.7 (Chrome on Windows), with 2 "
        "failed logins in the last 10 minutes (check the spelling or register)."
    )
    assert body["registered"] is False
    assert body["user_id"] is None


async def test_an_unknown_address_locked_like_a_real_one(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "probed@example.com")

    assert body["status"] == "never_registered"
    assert body["diagnosis"] == (
        "No account is registered for probed@example.com; 5 failed logins in a row "
        "from 198.51.100.7 (Chrome on Windows) locked the address until 13:25 UTC, "
        "exactly as for a real account."
    )
    assert body["locked"] is True


async def test_an_address_never_seen(support: httpx.AsyncClient) -> None:
    body = await activity(support, "ghost@example.com")

    assert body["status"] == "never_registered"
    assert body["diagnosis"] == (
        "No account is registered for ghost@example.com, and no attempt with this "
        "address has been seen."
    )
    assert body["last_attempt_at"] is None
    assert body["recent_events"] == []


async def test_a_recently_reset_account(support: httpx.AsyncClient) -> None:
    body = await activity(support, "rita@example.com")

    assert body["status"] == "recently_reset"
    assert body["diagnosis"] == (
        "Password was reset at 12:25 UTC, which signed out every earlier session and "
        "unlocked the account; the last login succeeded at 12:26 UTC from "
        "198.51.100.7 (Chrome on Windows)."
    )
    assert body["locked"] is False
    assert body["last_password_reset_at"] == at("12:25").isoformat()


async def test_an_account_where_all_is_well(support: httpx.AsyncClient) -> None:
    body = await activity(support, "olga@example.com")

    assert body["status"] == "ok"
    assert body["diagnosis"] == (
        "No problem found: the last login succeeded at 12:45 UTC from 198.51.100.7 "
        "(Chrome on Windows), with no failed logins in the last 10 minutes."
    )
    assert body["failed_attempts_last_10m"] == 0


async def test_an_account_with_recent_failures_not_yet_locked(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "fred@example.com")

    assert body["status"] == "failing"
    assert body["diagnosis"] == (
        "Not locked, but 2 failed logins in the last 10 minutes (latest: invalid "
        "password), the last at 12:58 UTC from 198.51.100.7 (Chrome on Windows); "
        "3 more in a row will lock the account for 30 minutes."
    )


async def test_a_lock_that_has_run_out_is_not_reported(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "exa@example.com")

    assert body["locked"] is False
    assert body["status"] == "ok"


async def test_the_activity_lists_the_accounts_latest_events(
    support: httpx.AsyncClient,
) -> None:
    body = await activity(support, "rita@example.com")

    kinds = [e["event_type"] for e in body["recent_events"]]
    assert kinds[0] == "login_success"
    # The reset and the unlock it caused happened at the same instant.
    assert set(kinds[1:3]) == {"account_unlocked", "password_reset_success"}
    assert len(kinds) == 10
    assert all("sealed_token" not in e["data"] for e in body["recent_events"])


async def test_an_unknown_user_id_is_a_404_problem(support: httpx.AsyncClient) -> None:
    response = await support.get(f"/v1/users/{uuid.uuid4()}/activity")

    assert response.status_code == 404
    assert problem_of(response)["type"].endswith("/not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/not-a-uuid/activity",
        "/v1/activity",
        "/v1/activity?email=",
        "/v1/activity?email=%20%20",
        "/v1/activity?email=lena%00@example.com",
        "/dashboard?account=lena%00@example.com",
    ],
)
async def test_a_bad_lookup_is_a_422_problem(
    support: httpx.AsyncClient, path: str
) -> None:
    response = await support.get(path)

    assert response.status_code == 422
    assert problem_of(response)["type"].endswith("/validation_error")


async def test_the_dashboard_shows_a_searched_account(
    support: httpx.AsyncClient,
) -> None:
    response = await support.get("/dashboard", params={"account": " LENA@example.com"})

    assert response.status_code == 200
    assert "Locked since 12:55 UTC after 6 failed logins" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_dashboard_says_when_a_user_id_names_nobody(
    support: httpx.AsyncClient,
) -> None:
    unknown = uuid.uuid4()
    response = await support.get("/dashboard", params={"account": str(unknown)})

    assert response.status_code == 200
    assert f"No audit event names the user id {unknown}." in response.text
