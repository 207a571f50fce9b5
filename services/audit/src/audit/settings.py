"""Settings of the audit service, read once at start-up."""

from datetime import timedelta

from pydantic import AliasChoices, AnyHttpUrl, Field

from audit.domain.alerts import AlertPolicy, RuleThresholds
from shared.settings import CommonSettings


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class AuditSettings(CommonSettings):
    """``AUDIT_*`` variables plus the broker and topic settings every service reads.

    Alert thresholds, windows and the evaluation timing are configurable; the
    defaults are what docs/audit.md documents.
    """

    database_url: str = Field(
        default="sqlite+aiosqlite:///data/audit.db",
        validation_alias=_env("AUDIT_DATABASE_URL"),
    )
    port: int = Field(default=8003, validation_alias=_env("AUDIT_PORT"))
    consumer_group: str = Field(
        default="audit", min_length=1, validation_alias=_env("AUDIT_CONSUMER_GROUP")
    )
    consumer_batch_size: int = Field(
        default=2000, ge=1, le=10000, validation_alias=_env("AUDIT_CONSUMER_BATCH_SIZE")
    )
    jaeger_ui_url: str = Field(
        default="http://127.0.0.1:16686", validation_alias=_env("JAEGER_UI_URL")
    )
    dashboard_refresh_s: int = Field(
        default=10, ge=1, le=3600, validation_alias=_env("AUDIT_DASHBOARD_REFRESH_S")
    )

    alert_webhook_url: AnyHttpUrl | None = Field(
        default=None, validation_alias=_env("AUDIT_ALERT_WEBHOOK_URL")
    )
    alert_webhook_timeout_s: float = Field(
        default=5.0, gt=0, le=60, validation_alias=_env("AUDIT_ALERT_WEBHOOK_TIMEOUT_S")
    )
    alert_evaluation_interval_s: float = Field(
        default=5.0, gt=0, validation_alias=_env("AUDIT_ALERT_EVALUATION_INTERVAL_S")
    )
    alert_for_s: int = Field(
        default=60, ge=0, validation_alias=_env("AUDIT_ALERT_FOR_S")
    )
    alert_resolve_after_s: int = Field(
        default=180, ge=0, validation_alias=_env("AUDIT_ALERT_RESOLVE_AFTER_S")
    )
    alert_resolve_ratio: float = Field(
        default=0.8, gt=0, le=1, validation_alias=_env("AUDIT_ALERT_RESOLVE_RATIO")
    )

    alert_failure_rate_threshold: float = Field(
        default=0.05, gt=0, le=1, validation_alias=_env("AUDIT_ALERT_FAILURE_RATE")
    )
    alert_failure_rate_min_attempts: int = Field(
        default=20, ge=1, validation_alias=_env("AUDIT_ALERT_FAILURE_RATE_MIN_ATTEMPTS")
    )
    alert_failure_rate_window_s: int = Field(
        default=300, ge=60, validation_alias=_env("AUDIT_ALERT_FAILURE_RATE_WINDOW_S")
    )
    alert_lockouts_threshold: int = Field(
        default=5, ge=1, validation_alias=_env("AUDIT_ALERT_LOCKOUTS")
    )
    alert_lockouts_window_s: int = Field(
        default=900, ge=60, validation_alias=_env("AUDIT_ALERT_LOCKOUTS_WINDOW_S")
    )
    alert_reset_requests_threshold: int = Field(
        default=20, ge=1, validation_alias=_env("AUDIT_ALERT_RESET_REQUESTS")
    )
    alert_reset_requests_window_s: int = Field(
        default=900, ge=60, validation_alias=_env("AUDIT_ALERT_RESET_REQUESTS_WINDOW_S")
    )
    alert_reset_token_failures_threshold: int = Field(
        default=10, ge=1, validation_alias=_env("AUDIT_ALERT_RESET_TOKEN_FAILURES")
    )
    alert_reset_token_failures_window_s: int = Field(
        default=900,
        ge=60,
        validation_alias=_env("AUDIT_ALERT_RESET_TOKEN_FAILURES_WINDOW_S"),
    )
    alert_stuffing_addresses_threshold: int = Field(
        default=10, ge=2, validation_alias=_env("AUDIT_ALERT_STUFFING_ADDRESSES")
    )
    alert_stuffing_window_s: int = Field(
        default=600, ge=60, validation_alias=_env("AUDIT_ALERT_STUFFING_WINDOW_S")
    )
    alert_slow_login_p95_ms: float = Field(
        default=500.0, gt=0, validation_alias=_env("AUDIT_ALERT_SLOW_LOGIN_P95_MS")
    )
    alert_slow_login_min_logins: int = Field(
        default=10, ge=1, validation_alias=_env("AUDIT_ALERT_SLOW_LOGIN_MIN_LOGINS")
    )
    alert_slow_login_window_s: int = Field(
        default=300, ge=60, validation_alias=_env("AUDIT_ALERT_SLOW_LOGIN_WINDOW_S")
    )

    def alert_policy(self) -> AlertPolicy:
        """The alert rules' thresholds and timing as the domain sees them."""
        return AlertPolicy(
            pending_for=timedelta(seconds=self.alert_for_s),
            resolve_after=timedelta(seconds=self.alert_resolve_after_s),
            resolve_ratio=self.alert_resolve_ratio,
            thresholds=RuleThresholds(
                failure_rate=self.alert_failure_rate_threshold,
                failure_rate_min_attempts=self.alert_failure_rate_min_attempts,
                failure_rate_window=timedelta(seconds=self.alert_failure_rate_window_s),
                lockouts=self.alert_lockouts_threshold,
                lockouts_window=timedelta(seconds=self.alert_lockouts_window_s),
                reset_requests=self.alert_reset_requests_threshold,
                reset_requests_window=timedelta(
                    seconds=self.alert_reset_requests_window_s
                ),
                reset_token_failures=self.alert_reset_token_failures_threshold,
                reset_token_failures_window=timedelta(
                    seconds=self.alert_reset_token_failures_window_s
                ),
                stuffing_addresses=self.alert_stuffing_addresses_threshold,
                stuffing_window=timedelta(seconds=self.alert_stuffing_window_s),
                slow_login_p95_ms=self.alert_slow_login_p95_ms,
                slow_login_min_logins=self.alert_slow_login_min_logins,
                slow_login_window=timedelta(seconds=self.alert_slow_login_window_s),
            ),
        )
