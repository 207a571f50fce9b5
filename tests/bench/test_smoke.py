"""`python -m bench --quick` end to end: the benchmarks run and report.

Figures of a quick run mean nothing (tiny sizes, one run); what is checked is
that the harness starts what it needs, drives real processes, and writes a
report whose tables hold measurements. The real run is `make bench`.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_login_and_ingest_write_a_report_with_measurements(
    tmp_path: Path,
) -> None:
    markdown, document = tmp_path / "bench.md", tmp_path / "bench.json"

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "login,ingest",
            "--no-postgres",
            "--markdown",
            str(markdown),
            "--json",
            str(document),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(document.read_text())
    sections = {s["key"]: s for s in report["sections"]}
    assert set(sections) == {"login", "event_loop", "ingest"}
    login = sections["login"]["data"]["sqlite"]["levels"]["8"][0]
    assert login["completed"] > 0 and login["statuses"] == {"200": login["completed"]}
    assert login["limit"] > 0
    failures = sections["login"]["data"]["sqlite"]["failures"]
    assert set(failures["wrong_password"][0]["statuses"]) == {"401"}
    assert set(failures["unknown_email"][0]["statuses"]) == {"401"}
    ingest = sections["ingest"]["data"]["sqlite"]
    assert ingest["rebuild"][0]["projected"] == ingest["bare"][0]["messages"] == 2000
    assert all(goal["measured"] for s in sections.values() for goal in s["goals"])
    text = markdown.read_text()
    assert "## Machine" in text and "| cores (nproc) | " in text
    assert "1. Login throughput" in text and "5. Audit ingest" in text
