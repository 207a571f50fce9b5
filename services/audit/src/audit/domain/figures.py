"""The summary figures of the dashboard, from per-minute counts.

A window of N minutes covers the N whole minute buckets that end with the
current one (the current minute included, as far as it has happened).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

MINUTE = timedelta(minutes=1)
DAY = timedelta(hours=24)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the first minute bucket inside ``window`` ending at ``now``."""
    return (now - window).replace(second=0, microsecond=0) + MINUTE


def window_end(now: datetime) -> datetime:
    """The end (exclusive) of the minute bucket holding ``now``."""
    return now.replace(second=0, microsecond=0) + MINUTE


@dataclass(frozen=True)
class LoginCounts:
    successes: int = 0
    failures: int = 0
    duration_ms_sum: float = 0.0
    duration_count: int = 0

    @property
    def attempts(self) -> int:
        return self.successes + self.failures


@dataclass(frozen=True)
class Summary:
    window: timedelta
    window_start: datetime
    as_of: datetime
    logins: LoginCounts
    registrations: int
    lockouts_24h: int
    password_resets_24h: int
    password_reset_requests_24h: int
    p95_login_ms: float | None

    @property
    def login_success_rate(self) -> float | None:
        """successes / (successes + failures); None without any attempt."""
        if not self.logins.attempts:
            return None
        return round(self.logins.successes / self.logins.attempts, 4)

    @property
    def registrations_per_hour(self) -> float:
        hours = self.window.total_seconds() / 3600
        return round(self.registrations / hours, 2)

    @property
    def avg_login_ms(self) -> float | None:
        if not self.logins.duration_count:
            return None
        return round(self.logins.duration_ms_sum / self.logins.duration_count, 1)

    def as_document(self) -> dict[str, object]:
        return {
            "window": _window_name(self.window),
            "window_start": self.window_start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "login_attempts": self.logins.attempts,
            "login_successes": self.logins.successes,
            "login_failures": self.logins.failures,
            "login_success_rate": self.login_success_rate,
            "registrations": self.registrations,
            "registrations_per_hour": self.registrations_per_hour,
            "lockouts_24h": self.lockouts_24h,
            "password_resets_24h": self.password_resets_24h,
            "password_reset_requests_24h": self.password_reset_requests_24h,
            "avg_login_ms": self.avg_login_ms,
            "p95_login_ms": self.p95_login_ms,
        }


def nearest_rank(count: int, quantile: float) -> int:
    """The 0-based index of the ``quantile`` of ``count`` sorted values."""
    rank = math.ceil(quantile * count - 1e-9)  # no extra rank from float noise
    return max(min(rank, count), 1) - 1


def _window_name(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"
