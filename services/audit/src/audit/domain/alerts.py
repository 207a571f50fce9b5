"""Alert rules and their lifecycle: pending, firing, resolved, without flapping.

A rule whose condition holds becomes *pending*; it *fires* once the condition
has held for ``pending_for``. A firing alert *resolves* only after its value
has stayed at or below ``threshold * resolve_ratio`` (or its sample became too
small to judge) for ``resolve_after``; a value in between keeps it firing and
restarts that hold-down. A pending alert whose condition ends is dropped: it
never was an alert.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID


class Rule(StrEnum):
    AUTH_FAILURE_RATE = "auth_failure_rate"
    LOCKOUT_SPIKE = "lockout_spike"
    PASSWORD_RESET_SPIKE = "password_reset_spike"
    RESET_TOKEN_ABUSE = "reset_token_abuse"
    CREDENTIAL_STUFFING = "credential_stuffing"
    SLOW_LOGINS = "slow_logins"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY = {
    Rule.AUTH_FAILURE_RATE: Severity.WARNING,
    Rule.LOCKOUT_SPIKE: Severity.WARNING,
    Rule.PASSWORD_RESET_SPIKE: Severity.WARNING,
    Rule.RESET_TOKEN_ABUSE: Severity.CRITICAL,
    Rule.CREDENTIAL_STUFFING: Severity.CRITICAL,
    Rule.SLOW_LOGINS: Severity.WARNING,
}


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class RuleThresholds:
    failure_rate: float = 0.05
    failure_rate_min_attempts: int = 20
    failure_rate_window: timedelta = timedelta(minutes=5)
    lockouts: int = 5
    lockouts_window: timedelta = timedelta(minutes=15)
    reset_requests: int = 20
    reset_requests_window: timedelta = timedelta(minutes=15)
    reset_token_failures: int = 10
    reset_token_failures_window: timedelta = timedelta(minutes=15)
    stuffing_addresses: int = 10
    stuffing_window: timedelta = timedelta(minutes=10)
    slow_login_p95_ms: float = 500.0
    slow_login_min_logins: int = 10
    slow_login_window: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class AlertPolicy:
    pending_for: timedelta = timedelta(minutes=1)
    resolve_after: timedelta = timedelta(minutes=3)
    resolve_ratio: float = 0.8
    thresholds: RuleThresholds = field(default_factory=RuleThresholds)


@dataclass(frozen=True)
class IpActivity:
    """What one client address did within a rule's window."""

    ip: str
    events: int
    addresses: int


@dataclass(frozen=True)
class Measurements:
    """Figures measured at one instant, each over its own rule's window."""

    login_attempts: int
    login_failures: int
    lockouts: int
    reset_requests: int
    reset_token_failures_by_ip: tuple[IpActivity, ...]
    failed_logins_by_ip: tuple[IpActivity, ...]
    slow_window_logins: int
    login_p95_ms: float | None


@dataclass(frozen=True)
class Observation:
    rule: Rule
    subject: str
    value: float
    threshold: float
    breaching: bool
    recovered: bool
    summary: str
    details: dict[str, Any]

    @property
    def key(self) -> tuple[Rule, str]:
        return (self.rule, self.subject)


@dataclass(frozen=True)
class Alert:
    alert_id: UUID
    rule: Rule
    subject: str
    severity: Severity
    state: AlertState
    started_at: datetime
    value: float
    threshold: float
    summary: str
    details: dict[str, Any]
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    recovering_since: datetime | None = None

    @property
    def key(self) -> tuple[Rule, str]:
        return (self.rule, self.subject)


@dataclass(frozen=True)
class Step:
    """What one evaluation changed."""

    saved: list[Alert]
    dropped: list[Alert]
    notifications: list[Alert]


def observe(m: Measurements, policy: AlertPolicy) -> list[Observation]:
    """Judge every rule against the measurements."""
    t, ratio = policy.thresholds, policy.resolve_ratio
    observations: list[Observation] = []

    rate = m.login_failures / m.login_attempts if m.login_attempts else 0.0
    enough = m.login_attempts >= t.failure_rate_min_attempts
    observations.append(
        Observation(
            Rule.AUTH_FAILURE_RATE,
            "",
            round(rate, 4),
            t.failure_rate,
            breaching=enough and rate > t.failure_rate,
            recovered=not enough or rate <= t.failure_rate * ratio,
            summary=(
                f"login failure rate {rate:.1%} over {_span(t.failure_rate_window)} "
                f"({m.login_failures} of {m.login_attempts} attempts; "
                f"threshold {t.failure_rate:.1%} with at least "
                f"{t.failure_rate_min_attempts} attempts)"
            ),
            details={
                "attempts": m.login_attempts,
                "failures": m.login_failures,
                "min_attempts": t.failure_rate_min_attempts,
                "window_s": _seconds(t.failure_rate_window),
            },
        )
    )
    observations.append(
        _count(
            Rule.LOCKOUT_SPIKE,
            m.lockouts,
            t.lockouts,
            t.lockouts_window,
            ratio,
            "account lockout",
        )
    )
    observations.append(
        _count(
            Rule.PASSWORD_RESET_SPIKE,
            m.reset_requests,
            t.reset_requests,
            t.reset_requests_window,
            ratio,
            "password reset request",
        )
    )
    for ip in m.reset_token_failures_by_ip:
        observations.append(
            _per_ip(
                Rule.RESET_TOKEN_ABUSE,
                ip,
                ip.events,
                t.reset_token_failures,
                t.reset_token_failures_window,
                ratio,
                f"{ip.events} failed password resets (invalid or expired tokens)",
            )
        )
    for ip in m.failed_logins_by_ip:
        observations.append(
            _per_ip(
                Rule.CREDENTIAL_STUFFING,
                ip,
                ip.addresses,
                t.stuffing_addresses,
                t.stuffing_window,
                ratio,
                f"{ip.events} failed logins across {ip.addresses} addresses",
            )
        )

    p95 = m.login_p95_ms or 0.0
    enough = m.slow_window_logins >= t.slow_login_min_logins
    observations.append(
        Observation(
            Rule.SLOW_LOGINS,
            "",
            round(p95, 1),
            t.slow_login_p95_ms,
            breaching=enough and p95 > t.slow_login_p95_ms,
            recovered=not enough or p95 <= t.slow_login_p95_ms * ratio,
            summary=(
                f"p95 login time {p95:.0f} ms over {_span(t.slow_login_window)} "
                f"({m.slow_window_logins} logins; threshold "
                f"{t.slow_login_p95_ms:.0f} ms)"
            ),
            details={
                "logins": m.slow_window_logins,
                "min_logins": t.slow_login_min_logins,
                "window_s": _seconds(t.slow_login_window),
            },
        )
    )
    return observations


def step(
    open_alerts: Iterable[Alert],
    observations: Iterable[Observation],
    policy: AlertPolicy,
    now: datetime,
    new_id: Callable[[], UUID],
) -> Step:
    """Advance every open alert and open new ones; nothing here does I/O."""
    seen = {o.key: o for o in observations}
    current = {a.key: a for a in open_alerts}
    saved: list[Alert] = []
    dropped: list[Alert] = []
    notifications: list[Alert] = []

    for key in sorted(current.keys() | seen.keys()):
        alert, obs = current.get(key), seen.get(key)
        if alert is None:
            if obs is None or not obs.breaching:
                continue
            alert = _opened(obs, now, new_id())
            if policy.pending_for <= timedelta(0):
                alert = replace(alert, state=AlertState.FIRING, fired_at=now)
                notifications.append(alert)
            saved.append(alert)
        elif alert.state is AlertState.PENDING:
            if obs is None or not obs.breaching:
                dropped.append(alert)
                continue
            alert = _measured(alert, obs)
            if now - alert.started_at >= policy.pending_for:
                alert = replace(alert, state=AlertState.FIRING, fired_at=now)
                notifications.append(alert)
            saved.append(alert)
        else:
            if obs is not None and not obs.recovered:
                saved.append(replace(_measured(alert, obs), recovering_since=None))
                continue
            if obs is not None:
                alert = _measured(alert, obs)
            else:
                alert = replace(alert, value=0.0)
            since = alert.recovering_since or now
            alert = replace(alert, recovering_since=since)
            if now - since >= policy.resolve_after:
                alert = replace(alert, state=AlertState.RESOLVED, resolved_at=now)
                notifications.append(alert)
            saved.append(alert)
    return Step(saved, dropped, notifications)


def _opened(obs: Observation, now: datetime, alert_id: UUID) -> Alert:
    return Alert(
        alert_id=alert_id,
        rule=obs.rule,
        subject=obs.subject,
        severity=SEVERITY[obs.rule],
        state=AlertState.PENDING,
        started_at=now,
        value=obs.value,
        threshold=obs.threshold,
        summary=obs.summary,
        details={**obs.details, "peak_value": obs.value},
    )


def _measured(alert: Alert, obs: Observation) -> Alert:
    peak = max(float(alert.details.get("peak_value", obs.value)), obs.value)
    return replace(
        alert,
        value=obs.value,
        threshold=obs.threshold,
        summary=obs.summary,
        details={**obs.details, "peak_value": peak},
    )


def _count(
    rule: Rule,
    count: int,
    threshold: int,
    window: timedelta,
    ratio: float,
    what: str,
) -> Observation:
    return Observation(
        rule,
        "",
        float(count),
        float(threshold),
        breaching=count >= threshold,
        recovered=count <= threshold * ratio,
        summary=(
            f"{count} {what}{'' if count == 1 else 's'} in {_span(window)} "
            f"(threshold {threshold})"
        ),
        details={"count": count, "window_s": _seconds(window)},
    )


def _per_ip(
    rule: Rule,
    ip: IpActivity,
    value: int,
    threshold: int,
    window: timedelta,
    ratio: float,
    what: str,
) -> Observation:
    return Observation(
        rule,
        ip.ip,
        float(value),
        float(threshold),
        breaching=value >= threshold,
        recovered=value <= threshold * ratio,
        summary=f"{what} from {ip.ip} in {_span(window)} (threshold {threshold})",
        details={
            "ip": ip.ip,
            "events": ip.events,
            "addresses": ip.addresses,
            "window_s": _seconds(window),
        },
    )


def _seconds(window: timedelta) -> int:
    return int(window.total_seconds())


def _span(window: timedelta) -> str:
    minutes = window.total_seconds() / 60
    return f"{minutes:g} min"


def alert_document(alert: Alert) -> dict[str, Any]:
    """The JSON form of an alert: API answers, the alerts topic, the webhook."""
    return {
        "alert_id": str(alert.alert_id),
        "rule": alert.rule.value,
        "subject": alert.subject or None,
        "severity": alert.severity.value,
        "state": alert.state.value,
        "started_at": alert.started_at.isoformat(),
        "fired_at": _iso(alert.fired_at),
        "resolved_at": _iso(alert.resolved_at),
        "value": alert.value,
        "threshold": alert.threshold,
        "summary": alert.summary,
        "details": alert.details,
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
