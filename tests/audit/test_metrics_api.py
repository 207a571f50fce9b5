"""The summary figures and time series, from crafted events at a fixed clock."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.audit.conftest import Clock, Store, audit_client, audit_settings, problem_of
from tests.audit.stream import NOW, Account, minutes

AS_OF = NOW + minutes(60.5)  # 13:00:30; the last hour is the buckets 12:01 .. 13:00
SUCCESS_MS = [100, 110, 120, 130, 140, 150, 160, 170, 180, 900]
FAILURE_MS = [200, 210]


@pytest.fixture(scope="module")
async def figures(module_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    people = [Account(f"user{i}@example.com") for i in range(12)]
    envelopes = [
        p.logged_in(NOW + minutes(5 + i), duration_ms=ms)
        for i, (p, ms) in enumerate(zip(people, SUCCESS_MS, strict=False))
    ]
    envelopes += [
        people[0].login_failed(NOW + minutes(50), duration_ms=FAILURE_MS[0]),
        people[1].login_failed(NOW + minutes(59.9), duration_ms=FAILURE_MS[1]),
        people[2].logged_in(NOW - minutes(1), duration_ms=5000),  # 11:59, too old
        *(people[i].registered(NOW + minutes(10 + i)) for i in (3, 4, 5)),
        people[6].registered(NOW - minutes(30)),  # 11:30: in the day, not the hour
        people[7].locked(NOW + minutes(20)),
        people[8].locked(NOW + minutes(58)),
        people[9].locked(NOW - minutes(22 * 60)),  # yesterday 14:00: in the day
        people[10].locked(NOW - minutes(24 * 60)),  # yesterday 12:00: too old
        people[11].reset_requested(NOW + minutes(30)),
        people[11].reset_done(NOW + minutes(31)),
        people[10].reset_requested(NOW - minutes(4 * 60)),
        people[10].reset_done(NOW - minutes(4 * 60 - 1)),
        people[9].reset_requested(NOW - minutes(5 * 60)),
    ]
    await module_store.project(envelopes)
    async with audit_client(audit_settings(module_store.url), Clock(AS_OF)) as client:
        yield client


async def test_the_summary_of_the_last_hour(figures: httpx.AsyncClient) -> None:
    response = await figures.get("/v1/metrics/summary", params={"window": "1h"})

    assert response.status_code == 200
    summary = response.json()
    assert summary["login_attempts"] == 12
    assert summary["login_success_rate"] == round(10 / 12, 4)
    assert summary["registrations_per_hour"] == 3
    assert summary["lockouts_24h"] == 3
    assert summary["password_resets_24h"] == 2
    assert summary["password_reset_requests_24h"] == 3
    assert summary["avg_login_ms"] == round(sum(SUCCESS_MS + FAILURE_MS) / 12, 1)
    assert summary["p95_login_ms"] == 900
    assert summary["window"] == "1h"
    assert summary["window_start"] == (NOW + minutes(1)).isoformat()


async def test_the_hour_is_the_default_window(figures: httpx.AsyncClient) -> None:
    default = (await figures.get("/v1/metrics/summary")).json()
    explicit = (await figures.get("/v1/metrics/summary?window=60m")).json()
    assert default["login_attempts"] == explicit["login_attempts"] == 12


async def test_a_shorter_window(figures: httpx.AsyncClient) -> None:
    summary = (await figures.get("/v1/metrics/summary?window=15m")).json()

    assert summary["login_attempts"] == 2  # the failures at 12:50 and 12:59:54
    assert summary["login_success_rate"] == 0
    assert summary["avg_login_ms"] == 205
    assert summary["registrations_per_hour"] == 0
    assert summary["lockouts_24h"] == 3  # always the last 24 hours


async def test_a_window_without_logins_has_no_rates(module_store: Store) -> None:
    async with audit_client(
        audit_settings(module_store.url), Clock(NOW + minutes(3 * 24 * 60))
    ) as quiet:
        summary = (await quiet.get("/v1/metrics/summary")).json()

    assert summary["login_attempts"] == 0
    assert summary["login_success_rate"] is None
    assert summary["avg_login_ms"] is None
    assert summary["p95_login_ms"] is None


async def test_logins_per_minute(figures: httpx.AsyncClient) -> None:
    response = await figures.get(
        "/v1/metrics/timeseries",
        params={"event_type": "login_success,login_failed", "bucket": "1m"},
    )

    assert response.status_code == 200
    series = response.json()
    assert len(series) == 60
    assert series[0]["bucket_start"] == (NOW + minutes(1)).isoformat()
    assert series[-1]["bucket_start"] == (NOW + minutes(60)).isoformat()
    busy = {
        p["bucket_start"]: (p["count"], p["failures"]) for p in series if p["count"]
    }
    assert busy[(NOW + minutes(5)).isoformat()] == (1, 0)
    assert busy[(NOW + minutes(50)).isoformat()] == (1, 1)
    assert busy[(NOW + minutes(59)).isoformat()] == (1, 1)
    assert sum(c for c, _ in busy.values()) == 12


async def test_lockouts_in_five_minute_buckets(figures: httpx.AsyncClient) -> None:
    series = (
        await figures.get(
            "/v1/metrics/timeseries",
            params={"event_type": "account_locked", "bucket": "5m", "window": "1h"},
        )
    ).json()

    assert len(series) == 12
    assert series[-1]["bucket_start"] == (NOW + minutes(60)).isoformat()
    assert {p["bucket_start"]: p["count"] for p in series if p["count"]} == {
        (NOW + minutes(20)).isoformat(): 1,
        (NOW + minutes(55)).isoformat(): 1,
    }


async def test_every_event_type_without_a_filter(figures: httpx.AsyncClient) -> None:
    series = (await figures.get("/v1/metrics/timeseries?bucket=1h&window=1d")).json()

    assert len(series) == 24
    assert sum(p["count"] for p in series) == 25


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/metrics/summary?window=1w", "window"),
        ("/v1/metrics/summary?window=0m", "window"),
        ("/v1/metrics/summary?window=32d", "window"),
        ("/v1/metrics/timeseries?bucket=2m", "bucket"),
        ("/v1/metrics/timeseries?bucket=1h&window=30m", "window"),
        ("/v1/metrics/timeseries?bucket=1m&window=2d", "window"),
        ("/v1/metrics/timeseries?event_type=login_succeeded", "event_type"),
        ("/v1/alerts?state=burning", "state"),
        ("/v1/alerts?limit=1001", "limit"),
    ],
)
async def test_a_bad_parameter_is_a_422_problem(
    figures: httpx.AsyncClient, path: str, field: str
) -> None:
    response = await figures.get(path)

    assert response.status_code == 422
    problem = problem_of(response)
    assert [e["loc"][-1] for e in problem["errors"]] == [field]
