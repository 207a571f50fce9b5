"""GET /v1/events: every filter, newest first, a cursor that stays put."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from shared.events import EventType
from tests.audit.conftest import Clock, Store, audit_client, audit_settings, problem_of
from tests.audit.stream import NOW, Account, event, minutes, reset_token_failed

ALICE = Account("alice@example.com", ip="203.0.113.7")
BOB = Account("bob@example.org", ip="198.51.100.20")


async def project_history(store: Store) -> list[str]:
    """Six events of two accounts over six minutes; answers their ids, newest first."""
    envelopes = [
        ALICE.registered(NOW),
        ALICE.verified(NOW + minutes(1)),
        ALICE.login_failed(NOW + minutes(2)),
        BOB.registered(NOW + minutes(3)),
        ALICE.logged_in(NOW + minutes(4)),
        reset_token_failed(NOW + minutes(5), ip="192.0.2.66"),
    ]
    await store.project(envelopes)
    return [str(e.event_id) for e in reversed(envelopes)]


@pytest.fixture(scope="module")
async def history(module_store: Store) -> list[str]:
    return await project_history(module_store)


@pytest.fixture(scope="module")
async def reader(module_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the module's store, which no test here changes."""
    async with audit_client(audit_settings(module_store.url), Clock()) as client:
        yield client


async def ids(api: httpx.AsyncClient, **params: str | int) -> list[str]:
    response = await api.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return [item["event_id"] for item in response.json()["items"]]


async def test_without_filters_every_event_comes_newest_first(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    assert await ids(reader) == history


async def test_each_item_carries_the_envelope_and_its_trace(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    response = await reader.get("/v1/events", params={"limit": 1, "ip": "203.0.113.7"})

    item = response.json()["items"][0]
    assert set(item) >= {
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "user_id",
        "email",
        "success",
        "reason",
        "ip",
        "user_agent",
        "duration_ms",
        "stream_version",
        "data",
        "trace_id",
    }
    assert item["event_type"] == "login_success"
    assert item["user_id"] == str(ALICE.user_id)
    assert item["occurred_at"] == (NOW + minutes(4)).isoformat()
    assert len(item["trace_id"]) == 32


async def test_filter_by_user_id(reader: httpx.AsyncClient, history: list[str]) -> None:
    assert await ids(reader, user_id=str(ALICE.user_id)) == [
        history[1],
        history[3],
        history[4],
        history[5],
    ]
    assert await ids(reader, user_id=str(uuid.uuid4())) == []


async def test_filter_by_email_ignores_case_and_surrounding_spaces(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    assert await ids(reader, email="  BOB@Example.ORG ") == [history[2]]


async def test_filter_by_event_type(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    assert await ids(reader, event_type="registration_success") == [
        history[2],
        history[5],
    ]


async def test_filter_by_outcome(reader: httpx.AsyncClient, history: list[str]) -> None:
    assert await ids(reader, success="false") == [history[0], history[3]]
    assert len(await ids(reader, success="true")) == 4


async def test_filter_by_ip(reader: httpx.AsyncClient, history: list[str]) -> None:
    assert await ids(reader, ip="192.0.2.66") == [history[0]]


async def test_since_is_inclusive_and_until_exclusive(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    since, until = NOW + minutes(1), NOW + minutes(3)
    assert await ids(reader, since=since.isoformat(), until=until.isoformat()) == [
        history[3],
        history[4],
    ]


async def test_a_time_without_zone_is_utc(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    assert await ids(reader, since="2030-06-01T12:05:00") == [history[0]]


async def test_filters_combine(reader: httpx.AsyncClient, history: list[str]) -> None:
    assert await ids(
        reader,
        email="alice@example.com",
        success="true",
        since=(NOW + minutes(1)).isoformat(),
        event_type="login_success",
    ) == [history[1]]


async def test_pages_follow_the_cursor_and_stay_put_while_new_events_arrive(
    api: httpx.AsyncClient, store: Store
) -> None:
    history = await project_history(store)
    first = (await api.get("/v1/events", params={"limit": 4})).json()
    assert [i["event_id"] for i in first["items"]] == history[:4]
    assert first["next_cursor"]

    newer = ALICE.logged_in(NOW + minutes(10))
    same_instant = event(
        EventType.LOGOUT,
        NOW + minutes(4),
        success=True,
        user_id=ALICE.user_id,
        data={"token_id": "t"},
    )
    await store.project([newer, same_instant])

    second = (
        await api.get("/v1/events", params={"limit": 4, "cursor": first["next_cursor"]})
    ).json()
    seen = [i["event_id"] for i in first["items"] + second["items"]]
    assert seen[:6] == history
    assert str(newer.event_id) not in seen
    assert second["next_cursor"] is None or len(second["items"]) == 4
    assert len(seen) == len(set(seen))


async def test_the_last_page_has_no_cursor(
    reader: httpx.AsyncClient, history: list[str]
) -> None:
    body = (await reader.get("/v1/events", params={"limit": 6})).json()
    assert len(body["items"]) == 6
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2030-13-01T00:00:00Z"}, "until"),
        ({"user_id": "not-a-uuid"}, "user_id"),
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"success": "maybe"}, "success"),
        ({"event_type": "login_attempted"}, "event_type"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
        ({"since": "2030-06-01T12:05:00Z", "until": "2030-06-01T12:00:00Z"}, "until"),
        ({"email": "x" * 321}, "email"),
    ],
)
async def test_a_bad_filter_is_a_422_problem(
    reader: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    response = await reader.get("/v1/events", params=params)

    assert response.status_code == 422
    problem = problem_of(response)
    assert problem["type"].endswith("/validation_error")
    assert [e["loc"][-1] for e in problem["errors"]] == [field]


async def test_limit_1000_is_accepted(api: httpx.AsyncClient, store: Store) -> None:
    many = [ALICE.logged_in(NOW + timedelta(seconds=i)) for i in range(1001)]
    await store.project(many)

    body = (await api.get("/v1/events", params={"limit": 1000})).json()

    assert len(body["items"]) == 1000
    rest = (
        await api.get(
            "/v1/events", params={"limit": 1000, "cursor": body["next_cursor"]}
        )
    ).json()
    assert [i["event_id"] for i in rest["items"]] == [str(many[0].event_id)]


@pytest.mark.parametrize("param", ["email", "ip", "event_type", "cursor", "since"])
@pytest.mark.parametrize(
    "value",
    [
        "'; DROP TABLE audit_events; --",
        "nul\x00byte",
        "%_%",
        "\U0001d518\u00e9\u200b",
        "9" * 64,
    ],
)
async def test_hostile_filter_values_never_break_the_api(
    reader: httpx.AsyncClient, history: list[str], param: str, value: str
) -> None:
    response = await reader.get("/v1/events", params={param: value})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "email=%FF%FE",
        "ip=%ED%A0%80",
        "email=a%00b",
        "cursor=%00",
        "since=%00",
        "limit=1e3",
        "user_id=%00",
    ],
)
async def test_undecodable_query_strings_are_refused_or_ignored(
    reader: httpx.AsyncClient, history: list[str], query: str
) -> None:
    response = await reader.get(f"/v1/events?{query}")

    assert response.status_code in (200, 422), response.text
