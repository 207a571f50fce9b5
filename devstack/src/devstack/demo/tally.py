"""What the demo did so far: shown while it runs and in the closing report."""

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    requests: int = 0
    rate_limited: int = 0
    waited_for_rate_limit: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    registered: int = 0
    verified: int = 0
    logins: int = 0
    failed_logins: int = 0
    logouts: int = 0
    mails_read: int = 0
    locked: int = 0
    resets: int = 0
    stuffing_attempts: int = 0

    def line(self) -> str:
        return (
            f"{self.requests} requests, {self.registered} registered, "
            f"{self.verified} verified, {self.logins} logins, "
            f"{self.failed_logins} refused logins, {self.rate_limited} x 429"
        )
