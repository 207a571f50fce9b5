"""HTTP plumbing for the FastAPI services: problem+json errors, health probes."""

from shared.http.health import ReadinessCheck, health_router
from shared.http.problems import (
    PROBLEM_JSON,
    Problem,
    ProblemDetail,
    install_problem_handlers,
)

__all__ = [
    "PROBLEM_JSON",
    "Problem",
    "ProblemDetail",
    "ReadinessCheck",
    "health_router",
    "install_problem_handlers",
]
