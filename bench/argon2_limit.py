"""The physical limit of logins: raw argon2id verifications per second.

``python -m bench.argon2_limit SPEC.json`` verifies one hash in ``threads``
threads (argon2-cffi releases the GIL, like the identity hashing pool) for
``seconds`` and prints ``{"per_second": ...}``. Same library and parameters
as identity (passlib hands the work to argon2-cffi).
"""

import json
import sys
import threading
import time
from pathlib import Path

from argon2 import PasswordHasher, Type


def measure(
    threads: int, seconds: float, memory_kib: int, time_cost: int, parallelism: int
) -> float:
    hasher = PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        type=Type.ID,
    )
    password = "correct horse battery staple"
    stored = hasher.hash(password)
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        while time.monotonic() < deadline:
            hasher.verify(stored, password)
            counts[index] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    per_second = measure(
        spec["threads"],
        spec["seconds"],
        spec["memory_kib"],
        spec["time_cost"],
        spec["parallelism"],
    )
    print(json.dumps({"per_second": per_second}))


if __name__ == "__main__":
    main()
