"""Diagnoses of what the end-to-end journey produced, as the real services
send it.

A support call just after the user got back in: identity counts failed logins
in a row and starts again at a successful login or a completed reset, so
failures before that moment no longer threaten a lock, and the diagnosis must
not say they do (the last-10-minutes figure still counts them all). And the
notifier's template names are read out as words.
"""

from typing import Any

from tests.audit.conftest import Clock, Store, audit_client, audit_settings
from tests.audit.stream import NOW, Account, minutes

CALL = NOW + minutes(60)  # 13:00 UTC


def at(clock: str) -> Any:
    hours, mins = clock.split(":")
    return NOW + minutes((int(hours) - 12) * 60 + int(mins))


async def activity_at_call(store: Store, email: str) -> dict[str, Any]:
    async with audit_client(audit_settings(store.url), Clock(CALL)) as client:
        response = await client.get("/v1/activity", params={"email": email})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_lock_settled_by_a_reset_and_a_login(store: Store) -> None:
    rita = Account("rita@example.com")
    await store.project(
        [
            rita.registered(at("12:00")),
            rita.verified(at("12:01")),
            *(rita.login_failed(at(f"12:5{i + 1}"), attempts=i + 1) for i in range(5)),
            rita.locked(at("12:55")),
            rita.reset_requested(at("12:56")),
            rita.reset_done(at("12:57")),
            rita.unlocked(at("12:57")),
            rita.logged_in(at("12:58")),
        ]
    )

    body = await activity_at_call(store, "rita@example.com")

    assert body["status"] == "recently_reset"
    assert body["diagnosis"] == (
        "Password was reset at 12:57 UTC, which signed out every earlier session and "
        "unlocked the account; the last login succeeded at 12:58 UTC from "
        "198.51.100.7 (Chrome on Windows)."
    )
    assert body["failed_attempts_last_10m"] == 5


async def test_a_typo_followed_by_a_login(store: Store) -> None:
    fred = Account("fred@example.com")
    await store.project(
        [
            fred.registered(at("12:00")),
            fred.verified(at("12:01")),
            fred.login_failed(at("12:57")),
            fred.logged_in(at("12:58")),
        ]
    )

    body = await activity_at_call(store, "fred@example.com")

    assert body["status"] == "ok"
    assert body["diagnosis"] == (
        "No problem found: the last login succeeded at 12:58 UTC from 198.51.100.7 "
        "(Chrome on Windows), after 1 failed login in the last 10 minutes."
    )
    assert body["failed_attempts_last_10m"] == 1


async def test_failures_after_the_last_login_still_count(store: Store) -> None:
    olga = Account("olga@example.com")
    await store.project(
        [
            olga.registered(at("12:00")),
            olga.verified(at("12:01")),
            olga.login_failed(at("12:51")),
            olga.logged_in(at("12:52")),
            olga.login_failed(at("12:56")),
            olga.login_failed(at("12:58")),
        ]
    )

    body = await activity_at_call(store, "olga@example.com")

    assert body["status"] == "failing"
    assert body["diagnosis"] == (
        "Not locked, but 3 failed logins in the last 10 minutes (latest: invalid "
        "password), the last at 12:58 UTC from 198.51.100.7 (Chrome on Windows); "
        "3 more in a row will lock the account for 30 minutes."
    )


async def test_the_last_mail_is_named_in_words(store: Store) -> None:
    uma = Account("uma@example.com")
    await store.project(
        [uma.registered(at("12:30")), uma.email_sent(at("12:31"), "verify_email")]
    )

    body = await activity_at_call(store, "uma@example.com")

    assert body["status"] == "unverified"
    assert body["diagnosis"].endswith(
        "the last email (verification) was delivered at 12:31 UTC."
    )
