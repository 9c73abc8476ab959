"""6. Through the real Pulumi CLI: ``pulumi preview`` and ``pulumi up`` of N lookups.

A program of N ``WebSocketConnection`` resources against the emulator with 20 ms added to every
answer (an OAuth token in the environment, so each provider process exchanges it once), next to
the same program made of ``NoLookup`` resources (``noop_provider.py``: the same engine steps, a
provider that looks nothing up), which is the engine's own floor. Each run is a new stack on a
local file backend. Reported: wall times, the time above the floor per lookup, GETs per lookup
in one ``up``, provider processes started and token exchanges made by one ``up``.

The engine calls Check one resource at a time, and the lookup runs in Check: the time above the
floor is what those serial lookups cost.

Both programs run with ``PULUMI_SKIP_CHECKPOINTS=true``. With checkpoints the engine rewrites the
whole state after every step, a cost quadratic in N that hides everything else at N = 1000
(measured here: a no-lookup preview of 300 resources took 9.3 s with them, 3.3 s without).
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from tools.pulumi_cli import Project, Workspace, find_cli

from ._common import JSON, ROOT, Peer, median, now, rotated

LATENCY = 0.02
VARIANTS = ("lookups", "floor")
PROGRAM = """
import pulumi

config = pulumi.Config()
ids = config.require_object("ids")
if config.require("variant") == "lookups":
    from pulumi_yc_websocket import WebSocketConnection as Lookup
else:
    from bench.noop_provider import NoLookup as Lookup

for index in range(config.require_int("n")):
    Lookup(f"c{index}", ids[index % len(ids)])
"""
# Appends the pid of every provider process (`python -m pulumi.dynamic`) to a file.
PROCESS_PROBE = """
import os
import sys

if "pulumi.dynamic" in getattr(sys, "orig_argv", ()):
    with open(os.environ["YCWS_BENCH_PROVIDERS"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\\n")
"""


class _Stacks:
    """New stacks of the program, in a scratch directory, against the emulator."""

    def __init__(self, scratch: Path, emulator: Peer, cli: Path) -> None:
        self.scratch = scratch
        probe = scratch / "probe"
        probe.mkdir()
        (probe / "sitecustomize.py").write_text(PROCESS_PROBE, "utf-8")
        self.providers_log = scratch / "providers.log"
        url = emulator.ready["url"]
        self.env = {
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": url,
            "YC_IAM_ENDPOINT": url,
            "YC_METADATA_ADDR": "127.0.0.1:9",  # never used: a token is configured
            "YC_TOKEN": emulator.ready["oauth_token"],
            "PYTHONPATH": f"{probe}:{ROOT}",  # the probe; `bench` for the floor's provider
            "YCWS_BENCH_PROVIDERS": str(self.providers_log),
            "NO_PROXY": "127.0.0.1,localhost",
            "PULUMI_SKIP_CHECKPOINTS": "true",
        }
        self.cli = cli
        self.ids: list[str] = emulator.ready["ids"]
        self.count = 0

    def new(self, variant: str, n: int) -> Project:
        self.count += 1
        root = self.scratch / f"run{self.count}"
        directory = root / "project"
        directory.mkdir(parents=True)
        (directory / "__main__.py").write_text(textwrap.dedent(PROGRAM), "utf-8")
        (directory / "Pulumi.yaml").write_text("name: bench-engine\nruntime: python\n", "utf-8")
        project = Project(Workspace(root, cli=self.cli, env=self.env), directory, python=_python())
        project.init_stack("bench", config={"variant": variant, "n": n, "ids": self.ids})
        return project

    def providers_started(self) -> int:
        if not self.providers_log.exists():
            return 0
        started = len(self.providers_log.read_text("utf-8").splitlines())
        self.providers_log.unlink()
        return started


def _python() -> Path:
    import sys

    return Path(sys.executable)


def _one_run(stacks: _Stacks, emulator: Peer, variant: str, n: int) -> JSON:
    """``pulumi preview`` then ``pulumi up`` of a new stack: times and counts."""
    project = stacks.new(variant, n)
    stacks.providers_started()
    emulator.call("clear")
    start = now()
    project.pulumi("preview")
    preview_s = now() - start
    preview = emulator.call("stats")
    preview_processes = stacks.providers_started()
    emulator.call("clear")
    start = now()
    project.pulumi("up", "--yes")
    up_s = now() - start
    up = emulator.call("stats")
    emulator.call("clear")
    return {
        "n": n,
        "preview_s": preview_s,
        "up_s": up_s,
        "preview_gets": preview["connections"],
        "preview_provider_processes": preview_processes,
        "up_gets": up["connections"],
        "up_token_exchanges": up["iam"],
        "up_provider_processes": stacks.providers_started(),
    }


def run(quick: bool) -> JSON:
    """Each N, both programs, interleaved; a new stack per run."""
    cli = find_cli()
    title = "Through the real Pulumi CLI (20 ms added per answer)"
    if cli is None:
        return {"title": title, "skipped": "no pulumi CLI: run `make pulumi-cli`", "goals": []}
    plan = {10: 1} if quick else {10: 3, 100: 3, 1000: 1}
    raw: dict[str, dict[int, list[JSON]]] = {v: {n: [] for n in plan} for v in VARIANTS}
    with (
        Peer("bench._emulator_proc", ["-"]) as emulator,
        tempfile.TemporaryDirectory(prefix="ycws-bench-engine.") as scratch,
    ):
        emulator.call("delay", services=["connections", "iam"], seconds=LATENCY)
        stacks = _Stacks(Path(scratch), emulator, cli)
        for n, rounds in plan.items():
            for index in range(rounds):
                for variant in rotated(VARIANTS, index):
                    raw[variant][n].append(_one_run(stacks, emulator, variant, n))

    def med(variant: str, n: int, key: str) -> float:
        return median([float(r[key]) for r in raw[variant][n]])

    sizes: dict[str, Any] = {}
    for n in plan:
        lookups = {key: med("lookups", n, key) for key in ("preview_s", "up_s")}
        floor = {key: med("floor", n, key) for key in ("preview_s", "up_s")}
        sizes[str(n)] = {
            "rounds": plan[n],
            "lookups": lookups,
            "floor": floor,
            "above_floor_ms_per_lookup": {
                "preview": (lookups["preview_s"] - floor["preview_s"]) / n * 1e3,
                "up": (lookups["up_s"] - floor["up_s"]) / n * 1e3,
            },
            "gets_per_lookup_per_up": med("lookups", n, "up_gets") / n,
            "gets_per_lookup_per_preview": med("lookups", n, "preview_gets") / n,
            "provider_processes_per_up": med("lookups", n, "up_provider_processes"),
            "token_exchanges_per_up": med("lookups", n, "up_token_exchanges"),
        }
    return {
        "title": title,
        "setup": {
            "cli": str(cli),
            "added_latency_s": LATENCY,
            "latency_applies_to": ["connections", "iam"],
            "credential": "OAuth token in YC_TOKEN (one exchange per process)",
            "engine": "PULUMI_SKIP_CHECKPOINTS=true for both programs",
            "sizes": {str(n): rounds for n, rounds in plan.items()},
        },
        "sizes": sizes,
        "goals": [],
        "raw": json.loads(json.dumps({v: {str(n): raw[v][n] for n in plan} for v in VARIANTS})),
    }
