"""The one sentence a support person reads out about an account.

Cases, most urgent first: never registered, locked, unverified, failing
(failed logins but not locked), recently reset, all well.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from audit.domain.account import AccountState
from audit.domain.user_agent import describe_user_agent

# The notifier's template names, as a support person would say them.
_MAILS = {
    "verify_email": "verification",
    "reset_password": "password reset",
    "account_locked": "account locked",
    "password_changed": "password changed",
    "registration_attempt": "registration attempt",
}

LOCK_AFTER_FAILURES = 5  # CONTRACT.md: 5 consecutive failed logins lock an address


class AccountStatus(StrEnum):
    NEVER_REGISTERED = "never_registered"
    LOCKED = "locked"
    UNVERIFIED = "unverified"
    FAILING = "failing"
    RECENTLY_RESET = "recently_reset"
    OK = "ok"


@dataclass(frozen=True)
class Diagnosis:
    status: AccountStatus
    sentence: str


def diagnose(
    state: AccountState | None,
    address: str,
    failed_last_10m: int,
    now: datetime,
    *,
    unsettled: int | None = None,
) -> Diagnosis:
    """Judge an account from its state and its failed logins of the last 10 min.

    ``unsettled``: how many of those came after the newest successful login
    or completed reset (all of them when not given); only these make an
    account "failing", since identity's count starts again at a success.
    """
    if state is None or not state.registered:
        return Diagnosis(
            AccountStatus.NEVER_REGISTERED,
            _never_registered(state, address, failed_last_10m, now),
        )
    if state.locked(now):
        return Diagnosis(AccountStatus.LOCKED, _locked(state, failed_last_10m, now))
    if not state.verified:
        return Diagnosis(AccountStatus.UNVERIFIED, _unverified(state, now))
    in_a_row = failed_last_10m if unsettled is None else unsettled
    if in_a_row > 0:
        return Diagnosis(
            AccountStatus.FAILING, _failing(state, failed_last_10m, in_a_row, now)
        )
    if state.recently_reset(now):
        return Diagnosis(AccountStatus.RECENTLY_RESET, _reset(state, now))
    return Diagnosis(AccountStatus.OK, _all_well(state, failed_last_10m, now))


def _never_registered(
    state: AccountState | None, address: str, failed: int, now: datetime
) -> str:
    opening = f"No account is registered for {address}"
    if state is None or state.last_attempt_at is None:
        return f"{opening}, and no attempt with this address has been seen."
    if state.locked(now) and state.locked_until is not None:
        return (
            f"{opening}; {_lock_cause(state, failed)} from "
            f"{_origin(state.lock_ip, state.lock_user_agent)} locked the address "
            f"until {_when(state.locked_until, now)}, exactly as for a real account."
        )
    attempt = (state.last_attempt_type or "attempt").replace("_", " ")
    return (
        f"{opening}; the last attempt was a {attempt} at "
        f"{_when(state.last_attempt_at, now)} from "
        f"{_origin(state.last_attempt_ip, state.last_attempt_user_agent)}, with "
        f"{_logins(failed)} in the last 10 minutes (check the spelling or register)."
    )


def _locked(state: AccountState, failed: int, now: datetime) -> str:
    assert state.locked_at is not None and state.locked_until is not None
    return (
        f"Locked since {_when(state.locked_at, now)} after "
        f"{_lock_cause(state, failed)} from "
        f"{_origin(state.lock_ip, state.lock_user_agent)}; unlocks at "
        f"{_when(state.locked_until, now)} or after a password reset."
    )


def _lock_cause(state: AccountState, failed: int) -> str:
    """The failures behind a lock: those of the last 10 minutes when they
    include the run that locked it, else that run."""
    at_lock = state.lock_failed_attempts or LOCK_AFTER_FAILURES
    if failed >= at_lock:
        return f"{_logins(failed)} in 10 minutes"
    return f"{_logins(at_lock)} in a row"


def _unverified(state: AccountState, now: datetime) -> str:
    registered = (
        f"Registered at {_when(state.registered_at, now)}"
        if state.registered_at
        else "Registered"
    )
    return (
        f"{registered} but the email address is not verified yet, so every login "
        f"is refused until the verification link is used; {_last_email(state, now)}."
    )


def _failing(state: AccountState, failed: int, in_a_row: int, now: datetime) -> str:
    reason = (state.last_attempt_reason or "").replace("_", " ")
    latest = f" (latest: {reason})" if reason else ""
    left = max(LOCK_AFTER_FAILURES - in_a_row, 1)
    return (
        f"Not locked, but {_logins(failed)} in the last 10 minutes{latest}, the "
        f"last at {_when(state.last_attempt_at, now)} from "
        f"{_origin(state.last_attempt_ip, state.last_attempt_user_agent)}; "
        f"{left} more in a row will lock the account for 30 minutes."
    )


def _reset(state: AccountState, now: datetime) -> str:
    assert state.reset_at is not None
    since = (
        f"the last login succeeded at {_when(state.last_login_at, now)} from "
        f"{_origin(state.last_login_ip, state.last_login_user_agent)}"
        if state.last_login_at and state.last_login_at >= state.reset_at
        else "there has been no login since"
    )
    return (
        f"Password was reset at {_when(state.reset_at, now)}, which signed out every "
        f"earlier session and unlocked the account; {since}."
    )


def _all_well(state: AccountState, failed: int, now: datetime) -> str:
    if state.last_login_at is None:
        return (
            "No problem found: the account is registered and verified, with no "
            "failed logins in the last 10 minutes; it has not logged in yet."
        )
    before = (
        f"after {_logins(failed)} in the last 10 minutes"
        if failed
        else "with no failed logins in the last 10 minutes"
    )
    return (
        f"No problem found: the last login succeeded at "
        f"{_when(state.last_login_at, now)} from "
        f"{_origin(state.last_login_ip, state.last_login_user_agent)}, {before}."
    )


def _last_email(state: AccountState, now: datetime) -> str:
    if state.last_email_at is None:
        return "no email delivery has been recorded for it (a resend sends a new link)"
    kind = state.last_email_template
    template = f" ({_MAILS.get(kind, kind.replace('_', ' '))})" if kind else ""
    if state.last_email_success:
        when = _when(state.last_email_at, now)
        return f"the last email{template} was delivered at {when}"
    error = f": {state.last_email_error}" if state.last_email_error else ""
    return (
        f"the last email{template} failed at {_when(state.last_email_at, now)}{error}"
    )


def _logins(count: int) -> str:
    return f"{count} failed login" + ("" if count == 1 else "s")


def _origin(ip: str | None, user_agent: str | None) -> str:
    client = describe_user_agent(user_agent)
    where = ip or "an unknown address"
    return f"{where} ({client})" if client else where


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "an unknown time"
    if at.date() == now.date():
        return f"{at:%H:%M} UTC"
    return f"{at.day} {at:%b %Y %H:%M} UTC"
