"""Why the stack could not start or stopped."""

from devstack.stack.table import PortClaim


class StackError(Exception):
    """The stack cannot run; the message says why in a user's terms."""


class PortInUse(StackError):
    def __init__(self, claim: PortClaim, host: str) -> None:
        super().__init__(
            f"port {claim.port} ({claim.role}) is already in use on {host}: "
            f"stop what holds it, or pick another port with {claim.variable}=<port>"
        )
        self.claim = claim


class ChildFailed(StackError):
    """A child exited, or did not become ready, while the stack was starting."""

    def __init__(self, name: str, reason: str, tail: list[str]) -> None:
        super().__init__(f"{name} {reason}")
        self.name = name
        self.tail = tail
