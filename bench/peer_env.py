"""The benchmark's own environment: bench/.venv-peer.

The peer (fastapi-users with its SQLAlchemy adapter) and the profiler
(py-spy) are installed there from the pinned bench/peer/requirements.txt,
never into the project's environment: nothing of the product can come to
depend on them, and uv.lock stays the product's. The server stack is pinned
to the versions of uv.lock (uvicorn, uvloop, httptools, FastAPI, SQLAlchemy,
argon2-cffi), so the peer runs on the same server as identity.
Re-created when requirements.txt changes.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from bench.processes import REPO

VENV = REPO / "bench" / ".venv-peer"
REQUIREMENTS = REPO / "bench" / "peer" / "requirements.txt"


def peer_python() -> Path:
    return VENV / "bin" / "python"


def py_spy() -> Path:
    return VENV / "bin" / "py-spy"


def ensure_peer_environment() -> Path:
    """Create or refresh the environment; answer its python."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = VENV / ".requirements-sha256"
    if stamp.exists() and stamp.read_text() == digest and peer_python().exists():
        return peer_python()
    uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if Path(uv).exists():
        subprocess.run([uv, "venv", "-q", "--python", version, str(VENV)], check=True)
        subprocess.run(
            [
                uv,
                "pip",
                "sync",
                "-q",
                "--python",
                str(peer_python()),
                str(REQUIREMENTS),
            ],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(peer_python()), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
            check=True,
        )
    stamp.write_text(digest)
    return peer_python()
