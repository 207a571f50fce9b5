"""What one demo run does, and against which stack."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOptions:
    """``rate`` spaces the requests of ordinary users to identity (all users
    together); the credential-stuffing burst ignores it, as an attacker would.
    ``duration`` is the time of mixed traffic after the scripted scenes, which
    always run to the end. ``seed`` makes names, passwords and choices
    repeatable; addresses also carry a run tag, so every run registers new
    accounts.
    """

    identity_url: str = "http://127.0.0.1:8001"
    audit_url: str = "http://127.0.0.1:8003"
    mailbox_url: str = "http://127.0.0.1:8025"
    jaeger_ui_url: str = "http://127.0.0.1:16686"
    users: int = 5
    rate: float = 2.0
    duration: float = 60.0
    seed: int | None = None
    stuffing_attempts: int = 15
    mail_timeout: float = 30.0
    audit_timeout: float = 30.0
    request_timeout: float = 15.0
    longest_retry_after: float = 120.0
