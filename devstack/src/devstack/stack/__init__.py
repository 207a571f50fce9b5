"""The local stack as a library, used by ``devstack run`` and the e2e tests.

settings = settings_on_free_ports(tmp_path / "data")
async with Stack(settings) as stack:
    ...  # settings.identity_url, settings.mailbox_url, ...
"""

from devstack.stack.errors import ChildFailed, PortInUse, StackError
from devstack.stack.foreground import run_in_foreground
from devstack.stack.output import StackOutput
from devstack.stack.ports import settings_on_free_ports
from devstack.stack.summary import summary_lines
from devstack.stack.supervisor import Stack
from devstack.stack.table import ProcessSpec, stack_stages

__all__ = [
    "ChildFailed",
    "PortInUse",
    "ProcessSpec",
    "Stack",
    "StackError",
    "StackOutput",
    "run_in_foreground",
    "settings_on_free_ports",
    "stack_stages",
    "summary_lines",
]
