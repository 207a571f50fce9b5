"""The identity's metric instruments, named as docs/observability-metrics.yaml
lists them; spans of the same steps carry the same names without the unit."""

from opentelemetry import metrics

# Argon2id at the default parameters takes tens of milliseconds; a saturated
# hashing pool pushes it to seconds.
_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
_FAST_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1]

_meter = metrics.get_meter("identity")

auth_events = _meter.create_counter(
    "auth.events",
    unit="{event}",
    description="Auth events by type, outcome (success, failure) and failure reason",
)
password_hash_duration = _meter.create_histogram(
    "auth.password_hash.duration",
    unit="s",
    description="Time to hash or verify one password (argon2id), including the "
    "wait for a hashing thread",
    explicit_bucket_boundaries_advisory=_SECONDS,
)
token_issue_duration = _meter.create_histogram(
    "auth.token_issue.duration",
    unit="s",
    description="Time to sign one access token",
    explicit_bucket_boundaries_advisory=_FAST_SECONDS,
)
login_duration = _meter.create_histogram(
    "auth.login.duration",
    unit="s",
    description="Time identity spent on one login request",
    explicit_bucket_boundaries_advisory=_SECONDS,
)
outbox_publish_lag = _meter.create_histogram(
    "outbox.publish_lag",
    unit="s",
    description="Time from the outbox row's commit to the broker's acknowledgement",
    explicit_bucket_boundaries_advisory=[
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        300,
    ],
)
