"""Alerts as rows: the open ones the evaluator advances, the history the API lists."""

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.tables import alerts
from audit.adapters.upsert import upsert_into
from audit.domain.alerts import Alert, AlertState, Rule, Severity, Step

_FIELDS = tuple(f.name for f in fields(Alert))
_OPEN = (AlertState.PENDING.value, AlertState.FIRING.value)


async def open_alerts(conn: AsyncConnection) -> list[Alert]:
    rows = await conn.execute(select(alerts).where(alerts.c.state.in_(_OPEN)))
    return [_alert(row._mapping) for row in rows]


async def save_step(conn: AsyncConnection, result: Step) -> None:
    if result.dropped:
        await conn.execute(
            delete(alerts).where(
                alerts.c.alert_id.in_([a.alert_id for a in result.dropped])
            )
        )
    if result.saved:
        insert = upsert_into(conn.dialect.name, alerts)
        statement = insert.on_conflict_do_update(
            index_elements=[alerts.c.alert_id],
            set_={
                name: getattr(insert.excluded, name)
                for name in _FIELDS
                if name != "alert_id"
            },
        )
        await conn.execute(statement, [_row(a) for a in result.saved])


async def list_alerts(
    conn: AsyncConnection, states: Iterable[AlertState] | None, limit: int
) -> list[Alert]:
    query = select(alerts).order_by(
        alerts.c.started_at.desc(), alerts.c.alert_id.desc()
    )
    if states is not None:
        query = query.where(alerts.c.state.in_([s.value for s in states]))
    rows = await conn.execute(query.limit(limit))
    return [_alert(row._mapping) for row in rows]


def _row(alert: Alert) -> dict[str, Any]:
    row = {name: getattr(alert, name) for name in _FIELDS}
    row.update(
        rule=alert.rule.value, severity=alert.severity.value, state=alert.state.value
    )
    return row


def _alert(row: Any) -> Alert:
    values = {name: row[name] for name in _FIELDS}
    values.update(
        rule=Rule(row["rule"]),
        severity=Severity(row["severity"]),
        state=AlertState(row["state"]),
    )
    return Alert(**values)
