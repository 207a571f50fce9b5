"""docs/benchmarks.md and its JSON twin, from the sections of one run."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import Section

# Written by hand after reading a run: what the figures mean and where the
# time goes for each missed goal. Appended as it is to every report.
ANALYSIS = Path(__file__).parent / "ANALYSIS.md"

INTRO = """\
# Benchmarks

Written by `make bench` (`python -m bench`); every figure below comes from the
run described here, on this machine, and the JSON twin of this page is
`{json_name}`. Medians of {runs} runs unless a table says otherwise; every
ratio is measured within one run, side by side, then the median of the
ratios is taken. All processes (services, broker, load generators, the
reference measurements) share the same {cores} cores, so a load generator's
CPU is CPU the service under test did not get: the tables say how much it
took.
"""


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value).replace("|", "\\|")


def markdown(
    sections: list[Section],
    machine: dict[str, str],
    meta: dict[str, Any],
    json_name: str,
) -> str:
    out = [INTRO.format(json_name=json_name, runs=meta["runs"], cores=meta["cores"])]
    out.append("## Machine\n")
    out.append("| | |\n| --- | --- |")
    out += [f"| {k} | {v} |" for k, v in machine.items()]
    out.append(
        f"| run | {meta['started']} UTC, {meta['minutes']:.1f} min, "
        f"`{meta['command']}` |\n"
    )
    out.append("## Goals\n")
    out.append("| benchmark | goal | target | measured | met |")
    out.append("| --- | --- | --- | --- | --- |")
    for section in sections:
        for goal in section.goals:
            out.append(
                f"| {section.title.split(' ', 1)[0].rstrip('.')} | {goal.name} | "
                f"{goal.target} | {goal.measured} | {'yes' if goal.met else '**no**'} |"
            )
    out.append("")
    for section in sections:
        out.append(f"## {section.title}\n")
        out.append(f"Command: `{section.command}` ({section.seconds:.0f} s).\n")
        for paragraph in section.method:
            out.append(f"- {paragraph}")
        if section.method:
            out.append("")
        for table in section.tables:
            out.append(f"**{table.title}**\n")
            out.append("| " + " | ".join(table.columns) + " |")
            out.append("|" + " --- |" * len(table.columns))
            for row in table.rows:
                out.append("| " + " | ".join(_cell(v) for v in row) + " |")
            out.append("")
        for note in section.notes:
            out.append(f"- {note}")
        if section.notes:
            out.append("")
    if ANALYSIS.exists():
        out.append(ANALYSIS.read_text())
    return "\n".join(out).rstrip() + "\n"


def write(
    sections: list[Section],
    machine: dict[str, str],
    meta: dict[str, Any],
    markdown_path: Path,
    json_path: Path,
) -> None:
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(markdown(sections, machine, meta, json_path.name))
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "run": meta,
        "sections": [s.to_json() for s in sections],
    }
    json_path.write_text(json.dumps(document, indent=1, default=str) + "\n")
