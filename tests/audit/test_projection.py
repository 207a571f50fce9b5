"""Projection: every consumed event becomes one audit row, counted once."""

import json

from sqlalchemy import select

from audit.adapters.tables import accounts, events, minute_counts
from audit.projection import Projection, audit_event
from tests.audit.conftest import Store
from tests.audit.stream import NOW, Account, minutes, record_of, traceparent


async def test_the_same_event_twice_counts_once(store: Store) -> None:
    alice = Account("alice@example.com")
    login = alice.logged_in(NOW, duration_ms=120.0)

    assert await store.project([login]) == 1
    assert await store.project([login]) == 0
    assert await store.project([login, login]) == 0

    assert await store.count(events) == 1
    (bucket,) = await store.rows(minute_counts)
    assert (bucket["event_type"], bucket["count"]) == ("login_success", 1)
    assert (bucket["duration_ms_sum"], bucket["duration_count"]) == (120.0, 1)
    (account,) = await store.rows(accounts)
    assert account["last_login_at"] == NOW


async def test_a_batch_with_a_stored_event_adds_only_the_new_ones(store: Store) -> None:
    alice = Account("alice@example.com")
    first, second = alice.registered(NOW), alice.verified(NOW + minutes(1))
    await store.project([first])

    assert await store.project([first, second, second]) == 1

    counts = {r["event_type"]: r["count"] for r in await store.rows(minute_counts)}
    assert counts == {"registration_success": 1, "email_verified": 1}


async def test_a_row_keeps_the_envelope_and_its_trace_but_no_sealed_token(
    store: Store,
) -> None:
    alice = Account("Alice@Example.com")
    registered = alice.registered(NOW)
    trace = traceparent()
    record = record_of(registered, trace)

    await Projection(store.engine).project([audit_event(record)])

    async with store.engine.connect() as conn:
        row = (await conn.execute(select(events))).one()._mapping
    assert row["event_id"] == registered.event_id
    assert row["event_type"] == "registration_success"
    assert row["occurred_at"] == NOW
    assert row["user_id"] == alice.user_id
    assert row["email"] == "Alice@Example.com"
    assert row["ip"] == alice.ip and row["user_agent"] == alice.user_agent
    assert row["duration_ms"] == 90.0 and row["success"] is True
    assert row["trace_id"] == trace.split("-")[1]
    assert row["span_id"] == trace.split("-")[2]
    assert "sealed_token" not in row["data"]
    assert row["data"]["token_expires_at"].startswith("2030-06-02T12:00")
    assert "sealed" not in json.dumps(row["data"])


async def test_an_event_without_a_valid_traceparent_is_stored_without_trace(
    store: Store,
) -> None:
    alice = Account("alice@example.com")
    records = [
        record_of(alice.logged_in(NOW), None, offset=0),
        record_of(alice.logged_in(NOW), "00-" + "0" * 32 + "-" + "1" * 16 + "-01"),
        record_of(alice.logged_in(NOW), "not a traceparent"),
    ]
    await Projection(store.engine).project([audit_event(r) for r in records])

    rows = await store.rows(events)
    assert [(r["trace_id"], r["span_id"]) for r in rows] == [(None, None)] * 3


async def test_minute_counts_split_by_type_and_outcome_with_login_durations(
    store: Store,
) -> None:
    alice, bob = Account("alice@example.com"), Account("bob@example.com")
    await store.project(
        [
            alice.logged_in(NOW + minutes(0.1), duration_ms=100),
            bob.logged_in(NOW + minutes(0.5), duration_ms=300),
            bob.login_failed(NOW + minutes(0.9), duration_ms=50),
            alice.logged_in(NOW + minutes(1.2), duration_ms=200),
            alice.registered(NOW + minutes(1.3)),
        ]
    )

    rows = await store.rows(
        minute_counts, minute_counts.c.bucket_start, minute_counts.c.event_type
    )
    assert [
        (
            r["bucket_start"],
            r["event_type"],
            r["success"],
            r["count"],
            r["duration_ms_sum"],
            r["duration_count"],
        )
        for r in rows
    ] == [
        (NOW, "login_failed", False, 1, 50.0, 1),
        (NOW, "login_success", True, 2, 400.0, 2),
        (NOW + minutes(1), "login_success", True, 1, 200.0, 1),
        (NOW + minutes(1), "registration_success", True, 1, 0.0, 0),
    ]


async def test_account_state_does_not_depend_on_arrival_order(store: Store) -> None:
    """Before registration an address's events are keyed by address, after it by
    user id, so they may arrive in any order; the state must come out the same."""
    carol = Account("carol@example.com")
    history = [
        carol.login_failed(NOW, reason="unknown_email", registered=False),
        carol.registered(NOW + minutes(1)),
        carol.email_sent(NOW + minutes(1.1)),
        carol.verified(NOW + minutes(5)),
        carol.login_failed(NOW + minutes(6)),
        carol.logged_in(NOW + minutes(7)),
    ]
    await store.project(history[3:])
    await store.project(history[:3])
    out_of_order = await store.rows(accounts)

    async with store.engine.begin() as conn:
        for table in (events, minute_counts, accounts):
            await conn.execute(table.delete())
    for envelope in history:
        await store.project([envelope])
    in_order = await store.rows(accounts)

    assert out_of_order == in_order
    (state,) = in_order
    assert state["account_key"] == "carol@example.com"
    assert state["user_id"] == carol.user_id
    assert state["registered_at"] == NOW + minutes(1)
    assert state["verified_at"] == NOW + minutes(5)
    assert state["last_attempt_type"] == "login_success"
    assert state["last_email_template"] == "verification"


async def test_an_event_naming_only_a_user_joins_that_users_account(
    store: Store,
) -> None:
    dave = Account("dave@example.com")
    await store.project([dave.registered(NOW)])
    logout = dave.logged_in(NOW + minutes(1)).model_copy(update={"email": None})

    await store.project([logout])

    (state,) = await store.rows(accounts)
    assert state["account_key"] == "dave@example.com"
    assert state["last_login_at"] == NOW + minutes(1)
