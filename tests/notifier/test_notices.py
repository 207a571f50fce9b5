"""Which event asks for which mail: the notifier's rule, without any I/O."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from notifier.domain.notices import Template, notice_for
from notifier.errors import MalformedEvent
from shared.events import EventEnvelope, EventType, FailureReason
from shared.sealing import TokenSealer
from tests.notifier.auth_stream import AuthEvents

EMAIL = "owner@example.org"


@pytest.fixture
def events(sealer: TokenSealer) -> AuthEvents:
    return AuthEvents(sealer)


def test_token_events_unseal_the_token_for_the_link(
    events: AuthEvents, sealer: TokenSealer
) -> None:
    user_id = uuid4()
    cases = [
        (events.registered(EMAIL, "tok-A1", user_id), Template.VERIFY_EMAIL, "tok-A1"),
        (
            events.verification_resent(EMAIL, "tok-B2", user_id),
            Template.VERIFY_EMAIL,
            "tok-B2",
        ),
        (
            events.reset_requested(EMAIL, "tok-C3", user_id),
            Template.RESET_PASSWORD,
            "tok-C3",
        ),
    ]
    for event, template, token in cases:
        notice = notice_for(event, sealer)
        assert notice is not None
        assert (notice.template, notice.recipient) == (template, EMAIL)
        assert notice.token is not None and notice.token.get_secret_value() == token
        assert token not in repr(notice)


def test_notices_without_a_token(events: AuthEvents, sealer: TokenSealer) -> None:
    user_id = uuid4()
    until = datetime(2030, 1, 1, tzinfo=UTC)
    cases = [
        (events.registration_refused(EMAIL, user_id), Template.REGISTRATION_ATTEMPT),
        (
            events.plain(EventType.PASSWORD_RESET_SUCCESS, EMAIL, user_id),
            Template.PASSWORD_CHANGED,
        ),
        (
            events.plain(EventType.PASSWORD_CHANGED, EMAIL, user_id),
            Template.PASSWORD_CHANGED,
        ),
        (events.locked(EMAIL, user_id, until), Template.ACCOUNT_LOCKED),
    ]
    for event, template in cases:
        notice = notice_for(event, sealer)
        assert notice is not None
        assert (notice.template, notice.token) == (template, None)
    locked = notice_for(events.locked(EMAIL, user_id, until), sealer)
    assert locked is not None and locked.locked_until == until


@pytest.mark.parametrize(
    ("event_type", "success", "reason", "user"),
    [
        (EventType.VERIFICATION_RESENT, False, FailureReason.UNKNOWN_EMAIL, True),
        (EventType.REGISTRATION_FAILED, False, FailureReason.VALIDATION_ERROR, False),
        (EventType.PASSWORD_RESET_FAILED, False, FailureReason.UNKNOWN_EMAIL, False),
        (EventType.EMAIL_VERIFIED, True, None, True),
        (EventType.EMAIL_VERIFICATION_FAILED, False, "invalid_or_expired_token", True),
    ],
)
def test_other_events_ask_for_no_mail(
    events: AuthEvents,
    sealer: TokenSealer,
    event_type: EventType,
    success: bool,
    reason: str | None,
    user: bool,
) -> None:
    event = events.plain(
        event_type, EMAIL, uuid4() if user else None, success=success, reason=reason
    )
    assert notice_for(event, sealer) is None


def test_a_lockout_of_an_unknown_address_mails_nobody(
    events: AuthEvents, sealer: TokenSealer
) -> None:
    event = events.locked(EMAIL, None, datetime(2030, 1, 1, tzinfo=UTC))
    assert notice_for(event, sealer) is None


def test_events_that_can_never_be_mailed_are_malformed(
    events: AuthEvents, sealer: TokenSealer
) -> None:
    foreign = AuthEvents(TokenSealer([TokenSealer.generate_key()]))
    no_token = EventEnvelope(
        event_type=EventType.REGISTRATION_SUCCESS,
        user_id=uuid4(),
        email=EMAIL,
        success=True,
    )
    no_address = events.registered(EMAIL, "t").model_copy(update={"email": None})
    for event in (foreign.registered(EMAIL, "t"), no_token, no_address):
        with pytest.raises(MalformedEvent):
            notice_for(event, sealer)
