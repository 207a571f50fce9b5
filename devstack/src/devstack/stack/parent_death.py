"""Children that outlive no launcher: the safety net when it dies uncleanly.

``stop`` ends every child in order; this covers what it cannot, a launcher
killed with SIGKILL or crashing. Linux only (``prctl(PR_SET_PDEATHSIG)``);
elsewhere children of a killed launcher are left running.
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def parent_death_signal(
    signum: signal.Signals = signal.SIGTERM,
) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel for ``signum`` when the launcher dies.

    The signal follows the thread that forks the child: call this and spawn
    from the thread running the event loop that will stop the children.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    launcher = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signum))
        if os.getppid() != launcher:
            # The launcher died before the request took effect.
            os._exit(1)

    return arm
