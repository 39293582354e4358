"""Benchmarks: `python tools/bench.py SUITE [--quick] [--markdown]`.

Each suite lives in `tools/benchmarks/<suite>.py` and exposes `run(quick: bool) -> list[BenchRow]`.
Every figure is a ratio against a baseline measured in the same run (see benchmarks/common.py).
The latest full table is recorded in docs/benchmarks.md with the date and the machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchmarks.common import BenchRow

SUITES = ("serving", "registry", "drift", "mlflow", "http", "replicas", "scaling")


def machine_line() -> str:
    """Date, CPU count and Python: what the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores ({cpu}); "
        f"Python {platform.python_version()}; {platform.system()} {platform.release()}"
    )


def format_table(rows: list[BenchRow], *, markdown: bool) -> str:
    """The rows as an aligned text table, or as a Markdown table."""
    header = ["suite", "benchmark", "measured", "baseline", "unit", "ratio", "target", "met", "note"]
    body = [
        [
            r.suite,
            r.name,
            f"{r.measured:.4g}",
            f"{r.baseline:.4g}",
            r.unit,
            f"{r.ratio:.3g}",
            r.target,
            "yes" if r.met else "NO",
            r.note,
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--record", action="store_true", help="also write the table into docs/benchmarks.md (between its markers)"
    )
    args = parser.parse_args(argv)
    rows: list[BenchRow] = []
    for suite in SUITES if args.suite == "all" else (args.suite,):
        module = importlib.import_module(f"benchmarks.{suite}")
        rows.extend(module.run(quick=args.quick))
    command = f"python tools/bench.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    print(f"Machine: {machine_line()}")
    print(f"Command: {command}")
    print(format_table(rows, markdown=args.markdown))
    if args.record:
        record(rows, command)
        for suite in {r.suite for r in rows}:
            plot = getattr(importlib.import_module(f"benchmarks.{suite}"), "plot", None)
            if plot is not None:
                print(f"Plot: {plot(rows)}")
    return 0 if all(r.met for r in rows) else 1


DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def record(rows: list[BenchRow], command: str) -> None:
    """Replace each recorded suite's table in docs/benchmarks.md; other suites' tables stay."""
    text = DOC.read_text()
    for suite in sorted({r.suite for r in rows}):
        start, end = f"<!-- bench:{suite}:start -->", f"<!-- bench:{suite}:end -->"
        if start not in text or end not in text:
            text = text.rstrip() + f"\n\n### {suite}\n\n{start}\n{end}\n"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        table = format_table([r for r in rows if r.suite == suite], markdown=True)
        body = f"Measured {machine_line()}, with `{command}`.\n\n{table}"
        text = f"{head}{start}\n{body}\n{end}{tail}"
    DOC.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
