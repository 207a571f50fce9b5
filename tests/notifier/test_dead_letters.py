"""A message the notifier can never handle goes to the dead-letter topic with
its headers and the error, and the user's next mail still goes out."""

import json
from uuid import uuid4

from shared.events import encode_envelope
from shared.messaging import header_value
from shared.sealing import TokenSealer
from tests.notifier.auth_stream import AuthEvents, publish_raw, traceparent
from tests.notifier.conftest import RunningNotifier
from tests.notifier.topic_reader import TopicReader


async def test_poison_messages_are_dead_lettered_and_the_users_next_mail_goes_out(
    sqlite_notifier: RunningNotifier,
) -> None:
    notifier = sqlite_notifier
    email, user_id = f"poisoned-{uuid4().hex[:8]}@example.org", uuid4()
    key = str(user_id).encode()
    topic = notifier.settings.auth_events_topic
    sealed_with_another_key = AuthEvents(TokenSealer([TokenSealer.generate_key()]))
    broken_seal = sealed_with_another_key.registered(email, "tok", user_id)
    unknown_type = json.loads(encode_envelope(broken_seal))
    unknown_type.update(event_id=str(uuid4()), event_type="user_teleported")
    poison = [
        (b"{not json", "registration_success", str(uuid4())),
        (
            json.dumps(unknown_type).encode(),
            "user_teleported",
            unknown_type["event_id"],
        ),
        (
            encode_envelope(broken_seal),
            "registration_success",
            str(broken_seal.event_id),
        ),
    ]
    trace, _ = traceparent()
    for value, event_type, event_id in poison:
        await publish_raw(
            notifier.producer,
            topic,
            value,
            key=key,
            event_type=event_type,
            event_id=event_id,
            trace=trace,
        )
    good = notifier.events.reset_requested(email, "tok-after-poison", user_id)
    await notifier.publish(good)

    [mail] = await notifier.mails_to(email)
    assert mail.event_id == str(good.event_id)
    assert mail.token_of("/reset-password") == "tok-after-poison"
    async with TopicReader(
        notifier.settings, notifier.settings.dead_letter_topic(topic)
    ) as dead_letters:
        records = await dead_letters.wait_for(lambda r: len(r) >= 3)
    assert [r.value for r in records] == [value for value, _, _ in poison]
    assert {r.key for r in records} == {key}
    for record, (_, event_type, event_id) in zip(records, poison, strict=True):
        assert header_value(record.headers, "event_id") == event_id
        assert header_value(record.headers, "event_type") == event_type
        assert header_value(record.headers, "traceparent") == trace
        assert header_value(record.headers, "dlq.source_topic") == topic
    errors = [header_value(r.headers, "dlq.error") or "" for r in records]
    assert "invalid event envelope" in errors[0]
    assert "user_teleported" in errors[1] or "event_type" in errors[1]
    assert "sealed token cannot be opened" in errors[2]
