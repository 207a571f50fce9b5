"""The closing report: what the demo did and what the audit service saw."""

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from devstack.demo.tally import Tally

SUMMARY_FIGURES = (
    ("login_attempts", "login attempts"),
    ("login_success_rate", "login success rate"),
    ("registrations_per_hour", "registrations per hour"),
    ("lockouts_24h", "lockouts (24 h)"),
    ("password_resets_24h", "password resets (24 h)"),
    ("avg_login_ms", "average login (ms)"),
    ("p95_login_ms", "p95 login (ms)"),
)


@dataclass(frozen=True)
class DemoReport:
    seed: int
    users: int
    elapsed: float
    first_login_after: float | None
    tally: Tally
    summary: dict[str, Any]
    active_alerts: list[dict[str, Any]]
    pending_alerts: list[dict[str, Any]]
    login_trace_id: str | None
    trace_url: str | None
    client_ip: str | None
    """The address the audit recorded for the demo's last login."""


def render_report(report: DemoReport, console: Console) -> None:
    tally = report.tally
    console.print()
    console.rule("authtrail demo: done")
    first = (
        f"{report.first_login_after:.1f} s"
        if report.first_login_after is not None
        else "none"
    )
    console.print(
        f"{report.elapsed:.1f} s, seed {report.seed}; first successful login "
        f"{first} after the demo started"
    )
    console.print(
        f"{tally.requests} requests to identity: {tally.registered} registered, "
        f"{tally.verified} verified, {tally.logins} logins, {tally.failed_logins} "
        f"refused logins ({tally.stuffing_attempts} of them credential stuffing), "
        f"{tally.locked} locked, {tally.resets} reset, {tally.mails_read} mails read"
    )
    if tally.rate_limited:
        console.print(
            f"identity answered 429 {tally.rate_limited} times; the demo waited "
            f"{tally.waited_for_rate_limit:.0f} s as Retry-After asked"
        )
    if report.client_ip:
        console.print(
            f"every request came from {report.client_ip}: users and attacker "
            "share one client address and one rate-limit budget"
        )
    console.print(_summary_table(report.summary))
    _print_alerts(report, console)
    if report.login_trace_id:
        console.print(f"trace of a login: {report.login_trace_id}")
        console.print(f"  {report.trace_url}")
    else:
        console.print("no trace id on the last login (is telemetry disabled?)")


def _summary_table(summary: dict[str, Any]) -> Table:
    window = summary.get("window", "1h")
    table = Table(title=f"audit summary, last {window}", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, label in SUMMARY_FIGURES:
        table.add_row(label, _figure(summary.get(key)))
    return table


def _figure(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _print_alerts(report: DemoReport, console: Console) -> None:
    if not report.active_alerts:
        console.print("active alerts: none")
    for alert in report.active_alerts:
        console.print(f"active alert: {_alert_line(alert)}", style="bold red")
    for alert in report.pending_alerts:
        console.print(f"pending alert (fires if it holds): {_alert_line(alert)}")


def _alert_line(alert: dict[str, Any]) -> str:
    summary = alert.get("summary") or (
        f"value {alert.get('value')} over threshold {alert.get('threshold')}"
    )
    return f"{alert['rule']} ({alert['severity']}): {summary}"
