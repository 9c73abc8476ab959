"""``python -m bench [--quick] [--out DIR] [--only SECTION ...]``: run the suite, write results.

Writes ``<timestamp>.json``, ``latest.json``, ``SUMMARY.md`` and PNG plots into the output
directory (``bench/results``; ``bench/results/tmp`` for ``--quick``). Missed goals never
change the exit status; a section that fails to run does (exit 1).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import (
    client_cpu,
    client_latency,
    cold_start,
    engine,
    plugin_engine,
    provider_server,
    state_size,
)
from ._common import JSON, RESULTS_DIR, cpus
from .report import write_report

SECTIONS: dict[str, Callable[[bool], JSON]] = {
    "client_cpu": client_cpu.run,
    "client_latency": client_latency.run,
    "provider_server": provider_server.run,
    "state_size": state_size.run,
    "cold_start": cold_start.run,
    "engine": engine.run,
    "plugin_engine": plugin_engine.run,
}


def _versions() -> dict[str, str]:
    found = {}
    for name in (
        "pulumi-yc-websocket",
        "pulumi",
        "requests",
        "urllib3",
        "pydantic",
        "grpcio",
        "protobuf",
        "yandexcloud",
    ):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections; write JSON, the summary and the plots."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run of a few seconds")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="sections to run")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="only rewrite SUMMARY.md and plots from JSON"
    )
    args = parser.parse_args(argv)
    if args.render:
        write_report(json.loads(args.render.read_text()), args.out or args.render.parent)
        return 0
    out: Path = args.out or (RESULTS_DIR / "tmp" if args.quick else RESULTS_DIR)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    sections: dict[str, JSON] = {}
    failed = False
    for name in args.only or SECTIONS:
        print(f"== {name}", file=sys.stderr, flush=True)
        section_started = time.perf_counter()
        try:
            sections[name] = SECTIONS[name](args.quick)
        except Exception:
            failed = True
            sections[name] = {"title": name, "error": traceback.format_exc(), "goals": []}
            print(sections[name]["error"], file=sys.stderr)
        sections[name]["duration_s"] = time.perf_counter() - section_started

    results: JSON = {
        "meta": {
            "timestamp": stamp,
            "quick": args.quick,
            "duration_s": time.perf_counter() - started,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": len(cpus()),
            "versions": _versions(),
        },
        "goals": [g for section in sections.values() for g in section.get("goals", [])],
        "sections": sections,
    }
    text = json.dumps(_finite(results), indent=2, allow_nan=False) + "\n"
    (out / f"{stamp}.json").write_text(text)
    (out / "latest.json").write_text(text)
    write_report(results, out, plots=not args.no_plots)
    for item in results["goals"]:
        verdict = "pass" if item["pass"] else "MISS"
        print(
            f"{verdict:4}  {item['id']:6}  {item['value']:10.3f}  {item['goal']}", file=sys.stderr
        )
    print(f"results: {out / 'latest.json'}, summary: {out / 'SUMMARY.md'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
