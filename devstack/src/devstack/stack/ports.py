"""The ports the stack will bind: checked before anything starts."""

from pathlib import Path
from typing import Any

from devstack.broker import free_port, port_is_free
from devstack.settings import StackSettings
from devstack.stack.errors import PortInUse, StackError
from devstack.stack.table import PortClaim, Stage


def check_ports(stages: list[Stage], host: str) -> None:
    """Raise, naming the port and its role, if one is taken or claimed twice."""
    claims: dict[int, PortClaim] = {}
    for claim in (claim for stage in stages for spec in stage for claim in spec.ports):
        if (other := claims.get(claim.port)) is not None:
            raise StackError(
                f"port {claim.port} is configured for both {other.role} "
                f"({other.variable}) and {claim.role} ({claim.variable})"
            )
        claims[claim.port] = claim
    for claim in claims.values():
        if not port_is_free(host, claim.port):
            raise PortInUse(claim, host)


def settings_on_free_ports(data_dir: Path, **overrides: Any) -> StackSettings:
    """Settings for a stack beside any other: free ports, its own data folder."""
    ports = {
        name: free_port()
        for name in (
            "broker_port",
            "identity_port",
            "notifier_port",
            "audit_port",
            "mailbox_smtp_port",
            "mailbox_http_port",
        )
    }
    return StackSettings(data_dir=data_dir, **(ports | overrides))
