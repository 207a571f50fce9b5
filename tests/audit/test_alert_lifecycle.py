"""The alert lifecycle without I/O: pending, firing, resolved, and no flapping."""

import uuid
from datetime import timedelta

from audit.domain.alerts import (
    Alert,
    AlertPolicy,
    AlertState,
    Observation,
    Rule,
    step,
)
from tests.audit.stream import NOW

POLICY = AlertPolicy(
    pending_for=timedelta(minutes=1),
    resolve_after=timedelta(minutes=3),
    resolve_ratio=0.8,
)


def lockouts(count: int) -> Observation:
    return Observation(
        Rule.LOCKOUT_SPIKE,
        "",
        float(count),
        5.0,
        breaching=count >= 5,
        recovered=count <= 4,
        summary=f"{count} lockouts",
        details={"count": count},
    )


def failure_rate(rate: float) -> Observation:
    return Observation(
        Rule.AUTH_FAILURE_RATE,
        "",
        rate,
        0.05,
        breaching=rate > 0.05,
        recovered=rate <= 0.04,
        summary=f"{rate:.0%}",
        details={},
    )


class Timeline:
    def __init__(self, policy: AlertPolicy = POLICY) -> None:
        self.open: list[Alert] = []
        self.announced: list[str] = []
        self.policy = policy

    def at(self, minute: float, *observations: Observation) -> str | None:
        result = step(
            self.open,
            observations,
            self.policy,
            NOW + timedelta(minutes=minute),
            uuid.uuid4,
        )
        dropped = {a.alert_id for a in result.dropped}
        kept = {a.alert_id: a for a in self.open if a.alert_id not in dropped}
        kept.update({a.alert_id: a for a in result.saved})
        self.open = [a for a in kept.values() if a.state is not AlertState.RESOLVED]
        self.announced += [a.state.value for a in result.notifications]
        states = [a.state.value for a in result.saved]
        return states[0] if states else None


def test_a_condition_fires_only_after_holding_for_the_pending_time() -> None:
    timeline = Timeline()

    assert timeline.at(0, lockouts(6)) == "pending"
    assert timeline.at(0.5, lockouts(6)) == "pending"
    assert timeline.at(1, lockouts(7)) == "firing"
    assert timeline.announced == ["firing"]


def test_a_pending_alert_whose_condition_ends_is_dropped_silently() -> None:
    timeline = Timeline()

    assert timeline.at(0, lockouts(5)) == "pending"
    assert timeline.at(0.5, lockouts(3)) is None
    assert timeline.open == []
    assert timeline.announced == []


def test_a_value_between_the_resolve_level_and_the_threshold_keeps_firing() -> None:
    timeline = Timeline()
    timeline.at(0, failure_rate(0.10))
    timeline.at(1, failure_rate(0.10))

    for minute in range(2, 12):
        assert timeline.at(minute, failure_rate(0.045)) == "firing"
    assert timeline.announced == ["firing"]


def test_a_dip_shorter_than_the_hold_down_does_not_resolve() -> None:
    timeline = Timeline()
    timeline.at(0, lockouts(6))
    timeline.at(1, lockouts(6))
    alert_id = timeline.open[0].alert_id

    assert timeline.at(2, lockouts(0)) == "firing"
    assert timeline.at(4, lockouts(1)) == "firing"
    assert timeline.at(4.5, lockouts(6)) == "firing"  # back up: hold-down restarts
    assert timeline.at(7, lockouts(0)) == "firing"
    assert timeline.at(9.9, lockouts(0)) == "firing"
    assert timeline.at(10, lockouts(0)) == "resolved"
    assert timeline.announced == ["firing", "resolved"]
    assert {a.alert_id for a in timeline.open} == set()
    assert alert_id is not None


def test_a_rule_that_breaches_again_after_resolving_opens_a_new_alert() -> None:
    timeline = Timeline()
    timeline.at(0, lockouts(6))
    timeline.at(1, lockouts(6))
    timeline.at(2, lockouts(0))
    timeline.at(5, lockouts(0))

    assert timeline.at(6, lockouts(8)) == "pending"
    assert timeline.at(7, lockouts(8)) == "firing"
    assert timeline.announced == ["firing", "resolved", "firing"]


def test_the_peak_value_is_kept_while_the_value_moves() -> None:
    timeline = Timeline()
    timeline.at(0, lockouts(6))
    timeline.at(1, lockouts(9))
    timeline.at(2, lockouts(7))

    (alert,) = timeline.open
    assert alert.value == 7
    assert alert.details["peak_value"] == 9


def test_without_pending_or_hold_down_times_alerts_fire_and_resolve_at_once() -> None:
    timeline = Timeline(
        AlertPolicy(pending_for=timedelta(0), resolve_after=timedelta(0))
    )

    assert timeline.at(0, lockouts(5)) == "firing"
    assert timeline.at(1, lockouts(0)) == "resolved"
    assert timeline.announced == ["firing", "resolved"]
