"""Secrets kept in files of the data folder for local runs.

In production the secrets come from the environment or a mounted file; on a
developer machine they are generated on first start, once, atomically, so two
processes starting together agree on the same key.
"""

import os
from collections.abc import Callable
from pathlib import Path


def load_or_create(path: Path, generate: Callable[[], bytes]) -> bytes:
    """The file's content, creating it with ``generate()`` if it is missing."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(generate())
    try:
        os.link(tmp, path)  # fails if another process created it first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()
