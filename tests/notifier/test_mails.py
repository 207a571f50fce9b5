"""Each auth event that asks for a mail yields the right mail, to the address
in the event, with a link that carries the token identity sealed."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from shared.events import EventType, FailureReason
from shared.events.catalogue import LoginSucceeded
from tests.notifier.conftest import PUBLIC_URL, SENDER, RunningNotifier


def address() -> str:
    return f"user-{uuid4().hex[:10]}@example.org"


async def test_registration_mails_a_verification_link_with_the_sealed_token(
    sqlite_notifier: RunningNotifier,
) -> None:
    email = address()
    event = sqlite_notifier.events.registered(email, token="verify-Token_123+/=")

    await sqlite_notifier.publish(event)

    [mail] = await sqlite_notifier.mails_to(email)
    assert mail.recipients == (email,)
    assert mail.to == email
    assert SENDER in str(mail.message["From"])
    assert mail.subject == "Confirm your email address for Authtrail Test"
    assert mail.message.get_content_type() == "multipart/alternative"
    assert f"{PUBLIC_URL}/verify?token=" in mail.text
    assert mail.token_of("/verify") == "verify-Token_123+/="
    assert 'href="https://auth.example.test/verify?token=' in mail.html
    assert mail.event_id == str(event.event_id)


async def test_a_resent_verification_mails_the_new_link(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()

    await sqlite_notifier.publish(
        sqlite_notifier.events.verification_resent(email, "second-token", user_id)
    )

    [mail] = await sqlite_notifier.mails_to(email)
    assert mail.subject == "Confirm your email address for Authtrail Test"
    assert mail.token_of("/verify") == "second-token"


async def test_a_reset_request_mails_a_reset_link_valid_one_hour(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()

    await sqlite_notifier.publish(
        sqlite_notifier.events.reset_requested(email, "reset-token-xyz", user_id)
    )

    [mail] = await sqlite_notifier.mails_to(email)
    assert mail.subject == "Reset your Authtrail Test password"
    assert mail.token_of("/reset-password") == "reset-token-xyz"
    assert "valid for one hour" in mail.text
    assert "valid for one hour" in mail.html
    assert "/verify" not in mail.text


async def test_registering_a_taken_address_warns_its_owner_without_a_token(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, owner = address(), uuid4()

    await sqlite_notifier.publish(
        sqlite_notifier.events.registration_refused(email, owner)
    )

    [mail] = await sqlite_notifier.mails_to(email)
    assert mail.subject == "Someone tried to register with your address"
    assert "token" not in mail.text and "token" not in mail.html
    assert "/verify" not in mail.text and "/reset-password" not in mail.text


async def test_a_reset_or_a_change_of_password_sends_a_password_changed_notice(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()
    events = sqlite_notifier.events

    await sqlite_notifier.publish(
        events.plain(EventType.PASSWORD_RESET_SUCCESS, email, user_id)
    )
    await sqlite_notifier.publish(
        events.plain(EventType.PASSWORD_CHANGED, email, user_id)
    )

    mails = await sqlite_notifier.mails_to(email, count=2)
    assert [m.subject for m in mails] == [
        "Your Authtrail Test password was changed"
    ] * 2
    assert all("Forgot password" in m.text for m in mails)


async def test_a_lockout_tells_the_owner_until_when_and_how_to_reset(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()
    until = datetime(2031, 5, 4, 10, 30, tzinfo=UTC)

    await sqlite_notifier.publish(sqlite_notifier.events.locked(email, user_id, until))

    [mail] = await sqlite_notifier.mails_to(email)
    assert "locked until 2031-05-04 10:30 UTC" in mail.subject
    assert "2031-05-04 10:30 UTC" in mail.text and "2031-05-04 10:30 UTC" in mail.html
    assert "reset" in mail.text and "Forgot password" in mail.text


async def test_events_that_ask_for_no_mail_send_none_and_the_partition_moves_on(
    sqlite_notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()
    events = sqlite_notifier.events
    quiet = [
        events.plain(
            EventType.LOGIN_SUCCESS, email, user_id, data=LoginSucceeded(token_id="j")
        ),
        events.plain(EventType.EMAIL_VERIFIED, email, user_id),
        events.plain(
            EventType.LOGIN_FAILED,
            email,
            user_id,
            success=False,
            reason=FailureReason.INVALID_PASSWORD,
        ),
        events.plain(
            EventType.VERIFICATION_RESENT,
            email,
            user_id,
            success=False,
            reason=FailureReason.UNKNOWN_EMAIL,
        ),
        events.plain(
            EventType.REGISTRATION_FAILED,
            email,
            user_id,
            success=False,
            reason=FailureReason.VALIDATION_ERROR,
        ),
        events.locked(email, None, datetime.now(UTC) + timedelta(minutes=30)),
    ]
    for event in quiet:
        await sqlite_notifier.publish(event)
    last = events.plain(EventType.PASSWORD_CHANGED, email, user_id)
    await sqlite_notifier.publish(last)

    [mail] = await sqlite_notifier.mails_to(email)
    assert mail.event_id == str(last.event_id)
