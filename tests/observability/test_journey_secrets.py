"""Nothing a service exports tells a password, a token, a JWT or a hash of one."""

from tests.observability.conftest import Observed


def exported_text(observed: Observed) -> str:
    """Every export request as protobuf text: names, attributes, events, bodies."""
    receiver = observed.receiver
    requests = [*receiver.traces, *receiver.metrics, *receiver.logs]
    return "\n".join(str(request) for request in requests)


def test_no_password_token_or_jwt_in_any_span_metric_or_log(observed: Observed) -> None:
    text = exported_text(observed)
    secrets = observed.journey.secrets

    assert len(secrets) >= 12  # 3 passwords, 2 tokens and hashes, 2 JWTs and parts
    assert observed.journey.email in text  # the search does see the exports
    assert [s for s in secrets if s in text] == []
    assert "$argon2" not in text
