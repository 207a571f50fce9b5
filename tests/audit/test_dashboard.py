"""The dashboard in a real headless Chromium, against a running audit service
fed through the broker: figures and charts come from the projected events, the
page refreshes itself, an account search shows its diagnosis, and the console
stays clean."""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Page, async_playwright, expect

from tests.audit.conftest import RunningAudit, running_audit, topics_of_their_own
from tests.audit.stream import MOBILE_SAFARI, Account

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
JAEGER = "http://jaeger.example.test:16686"

if not CHROMIUM.exists() and os.environ.get("CI", "").lower() != "true":
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
async def audit(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningAudit]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('dashboard') / 'audit.db'}"
    async with running_audit(
        topics_of_their_own(kafka_bootstrap),
        url,
        AUDIT_DASHBOARD_REFRESH_S=1,
        JAEGER_UI_URL=JAEGER,
        # One lockout fires the lockout alert at once, so the page shows one.
        AUDIT_ALERT_LOCKOUTS=1,
        AUDIT_ALERT_FOR_S=0,
        AUDIT_ALERT_EVALUATION_INTERVAL_S=0.5,
    ) as running:
        yield running


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield await browser.new_page(viewport={"width": 1280, "height": 1600})
        finally:
            await browser.close()


async def test_the_dashboard_shows_the_projected_activity(
    audit: RunningAudit, page: Page
) -> None:
    now = datetime.now(UTC)

    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    lena = Account("lena.dash@example.com", ip="203.0.113.7", user_agent=MOBILE_SAFARI)
    others = [Account(f"dash{i}@example.com") for i in range(4)]
    story = [
        lena.registered(ago(20)),
        lena.verified(ago(19)),
        *(lena.login_failed(ago(4 - i * 0.2), attempts=i + 1) for i in range(5)),
        lena.locked(ago(3)),
        others[0].registered(ago(18)),
        others[1].registered(ago(17)),
        others[2].reset_requested(ago(15)),
        others[2].reset_done(ago(14)),
        others[0].logged_in(ago(10), duration_ms=150),
        others[1].logged_in(ago(9), duration_ms=200),
        others[2].logged_in(ago(8), duration_ms=250),
    ]
    for envelope in story:
        await audit.publish(envelope)
    last_attempt = lena.login_failed(ago(2), reason="account_locked")
    last_trace = await audit.publish(last_attempt)
    await audit.stored(*story, last_attempt)

    console_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(str(error)))

    # Given the page, when it has loaded, then the figures are the last hour's.
    response = await page.goto(f"{audit.base_url}/dashboard")
    assert response is not None and response.status == 200
    await page.wait_for_selector("body[data-drawn='true']")
    figures = {
        name: await page.text_content(f"#fig-{name}")
        for name in (
            "login_attempts",
            "login_success_rate",
            "registrations_per_hour",
            "lockouts_24h",
            "password_resets_24h",
            "avg_login_ms",
            "p95_login_ms",
        )
    }
    assert figures == {
        "login_attempts": "9",
        "login_success_rate": "33.3%",
        "registrations_per_hour": "3",
        "lockouts_24h": "1",
        "password_resets_24h": "1",
        "avg_login_ms": "200 ms",
        "p95_login_ms": "250 ms",
    }

    # The charts are drawn, from the same events.
    totals = await page.evaluate(
        """() => Object.fromEntries(
            ["logins", "registrations", "lockouts", "resets"].map((id) => [
                id,
                Chart.getChart("chart-" + id).data.datasets.map((d) => [
                    d.label, d.data.reduce((a, b) => a + b, 0), d.data.length,
                ]),
            ]))"""
    )
    assert totals == {
        "logins": [["succeeded", 3, 60], ["failed", 6, 60]],
        "registrations": [["registrations", 3, 60]],
        "lockouts": [["lockouts", 1, 60]],
        "resets": [["requested", 1, 60], ["completed", 1, 60]],
    }
    painted = await page.evaluate(
        """() => {
            const canvas = document.getElementById("chart-logins");
            const pixels = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++;
            return count;
        }"""
    )
    assert painted > 1000

    # Recent events link to their traces in Jaeger.
    trace_id = last_trace.split("-")[1]
    link = page.locator(f"#events a.trace[href='{JAEGER}/trace/{trace_id}']")
    assert await link.count() == 1

    # It refreshes itself: a new login shows up without a reload.
    await audit.publish(others[3].logged_in(datetime.now(UTC), duration_ms=200))
    await expect(page.locator("#fig-login_attempts")).to_have_text("10", timeout=20_000)
    assert await page.text_content("#fig-login_success_rate") == "40.0%"

    # The service's own evaluator fired the lockout alert; the page shows it.
    await expect(page.locator("#alert-list")).to_contain_text(
        "lockout_spike", timeout=20_000
    )
    assert "1 account lockout in 15 min" in (
        await page.text_content("#alert-list") or ""
    )

    # A support person searches the account and reads the diagnosis.
    await page.fill("#account", "  Lena.Dash@Example.com ")
    await page.click("#account-search button[type=submit]")
    await page.wait_for_selector("#diagnosis")
    diagnosis = await page.text_content("#diagnosis")
    assert diagnosis is not None
    assert diagnosis.startswith("Locked since ")
    assert "after 6 failed logins in 10 minutes from 203.0.113.7 (Mobile Safari)" in (
        diagnosis
    )
    assert diagnosis.endswith("or after a password reset.")
    assert await page.text_content("#activity-failed") == "6"
    assert await page.locator(f"#activity-events a.trace[href$='{trace_id}']").count()

    assert console_errors == []
