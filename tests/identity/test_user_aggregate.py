"""The user aggregate, as given events / when a command / then events."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from identity.domain.emails import normalise_email
from identity.domain.errors import CorruptStream
from identity.domain.events import (
    AccountLocked,
    AccountUnlocked,
    DomainEvent,
    EmailVerificationFailed,
    EmailVerified,
    IssuedToken,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    PasswordReset,
    PasswordResetFailed,
    PasswordResetRequested,
    Recorded,
    RegistrationRefused,
    UserRegistered,
    VerificationResendRefused,
    VerificationResent,
)
from identity.domain.lockout import LockoutPolicy, LoginOutcome
from identity.domain.user import User, register
from shared.events import FailureReason

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USER_ID = UUID("00000000-0000-4000-8000-000000000001")
POLICY = LockoutPolicy(threshold=3, duration=timedelta(minutes=30))
VERIFICATION = IssuedToken("v" * 64, T0 + timedelta(hours=24))
REGISTERED = register(
    USER_ID, normalise_email("Ada@Example.com"), "hash-1", VERIFICATION
)[0]


def given(*events: DomainEvent) -> User:
    user = User.fold(Recorded(e, n, T0) for n, e in enumerate(events, start=1))
    assert user is not None
    return user


def log_in(
    user: User, matches: bool, at: datetime = T0
) -> tuple[LoginOutcome, list[DomainEvent]]:
    decision = user.log_in(
        password_matches=matches, now=at, policy=POLICY, token_id="jti-1"
    )
    return decision.outcome, decision.events


def failures(*counts: int) -> list[DomainEvent]:
    return [LoginFailed(FailureReason.INVALID_PASSWORD, n) for n in counts]


def test_registering_starts_a_stream_with_the_stored_and_canonical_address() -> None:
    assert (
        UserRegistered(
            user_id=USER_ID,
            email="Ada@example.com",
            canonical_email="ada@example.com",
            password_hash="hash-1",
            verification=VERIFICATION,
        )
        == REGISTERED
    )
    user = given(REGISTERED)
    assert (user.email, user.verified, user.version) == ("Ada@example.com", False, 1)


def test_registering_an_address_already_held_is_refused_on_its_stream() -> None:
    assert given(REGISTERED).refuse_registration() == [
        RegistrationRefused(FailureReason.EMAIL_ALREADY_REGISTERED)
    ]


def test_a_stream_that_does_not_start_with_a_registration_is_corrupt() -> None:
    with pytest.raises(CorruptStream):
        given(EmailVerified())


class TestVerification:
    def test_the_pending_token_verifies_the_address(self) -> None:
        assert given(REGISTERED).verify_email("v" * 64, T0) == [EmailVerified()]

    def test_an_expired_or_foreign_token_does_not(self) -> None:
        failed = [EmailVerificationFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)]
        user = given(REGISTERED)
        assert user.verify_email("v" * 64, VERIFICATION.expires_at) == failed
        assert user.verify_email("x" * 64, T0) == failed

    def test_a_token_is_single_use(self) -> None:
        user = given(REGISTERED, EmailVerified())
        assert user.verify_email("v" * 64, T0) == [
            EmailVerificationFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)
        ]

    def test_a_resent_token_supersedes_the_older_one(self) -> None:
        newer = IssuedToken("n" * 64, T0 + timedelta(hours=24))
        user = given(REGISTERED, VerificationResent(newer))
        assert user.verify_email("v" * 64, T0) == [
            EmailVerificationFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)
        ]
        assert user.verify_email("n" * 64, T0) == [EmailVerified()]

    def test_a_verified_account_gets_no_new_token(self) -> None:
        user = given(REGISTERED, EmailVerified())
        token = IssuedToken("n" * 64, T0)
        assert user.resend_verification(token) == [
            VerificationResendRefused("already_verified")
        ]


class TestLogin:
    def test_the_right_password_of_a_verified_account_logs_in(self) -> None:
        outcome, events = log_in(given(REGISTERED, EmailVerified()), matches=True)
        assert outcome is LoginOutcome.SUCCEEDED
        assert events == [LoginSucceeded("jti-1", 0, None)]

    def test_the_right_password_of_an_unverified_account_is_refused_uncounted(
        self,
    ) -> None:
        user = given(REGISTERED, *failures(1))
        outcome, events = log_in(user, matches=True)
        assert outcome is LoginOutcome.EMAIL_NOT_VERIFIED
        assert events == [LoginFailed(FailureReason.EMAIL_NOT_VERIFIED, 1)]

    def test_the_failure_that_reaches_the_threshold_locks(self) -> None:
        user = given(REGISTERED, EmailVerified(), *failures(1, 2))
        outcome, events = log_in(user, matches=False)
        assert outcome is LoginOutcome.LOCKED
        assert events == [*failures(3), AccountLocked(T0 + timedelta(minutes=30), 3)]

    def test_while_locked_even_the_right_password_is_refused(self) -> None:
        locked = AccountLocked(T0 + timedelta(minutes=30), 3)
        user = given(REGISTERED, EmailVerified(), *failures(1, 2, 3), locked)
        decision = user.log_in(
            password_matches=True,
            now=T0 + timedelta(minutes=29),
            policy=POLICY,
            token_id="j",
        )
        assert decision.outcome is LoginOutcome.LOCKED
        assert decision.events == [LoginFailed(FailureReason.ACCOUNT_LOCKED, 3)]
        assert decision.retry_after(T0 + timedelta(minutes=29)) == 60

    def test_when_the_lock_runs_out_it_is_recorded_and_counting_starts_afresh(
        self,
    ) -> None:
        locked = AccountLocked(T0 + timedelta(minutes=30), 3)
        user = given(REGISTERED, EmailVerified(), *failures(1, 2, 3), locked)
        outcome, events = log_in(user, matches=False, at=T0 + timedelta(minutes=30))
        assert outcome is LoginOutcome.INVALID_CREDENTIALS
        assert events == [AccountUnlocked("expired"), *failures(1)]

    def test_a_success_resets_the_count(self) -> None:
        user = given(
            REGISTERED, EmailVerified(), *failures(1, 2), LoginSucceeded("j", 0)
        )
        assert log_in(user, matches=False)[1] == failures(1)

    def test_an_outdated_hash_is_replaced_at_login(self) -> None:
        user = given(REGISTERED, EmailVerified())
        decision = user.log_in(
            password_matches=True,
            now=T0,
            policy=POLICY,
            token_id="j",
            rehashed_password_hash="hash-2",
        )
        assert decision.events == [LoginSucceeded("j", 0, "hash-2")]
        assert (
            given(REGISTERED, EmailVerified(), *decision.events).password_hash
            == "hash-2"
        )


class TestPasswordReset:
    reset = IssuedToken("r" * 64, T0 + timedelta(hours=1))

    def test_a_reset_verifies_the_address_and_ends_a_lock(self) -> None:
        locked = AccountLocked(T0 + timedelta(minutes=30), 3)
        user = given(
            REGISTERED, *failures(1, 2, 3), locked, PasswordResetRequested(self.reset)
        )
        events = user.reset_password("r" * 64, "hash-2", T0)
        assert events == [
            PasswordReset("hash-2"),
            EmailVerified(),
            AccountUnlocked("password_reset"),
        ]
        after = given(
            REGISTERED,
            *failures(1, 2, 3),
            locked,
            PasswordResetRequested(self.reset),
            *events,
        )
        assert (after.verified, after.password_hash, after.token_generation) == (
            True,
            "hash-2",
            1,
        )
        assert not after.lockout.is_locked(T0)
        assert after.reset is None and after.verification is None

    def test_a_newer_reset_token_supersedes_and_each_is_single_use(self) -> None:
        newer = IssuedToken("s" * 64, T0 + timedelta(hours=1))
        user = given(
            REGISTERED,
            PasswordResetRequested(self.reset),
            PasswordResetRequested(newer),
        )
        failed = [PasswordResetFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)]
        assert user.reset_password("r" * 64, "h", T0) == failed
        used = given(
            REGISTERED,
            PasswordResetRequested(newer),
            *user.reset_password("s" * 64, "h", T0),
        )
        assert used.reset_password("s" * 64, "h", T0) == failed

    def test_an_expired_reset_token_is_refused(self) -> None:
        user = given(REGISTERED, PasswordResetRequested(self.reset))
        assert user.reset_password("r" * 64, "h", self.reset.expires_at) == [
            PasswordResetFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)
        ]

    def test_a_change_supersedes_tokens_and_pending_resets(self) -> None:
        user = given(REGISTERED, EmailVerified(), PasswordResetRequested(self.reset))
        assert user.change_password("hash-2") == [PasswordChanged("hash-2")]
        after = given(
            REGISTERED,
            EmailVerified(),
            PasswordResetRequested(self.reset),
            PasswordChanged("h2"),
        )
        assert after.token_generation == 1
        assert not after.accepts_token_generation(0)
        assert after.reset_password("r" * 64, "h", T0) == [
            PasswordResetFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)
        ]


def test_logging_out_records_the_revoked_token() -> None:
    assert given(REGISTERED).log_out("jti-9", T0) == [LoggedOut("jti-9", T0)]
