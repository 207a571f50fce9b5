"""Each alert rule: raised by a crafted stream, resolved once the stream ends.

Default policy: a condition must hold for 1 minute before it fires, and a
firing alert resolves after 3 minutes of recovery.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from audit.alerting import AlertEvaluator
from audit.domain.alerts import AlertPolicy
from shared.events import EventType
from tests.audit.conftest import Clock, Store, audit_client, audit_settings
from tests.audit.stream import NOW, Account, event, minutes, reset_token_failed
from tests.telemetry_capture import TelemetryCapture

Key = tuple[str, str]


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


class Watch:
    """Evaluates the rules at chosen instants and remembers what was announced."""

    def __init__(self, store: Store, policy: AlertPolicy | None = None) -> None:
        self.evaluator = AlertEvaluator(
            store.engine, policy or audit_settings(store.url).alert_policy(), []
        )
        self.announced: list[tuple[str, str, str]] = []

    async def at(self, now: datetime, rule: str | None = None) -> dict[Key, str]:
        """The open or just-resolved alerts (of one rule), as of ``now``."""
        result = await self.evaluator.evaluate(now)
        self.announced += [
            (a.rule.value, a.subject, a.state.value) for a in result.notifications
        ]
        return {
            (a.rule.value, a.subject): a.state.value
            for a in result.saved
            if rule is None or a.rule.value == rule
        }


def spread(count: int, start: datetime, every: timedelta) -> list[datetime]:
    return [start + every * i for i in range(count)]


async def test_auth_failure_rate_over_5_percent_with_20_attempts(
    store: Store, caplog: pytest.LogCaptureFixture, telemetry: TelemetryCapture
) -> None:
    people = [Account(f"p{i}@example.com") for i in range(30)]
    times = spread(30, NOW, seconds(3))
    await store.project(
        p.login_failed(t) if i % 10 == 0 else p.logged_in(t)
        for i, (p, t) in enumerate(zip(people, times, strict=True))
    )  # 3 of 30 attempts failed: 10 %
    watch = Watch(store)
    before = _count(telemetry, "auth_failure_rate", "firing")
    rule = ("auth_failure_rate", "")

    with caplog.at_level(logging.WARNING, logger="audit.alerting"):
        assert await watch.at(NOW + seconds(90)) == {rule: "pending"}
        assert await watch.at(NOW + seconds(150)) == {rule: "firing"}
        assert await watch.at(NOW + seconds(200)) == {rule: "firing"}
        # The attempts leave the 5-minute window at 12:06:27: recovery starts.
        assert await watch.at(NOW + minutes(7)) == {rule: "firing"}
        assert await watch.at(NOW + minutes(9)) == {rule: "firing"}
        assert await watch.at(NOW + minutes(10)) == {rule: "resolved"}
        assert await watch.at(NOW + minutes(11)) == {}

    assert watch.announced == [
        ("auth_failure_rate", "", "firing"),
        ("auth_failure_rate", "", "resolved"),
    ]
    firing = [r for r in caplog.records if r.getMessage() == "audit.alert_firing"]
    assert firing[0].levelno == logging.WARNING
    assert firing[0].__dict__["rule"] == "auth_failure_rate"
    assert firing[0].__dict__["value"] == 0.1
    assert _count(telemetry, "auth_failure_rate", "firing") == before + 1


async def test_a_failure_rate_on_too_few_attempts_raises_nothing(store: Store) -> None:
    people = [Account(f"p{i}@example.com", ip=f"192.0.2.{i}") for i in range(10)]
    await store.project(p.login_failed(NOW + seconds(i)) for i, p in enumerate(people))
    watch = Watch(store)

    assert await watch.at(NOW + minutes(1)) == {}
    assert await watch.at(NOW + minutes(3)) == {}


async def test_lockout_spike(store: Store) -> None:
    people = [Account(f"l{i}@example.com") for i in range(5)]
    await store.project(
        p.locked(t) for p, t in zip(people, spread(5, NOW, minutes(1)), strict=True)
    )
    watch = Watch(store)
    rule = ("lockout_spike", "")

    assert await watch.at(NOW + minutes(3)) == {}  # 4 lockouts so far
    assert await watch.at(NOW + minutes(4)) == {rule: "pending"}
    assert await watch.at(NOW + minutes(5)) == {rule: "firing"}
    # The first lockout leaves the 15-minute window at 12:15.
    assert await watch.at(NOW + minutes(15) + seconds(1)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(18) + seconds(1)) == {rule: "resolved"}
    assert watch.announced == [
        ("lockout_spike", "", "firing"),
        ("lockout_spike", "", "resolved"),
    ]


async def test_password_reset_spike_counts_requests_for_unknown_addresses_too(
    store: Store,
) -> None:
    people = [Account(f"r{i}@example.com") for i in range(20)]
    requests = [p.reset_requested(NOW + seconds(10 * i)) for i, p in enumerate(people)]
    refusals = [
        event(
            EventType.PASSWORD_RESET_FAILED,
            NOW + seconds(10 * i + 5),
            success=False,
            email=f"who{i}@example.com",
            reason="unknown_email",
        )
        for i in range(5)
    ]
    await store.project(requests[:15] + refusals)
    watch = Watch(store)
    rule = ("password_reset_spike", "")

    assert await watch.at(NOW + minutes(3)) == {rule: "pending"}  # 15 + 5
    assert await watch.at(NOW + minutes(4)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(19)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(23)) == {rule: "resolved"}


async def test_reset_token_abuse_from_one_ip(store: Store) -> None:
    await store.project(
        [
            *(
                reset_token_failed(NOW + seconds(5 * i), "192.0.2.66")
                for i in range(12)
            ),
            *(
                reset_token_failed(NOW + seconds(5 * i), "198.51.100.3")
                for i in range(9)
            ),
        ]
    )
    watch = Watch(store)
    rule = ("reset_token_abuse", "192.0.2.66")

    assert await watch.at(NOW + minutes(1)) == {rule: "pending"}
    alerts = await watch.at(NOW + minutes(2))
    assert alerts == {rule: "firing"}  # the other address stayed below 10
    assert await watch.at(NOW + minutes(16)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(19)) == {rule: "resolved"}
    assert watch.announced[0] == ("reset_token_abuse", "192.0.2.66", "firing")


async def test_credential_stuffing_across_many_addresses_from_one_ip(
    store: Store,
) -> None:
    stuffer = "203.0.113.99"
    victims = [Account(f"v{i}@example.com", ip=stuffer) for i in range(12)]
    # Someone forgetting a password repeats one address: that is not stuffing.
    forgetful = Account("me@example.com", ip="198.51.100.50")
    await store.project(
        [
            *(
                v.login_failed(NOW + seconds(4 * i), registered=i % 2 == 0)
                for i, v in enumerate(victims)
            ),
            *(forgetful.login_failed(NOW + seconds(5 * i)) for i in range(12)),
        ]
    )
    watch = Watch(store)
    rule = ("credential_stuffing", stuffer)
    stuffing = "credential_stuffing"

    assert await watch.at(NOW + minutes(1), stuffing) == {rule: "pending"}
    assert await watch.at(NOW + minutes(2), stuffing) == {rule: "firing"}
    assert await watch.at(NOW + minutes(11), stuffing) == {rule: "firing"}
    assert await watch.at(NOW + minutes(14), stuffing) == {rule: "resolved"}
    assert [a for a in watch.announced if a[0] == "credential_stuffing"] == [
        ("credential_stuffing", stuffer, "firing"),
        ("credential_stuffing", stuffer, "resolved"),
    ]


async def test_slow_logins_when_p95_exceeds_500_ms(store: Store) -> None:
    people = [Account(f"s{i}@example.com") for i in range(20)]
    slow = [
        p.logged_in(NOW + seconds(6 * i), duration_ms=450 if i < 10 else 900)
        for i, p in enumerate(people)
    ]
    fast = [
        p.logged_in(NOW + minutes(6) + seconds(6 * i), duration_ms=120)
        for i, p in enumerate(people)
    ]
    await store.project(slow + fast)
    watch = Watch(store)
    rule = ("slow_logins", "")

    assert await watch.at(NOW + minutes(2)) == {rule: "pending"}
    assert await watch.at(NOW + minutes(3)) == {rule: "firing"}
    # Fast logins from 12:06 on bring the p95 down by 12:08.
    assert await watch.at(NOW + minutes(8)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(11)) == {rule: "resolved"}


async def test_thresholds_are_configurable(store: Store) -> None:
    people = [Account(f"c{i}@example.com") for i in range(2)]
    await store.project(p.locked(NOW) for p in people)
    settings = audit_settings(
        store.url,
        AUDIT_ALERT_LOCKOUTS=2,
        AUDIT_ALERT_FOR_S=0,
        AUDIT_ALERT_RESOLVE_AFTER_S=0,
    )
    watch = Watch(store, settings.alert_policy())
    rule = ("lockout_spike", "")

    assert await watch.at(NOW + seconds(1)) == {rule: "firing"}
    assert await watch.at(NOW + minutes(16)) == {rule: "resolved"}


async def test_a_spike_shorter_than_the_pending_time_never_fires(store: Store) -> None:
    people = [Account(f"b{i}@example.com") for i in range(5)]
    await store.project(p.locked(NOW) for p in people)
    policy = audit_settings(
        store.url, AUDIT_ALERT_LOCKOUTS_WINDOW_S=60, AUDIT_ALERT_FOR_S=120
    ).alert_policy()
    watch = Watch(store, policy)

    assert await watch.at(NOW + seconds(30)) == {("lockout_spike", ""): "pending"}
    assert await watch.at(NOW + seconds(90)) == {}
    assert watch.announced == []


async def test_the_api_lists_active_and_resolved_alerts(store: Store) -> None:
    people = [Account(f"a{i}@example.com") for i in range(6)]
    await store.project(p.locked(NOW + seconds(i)) for i, p in enumerate(people))
    watch = Watch(store)
    await watch.at(NOW + minutes(1))
    await watch.at(NOW + minutes(2))

    client: httpx.AsyncClient
    async with audit_client(audit_settings(store.url), Clock(NOW)) as client:
        active = (await client.get("/v1/alerts", params={"state": "active"})).json()
        await watch.at(NOW + minutes(16))
        await watch.at(NOW + minutes(20))
        after = (await client.get("/v1/alerts", params={"state": "active"})).json()
        resolved = (await client.get("/v1/alerts?state=resolved")).json()

    assert [a["rule"] for a in active] == ["lockout_spike"]
    alert: dict[str, Any] = active[0]
    assert set(alert) >= {
        "alert_id",
        "rule",
        "severity",
        "started_at",
        "resolved_at",
        "value",
        "threshold",
        "details",
    }
    assert alert["severity"] == "warning"
    assert alert["started_at"] == (NOW + minutes(1)).isoformat()
    assert alert["resolved_at"] is None
    assert (alert["value"], alert["threshold"]) == (6, 5)
    assert alert["details"]["count"] == 6
    assert after == []
    assert [a["alert_id"] for a in resolved] == [alert["alert_id"]]
    assert resolved[0]["resolved_at"] == (NOW + minutes(20)).isoformat()


def _count(telemetry: TelemetryCapture, rule: str, state: str) -> int:
    return sum(
        p.value
        for p in telemetry.metric_points("audit.alerts")
        if dict(p.attributes) == {"rule": rule, "severity": "warning", "state": state}
    )
