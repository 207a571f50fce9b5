"""The lockout counter, checked against a plain model on random histories."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from identity.domain.address import UnknownAddress
from identity.domain.emails import normalise_email
from identity.domain.events import (
    AccountLocked,
    AccountUnlocked,
    DomainEvent,
    EmailVerified,
    IssuedToken,
    LoginFailed,
    Recorded,
)
from identity.domain.lockout import LockoutPolicy, LoginOutcome
from identity.domain.user import User, register
from shared.events import FailureReason

T0 = datetime(2026, 1, 1, tzinfo=UTC)
THRESHOLD = 5
POLICY = LockoutPolicy(threshold=THRESHOLD, duration=timedelta(minutes=30))
EMAIL = normalise_email("ada@example.com")
START = [
    *register(UUID(int=1), EMAIL, "h", IssuedToken("t" * 64, T0 + timedelta(days=1))),
    EmailVerified(),
]

# (minutes that pass before the attempt, whether the password is right)
attempts = st.lists(
    st.tuples(st.sampled_from([0, 0, 0, 1, 10, 29, 30, 31, 45]), st.booleans()),
    max_size=40,
)


class Model:
    """What the contract says, written as plainly as possible."""

    def __init__(self) -> None:
        self.count = 0
        self.locked_until: datetime | None = None

    def attempt(self, now: datetime, right: bool) -> LoginOutcome:
        if self.locked_until is not None and now < self.locked_until:
            return LoginOutcome.LOCKED
        if self.locked_until is not None:
            self.locked_until, self.count = None, 0
        if right:
            self.count = 0
            return LoginOutcome.SUCCEEDED
        self.count += 1
        if self.count == THRESHOLD:
            self.locked_until = now + POLICY.duration
            return LoginOutcome.LOCKED
        return LoginOutcome.INVALID_CREDENTIALS


@settings(max_examples=200, deadline=None)
@given(attempts)
def test_an_account_locks_exactly_as_the_model_says(
    history: list[tuple[int, bool]],
) -> None:
    model, events, now = Model(), list(START), T0
    for minutes, right in history:
        now += timedelta(minutes=minutes)
        user = User.fold(Recorded(e, n, T0) for n, e in enumerate(events, start=1))
        assert user is not None
        decision = user.log_in(
            password_matches=right, now=now, policy=POLICY, token_id="j"
        )
        assert decision.outcome is model.attempt(now, right)
        events += decision.events
    _check_invariants(events[len(START) :])


@settings(max_examples=200, deadline=None)
@given(attempts)
def test_an_unknown_address_locks_exactly_like_an_account(
    history: list[tuple[int, bool]],
) -> None:
    model, now = Model(), T0
    events: list[DomainEvent] = []
    for minutes, _ in history:
        now += timedelta(minutes=minutes)
        address = UnknownAddress.fold(
            EMAIL.canonical, (Recorded(e, n, T0) for n, e in enumerate(events, start=1))
        )
        decision = address.log_in(now, POLICY)
        assert decision.outcome is model.attempt(now, right=False)
        events += decision.events
    _check_invariants(events)


def _check_invariants(events: list[DomainEvent]) -> None:
    """Between two unlocks at most THRESHOLD counted failures, then one lock."""
    counted = 0
    for event in events:
        match event:
            case LoginFailed(
                reason=FailureReason.INVALID_PASSWORD | FailureReason.UNKNOWN_EMAIL
            ):
                counted += 1
                assert event.failed_attempts == counted <= THRESHOLD
            case AccountLocked(failed_attempts=n):
                assert n == counted == THRESHOLD
            case AccountUnlocked():
                counted = 0
            case LoginFailed(reason=FailureReason.ACCOUNT_LOCKED):
                assert counted == THRESHOLD
            case _:
                counted = 0  # a success
