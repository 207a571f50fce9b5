"""``devstack demo``: traffic like real users and attackers against a running stack.

options = DemoOptions(identity_url=..., audit_url=..., mailbox_url=...)
report = await run_demo(options, console)
render_report(report, console)
"""

from devstack.demo.errors import DemoError, ServiceUnavailable
from devstack.demo.options import DemoOptions
from devstack.demo.report import DemoReport, render_report
from devstack.demo.runner import run_demo

__all__ = [
    "DemoError",
    "DemoOptions",
    "DemoReport",
    "ServiceUnavailable",
    "render_report",
    "run_demo",
]
