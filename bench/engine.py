"""6. Through the real Pulumi CLI: ``pulumi preview``, ``up`` and ``refresh`` of N lookups.

Four programs of N resources against the emulator, 20 ms added to every answer (an OAuth token
in the environment, so each process that looks up exchanges it once), each run on a new stack on
a local file backend:

- ``overlapped``: ``WebSocketConnection``, the package as it is: the program looks every
  connection up as soon as its id is known, many at once, and Check accepts the answer;
- ``serial``: ``SerialLookup`` (``serial_lookup.py``): the package's provider looking up in
  Check, which the engine calls one resource at a time (the design before);
- ``shaped_floor``: ``ShapedNoLookup`` (``shaped_floor.py``): the same properties as
  ``WebSocketConnection`` sends, as constants, and a provider that looks nothing up: what the
  engine and the SDK cost for a resource of this shape, the floor the preview goal is set on;
- ``floor``: ``NoLookup`` (``noop_provider.py``): a resource of two properties and a provider
  that looks nothing up, the engine's cost per resource alone.

Reported per N: wall times; the CPU each preview used (the CLI and every process it started,
and the emulator, on a machine of 2 cores); the time above each floor; GETs per resource, token
exchanges and the processes started in one ``up``; ``refresh --skip-preview`` of the overlapped
stack against N lookups made one at a time by the package's client (measured in the same run);
and the delay one connection that answers only after 10 s adds to a preview.

Every program runs with ``PULUMI_SKIP_CHECKPOINTS=true``. With checkpoints the engine rewrites
the whole state after every step, a cost quadratic in N that hides everything else at N = 1000
(measured here: a no-lookup preview of 300 resources took 9.3 s with them, 3.3 s without).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from pulumi_yc_websocket import ConnectionsClient, IamToken
from tools.pulumi_cli import Project, Workspace, find_cli

from ._common import JSON, ROOT, Peer, goal, median, now, ratio, rotated

LATENCY = 0.02
SLOW_ANSWER_S = 10.0
"""How late the one slow connection answers (as long as the client's read timeout: an answer
that comes later fails the attempt and is retried)."""
LOOKUPS_AT_ONCE_GOAL = 8
"""The preview goal: lookups cost no more than N x 20 ms / 8 above the floor (+ 2 round trips)."""
SERIAL_SAMPLE = 100
"""Lookups made one at a time by the client, for the per-lookup cost of N serial lookups."""
VARIANTS = ("overlapped", "serial", "shaped_floor", "floor")
LOOKING_UP = ("overlapped", "serial")
FLOORS = ("shaped_floor", "floor")
GOAL_FLOOR = "shaped_floor"
REFRESHED = ("overlapped", "shaped_floor")
"""Variants whose stacks are refreshed (``serial`` refreshes through the same provider read)."""
# `refresh` alone previews first (a second round of Read steps): skipped, so that one command
# is one Read per resource.
REFRESH = ("refresh", "--yes", "--skip-preview")
PROGRAM = """
import pulumi

config = pulumi.Config()
ids = config.require_object("ids")
variant = config.require("variant")
if variant == "overlapped":
    from pulumi_yc_websocket import WebSocketConnection as Lookup
elif variant == "serial":
    from bench.serial_lookup import SerialLookup as Lookup
elif variant == "shaped_floor":
    from bench.shaped_floor import ShapedNoLookup as Lookup
else:
    from bench.noop_provider import NoLookup as Lookup

for index in range(config.require_int("n")):
    Lookup(f"c{index}", ids[index % len(ids)])
"""
# Appends the role and pid of every program and provider process to a file.
PROCESS_PROBE = """
import os
import sys

_argv = " ".join(getattr(sys, "orig_argv", ()))
_role = (
    "provider" if "pulumi.dynamic" in _argv
    else "program" if "pulumi-language-python-exec" in _argv
    else None
)
if _role:
    with open(os.environ["YCWS_BENCH_PROCESSES"], "a", encoding="utf-8") as log:
        log.write(f"{_role} {os.getpid()}\\n")
"""


class _Stacks:
    """New stacks of the program, in a scratch directory, against the emulator."""

    def __init__(self, scratch: Path, emulator: Peer, cli: Path) -> None:
        self.scratch = scratch
        probe = scratch / "probe"
        probe.mkdir()
        (probe / "sitecustomize.py").write_text(PROCESS_PROBE, "utf-8")
        self.processes_log = scratch / "processes.log"
        url = emulator.ready["url"]
        self.env = {
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": url,
            "YC_IAM_ENDPOINT": url,
            "YC_METADATA_ADDR": "127.0.0.1:9",  # never used: a token is configured
            "YC_TOKEN": emulator.ready["oauth_token"],
            "PYTHONPATH": f"{probe}:{ROOT}",  # the probe; `bench` for the stand-in resources
            "YCWS_BENCH_PROCESSES": str(self.processes_log),
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
        python = Path(sys.executable)
        project = Project(Workspace(root, cli=self.cli, env=self.env), directory, python=python)
        project.init_stack("bench", config={"variant": variant, "n": n, "ids": self.ids})
        return project

    def processes_started(self) -> Counter[str]:
        """Program and provider processes started since the last call, by role."""
        if not self.processes_log.exists():
            return Counter()
        lines = self.processes_log.read_text("utf-8").splitlines()
        self.processes_log.unlink()
        return Counter(line.split()[0] for line in lines)


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children and theirs (the CLI, the engine's
    program and provider processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(stacks: _Stacks, emulator: Peer, project: Project, *args: str) -> JSON:
    """One ``pulumi`` command: its wall time, the CPU it and the emulator used, the requests it
    made, the processes it started."""
    stacks.processes_started()
    emulator.call("clear")
    emulator_cpu_s = float(emulator.call("stats")["cpu"])
    cpu_s = _children_cpu_s()
    start = now()
    project.pulumi(*args)
    wall_s = now() - start
    cpu_s = _children_cpu_s() - cpu_s
    requests = emulator.call("stats")
    emulator_cpu_s = float(requests["cpu"]) - emulator_cpu_s
    processes = stacks.processes_started()
    return {
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "emulator_cpu_s": emulator_cpu_s,
        # Of the machine's cores, how many the command and the emulator kept busy on average.
        "cores_busy": (cpu_s + emulator_cpu_s) / wall_s,
        "gets": requests["connections"],
        "token_exchanges": requests["iam"],
        "program_processes": processes["program"],
        "provider_processes": processes["provider"],
    }


def _one_run(stacks: _Stacks, emulator: Peer, variant: str, n: int) -> JSON:
    """``pulumi preview``, ``up`` (and ``refresh``) of a new stack."""
    project = stacks.new(variant, n)
    run = {
        "n": n,
        "preview": _timed(stacks, emulator, project, "preview"),
        "up": _timed(stacks, emulator, project, "up", "--yes"),
    }
    if variant in REFRESHED:
        run["refresh"] = _timed(stacks, emulator, project, *REFRESH)
    return run


def _slow_preview(stacks: _Stacks, emulator: Peer, variant: str, n: int, slow_s: float) -> JSON:
    """``pulumi preview`` of a new stack whose first lookup is answered only after ``slow_s``."""
    project = stacks.new(variant, n)
    emulator.call("clear")
    emulator.call("slow_once", service="connections", seconds=slow_s)
    return {"n": n, "slow_s": slow_s, "preview": _timed(stacks, emulator, project, "preview")}


def _serial_lookup_s(emulator: Peer) -> float:
    """Seconds per lookup, one at a time, through the package's client (token given)."""
    ids: list[str] = emulator.ready["ids"]
    credentials = IamToken(emulator.ready["iam_token"], "the engine benchmark")
    with ConnectionsClient(credentials, endpoint=emulator.ready["url"]) as client:
        client.get(ids[0])  # the connection opened
        start = now()
        for index in range(SERIAL_SAMPLE):
            client.get(ids[index % len(ids)])
        return (now() - start) / SERIAL_SAMPLE


def run(quick: bool) -> JSON:
    """Each N, every program, interleaved; a new stack per run."""
    cli = find_cli()
    title = "Through the real Pulumi CLI (20 ms added per answer)"
    if cli is None:
        return {"title": title, "skipped": "no pulumi CLI: run `make pulumi-cli`", "goals": []}
    plan = {10: 1} if quick else {10: 3, 100: 3, 300: 1, 1000: 1}
    slow_n, slow_s = (10, 2.0) if quick else (100, SLOW_ANSWER_S)
    raw: dict[str, dict[int, list[JSON]]] = {v: {n: [] for n in plan} for v in VARIANTS}
    slow: dict[str, JSON] = {}
    with (
        Peer("bench._emulator_proc", ["-"]) as emulator,
        tempfile.TemporaryDirectory(prefix="ycws-bench-engine.") as scratch,
    ):
        emulator.call("delay", services=["connections", "iam"], seconds=LATENCY)
        stacks = _Stacks(Path(scratch), emulator, cli)
        serial_lookup_s = [_serial_lookup_s(emulator)]
        for n, rounds in plan.items():
            for index in range(rounds):
                for variant in rotated(VARIANTS, index):
                    raw[variant][n].append(_one_run(stacks, emulator, variant, n))
        for variant in LOOKING_UP:
            slow[variant] = _slow_preview(stacks, emulator, variant, slow_n, slow_s)
        serial_lookup_s.append(_serial_lookup_s(emulator))

    def med(variant: str, n: int, command: str, key: str = "wall_s") -> float:
        return median([float(r[command][key]) for r in raw[variant][n]])

    sizes: dict[str, Any] = {}
    per_serial_lookup_s = median(serial_lookup_s)
    for n in plan:
        walls = {
            variant: {
                command: med(variant, n, command)
                for command in ("preview", "up", "refresh")
                if command in raw[variant][n][0]
            }
            for variant in VARIANTS
        }
        floor = walls[GOAL_FLOOR]
        sizes[str(n)] = {
            "rounds": plan[n],
            "wall_s": walls,
            "preview_cpu_s": {
                variant: {
                    "command": med(variant, n, "preview", "cpu_s"),
                    "emulator": med(variant, n, "preview", "emulator_cpu_s"),
                    "cores_busy": med(variant, n, "preview", "cores_busy"),
                }
                for variant in VARIANTS
            },
            "above_floor_s": {
                base: {
                    variant: {c: walls[variant][c] - walls[base][c] for c in ("preview", "up")}
                    for variant in LOOKING_UP
                }
                for base in FLOORS
            },
            "preview_goal_s": n * LATENCY / LOOKUPS_AT_ONCE_GOAL + 2 * LATENCY,
            "up": {
                variant: {
                    "gets_per_resource": med(variant, n, "up", "gets") / n,
                    "token_exchanges": med(variant, n, "up", "token_exchanges"),
                    "program_processes": med(variant, n, "up", "program_processes"),
                    "provider_processes": med(variant, n, "up", "provider_processes"),
                }
                for variant in LOOKING_UP
            },
            "refresh": {
                "gets_per_resource": med("overlapped", n, "refresh", "gets") / n,
                "serial_lookups_s": n * per_serial_lookup_s,
                "speedup_vs_serial_lookups": ratio(
                    n * per_serial_lookup_s, walls["overlapped"]["refresh"]
                ),
                "above_floor_s": walls["overlapped"]["refresh"] - floor["refresh"],
            },
        }
    delays = {
        variant: slow[variant]["preview"]["wall_s"] - med(variant, slow_n, "preview")
        for variant in slow
    }
    return {
        "title": title,
        "setup": {
            "cli": str(cli),
            "added_latency_s": LATENCY,
            "latency_applies_to": ["connections", "iam"],
            "credential": "OAuth token in YC_TOKEN (one exchange per process that looks up)",
            "engine": "PULUMI_SKIP_CHECKPOINTS=true for every program",
            "sizes": {str(n): rounds for n, rounds in plan.items()},
            "serial_sample": SERIAL_SAMPLE,
            "slow": {"n": slow_n, "answer_after_s": slow_s},
        },
        "serial_lookup_ms": per_serial_lookup_s * 1e3,
        "sizes": sizes,
        "slow_connection": {"n": slow_n, "answer_after_s": slow_s, "delay_s": delays},
        "goals": _goals(sizes, delays, slow_s),
        "raw": json.loads(
            json.dumps({"runs": {v: {str(n): raw[v][n] for n in plan} for v in VARIANTS}, **slow})
        ),
    }


def _goals(sizes: dict[str, Any], delays: dict[str, float], slow_s: float) -> list[JSON]:
    goals = []
    for n, size in sizes.items():
        if int(n) < 100:
            continue
        up = size["up"]["overlapped"]
        goals += [
            goal(
                f"6a-{n}",
                f"N={n}: `pulumi preview` above the same resources without a lookup, s "
                f"(N x 20 ms / {LOOKUPS_AT_ONCE_GOAL} + 2 round trips)",
                size["above_floor_s"][GOAL_FLOOR]["overlapped"]["preview"],
                "<=",
                size["preview_goal_s"],
            ),
            goal(
                f"6b-{n}",
                f"N={n}: GETs per resource in `pulumi up`",
                up["gets_per_resource"],
                "<=",
                2,
            ),
            goal(
                f"6c-{n}",
                f"N={n}: token exchanges per process that looks up in `pulumi up` (the program "
                "runs; the provider processes send nothing)",
                ratio(up["token_exchanges"], up["program_processes"]),
                "<=",
                1,
            ),
            goal(
                f"6d-{n}",
                f"N={n}: `pulumi refresh` vs N lookups one at a time (speed-up)",
                size["refresh"]["speedup_vs_serial_lookups"],
                ">=",
                3,
            ),
        ]
    goals.append(
        goal(
            "6e",
            f"one connection answering after {slow_s:.0f} s: delay to `pulumi preview`, s",
            delays["overlapped"],
            "<=",
            slow_s * 1.1,
        )
    )
    return goals
