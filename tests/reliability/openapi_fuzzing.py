"""Fuzzing one service from its own OpenAPI, with schemathesis, case by case.

The requests are generated from ``/openapi.json`` (valid ones, and ones the
schema forbids) and sent to ASGI apps in process, their lifespans run by
schemathesis. Runs are derandomized: CI sends the same cases every time.
Generating is the costly part, so each case goes to every app given (the
same service on SQLite and on PostgreSQL).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 25
MAX_REPORT_CHARS = 1500  # a failure's reproduction can hold a 16 KB body
# Every answer must be documented (status, media type, body, headers), and a
# request the schema forbids must be refused with a 4xx.
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


# Any 4xx refuses invalid input, 413 (body over the limit) included.
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["4XX"]}}}
)


@dataclass
class FuzzReport:
    operations: list[str] = field(default_factory=list)
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(
    apps: Sequence[Any], *, may_answer_5xx: frozenset[str] = frozenset()
) -> FuzzReport:
    """Every operation, valid and invalid input, against each of ``apps``;
    ``may_answer_5xx`` names the operations whose documented job is a 503 (a
    readiness probe)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps[0], config=CONFIG)
    report = FuzzReport()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI does not load: {result.err()}"
        operation = result.ok()
        report.operations.append(operation.label)
        checks = list(CONFORMANCE)
        if operation.label not in may_answer_5xx:
            checks.append(not_a_server_error)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _run(operation.as_strategy(mode), apps, checks, report)
            except Unsatisfiable:
                # Nothing to make invalid: the operation takes no input.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as failure:
                report.failures.append(
                    f"{operation.label} ({mode}): {str(failure)[:MAX_REPORT_CHARS]}"
                )
    return report


def _run(
    strategy: Any,
    apps: Sequence[Any],
    checks: list[Callable[..., Any]],
    report: FuzzReport,
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    def one_case(case: Any) -> None:
        report.cases += 1
        for app in apps:
            case.call_and_validate(checks=checks, app=app)

    one_case()
