"""7. The provider plugin through the real Pulumi CLI: ``preview``, ``up``, ``refresh`` of N.

Three programs of N resources against the emulator, 20 ms added to every answer (Connection.Get
and the IAM exchange; an OAuth token in ``YC_TOKEN``, so each process that looks up exchanges it
once), each on a new stack on a local file backend, at the CLI's default ``--parallel`` and at
``--parallel 64``:

- ``plugin``: ``pulumi.CustomResource("yc-websocket:index:WebSocketConnection", ...)`` served by
  ``pulumi-resource-yc-websocket`` (the project's ``plugins: providers:`` entry points at the
  console script's directory): the plugin looks up in Create (preview too) and Read;
- ``plugin_floor``: the same program against ``bench/plugin_floor.py``, the plugin's own server
  and provider with every lookup answered by a constant: what the engine, the program and the
  plugin's server cost without the network, the floor of goals 7a and 7b;
- ``dynamic``: ``WebSocketConnection``, the dynamic provider (section 6's ``overlapped``): the
  program looks up, ``python -m pulumi.dynamic`` reads in refresh, 4 at a time.

Per command: wall time, GETs and token exchanges (the emulator's counts), the processes started,
the CPU of the whole command and, sampled from ``/proc`` while it runs, of its program and
provider processes. Every program runs with ``PULUMI_SKIP_CHECKPOINTS=true`` (see section 6).

Cold start (7f): from starting the plugin to its first answered lookup (Configure, then Create)
against the dynamic provider's start to its first answered lookup (section 5's measurement:
Configure, then Check), alternating rounds, an IAM token (no exchange), no added latency.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pulumi_yc_websocket._schema import RESOURCE_TOKEN
from pulumi_yc_websocket._transport import DEFAULT_MAX_CONNECTIONS
from tools.provider_process import PLUGIN_URN, ProviderProcess, plugin_command
from tools.pulumi_cli import Project, find_cli

from . import cold_start, engine, plugin_floor
from ._common import JSON, ROOT, Peer, goal, median, now, ratio
from .provider_server import provider_env

LATENCY = engine.LATENCY
POOL = DEFAULT_MAX_CONNECTIONS
"""The plugin's lookups at once (its thread pool and its client's connections)."""
WIDE = "64"
PARALLELS = ("default", WIDE)
VARIANTS = ("plugin", "plugin_floor", "dynamic")
PLUGINS = ("plugin", "plugin_floor")
COMMANDS: dict[str, tuple[str, ...]] = {
    "preview": ("preview",),
    "up": ("up", "--yes"),
    "refresh": engine.REFRESH,
}
REFRESH_SPEEDUP_GOAL = 3.0
MAX_GETS = {"up": 2, "refresh": 1}
COLD_START_BUDGET = 1.25
"""7f: the plugin's cold start against the dynamic provider's it replaces: the engine starts
either once per command, and section 5 grants the dynamic provider 25% over a bare import."""
OUTPUTS = ("found", "gatewayId", "identity", "connectedAt", "lastActiveAt")
PROGRAM = f"""
import pulumi

config = pulumi.Config()
ids = config.require_object("ids")
n = config.require_int("n")
if config.require("variant") == "dynamic":
    from pulumi_yc_websocket import WebSocketConnection

    for index in range(n):
        WebSocketConnection(f"c{{index}}", ids[index % len(ids)])
else:
    outputs = dict.fromkeys({list(OUTPUTS)!r})
    for index in range(n):
        pulumi.CustomResource(
            {RESOURCE_TOKEN!r}, f"c{{index}}", {{"connectionId": ids[index % len(ids)], **outputs}}
        )
"""
# Appends the role and pid of every program and provider process (dynamic or plugin) to a file.
PROCESS_PROBE = """
import os
import sys

_argv = " ".join(getattr(sys, "orig_argv", ()))
_role = (
    "provider" if "pulumi.dynamic" in _argv or "pulumi-resource-yc-websocket" in _argv
    else "program" if "pulumi-language-python-exec" in _argv
    else None
)
if _role:
    with open(os.environ["YCWS_BENCH_PROCESSES"], "a", encoding="utf-8") as log:
        log.write(f"{_role} {os.getpid()}\\n")
"""
_CLK_TCK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
"""The machine's CPUs (``/proc/stat`` counts them all, whatever this process may run on)."""
_SAMPLE_S = 0.05
_DEFAULT_PARALLEL = re.compile(r"--parallel int\d*\s.*\(default (\d+)\)")


class _Stacks(engine._Stacks):
    """Section 6's stacks, with this section's program, probe and plugins."""

    def __init__(self, scratch: Path, emulator: Peer, cli: Path) -> None:
        super().__init__(scratch, emulator, cli)
        (scratch / "probe" / "sitecustomize.py").write_text(PROCESS_PROBE, "utf-8")
        self.plugin_dirs = {
            "plugin": Path(plugin_command()[0]).parent,
            "plugin_floor": plugin_floor.install(scratch / "floor-plugin").parent,
        }

    def new(self, variant: str, n: int) -> Project:
        project = super().new(variant, n)
        (project.directory / "__main__.py").write_text(PROGRAM, "utf-8")
        settings = "name: bench-engine\nruntime: python\n"
        if variant in PLUGINS:
            settings += (
                "plugins:\n  providers:\n    - name: yc-websocket\n"
                f"      path: {self.plugin_dirs[variant]}\n"
            )
        (project.directory / "Pulumi.yaml").write_text(settings, "utf-8")
        return project


def _cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class _RoleCpu:
    """CPU seconds of the program and provider processes a command starts, by role, sampled from
    ``/proc`` every 50 ms while it runs (the engine kills its plugins: they leave no record)."""

    def __init__(self, processes_log: Path) -> None:
        self._log = processes_log
        self._seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            stopping = self._stop.is_set()
            try:
                lines = self._log.read_text("utf-8").splitlines()
            except OSError:
                lines = []
            for line in lines:
                role, _, pid = line.partition(" ")
                if pid.isdigit():
                    cpu = _cpu_s(int(pid))
                    if cpu is not None:
                        self._seen[int(pid)] = (role, cpu)
            if stopping:
                return
            self._stop.wait(_SAMPLE_S)

    def __enter__(self) -> _RoleCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def by_role(self) -> dict[str, float]:
        """CPU seconds by role, as last seen."""
        found: Counter[str] = Counter()
        for role, cpu in self._seen.values():
            found[role] += cpu
        return {role: found[role] for role in ("program", "provider")}


def _machine_jiffies() -> tuple[int, int]:
    """Busy and total CPU time of the whole machine so far (``/proc/stat``, clock ticks)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _timed(stacks: _Stacks, emulator: Peer, project: Project, *args: str) -> JSON:
    """Section 6's measurement of one command; the CPU of its processes by role, of the whole
    machine, and when its GETs reached the emulator."""
    busy, total = _machine_jiffies()
    with _RoleCpu(stacks.processes_log) as sampled:
        measured = engine._timed(stacks, emulator, project, *args)
    busy_after, total_after = _machine_jiffies()
    by_role = sampled.by_role()
    measured["program_cpu_s"] = by_role["program"]
    measured["provider_cpu_s"] = by_role["provider"]
    # The CLI (the engine), the language host stand-in and anything else the command ran.
    measured["cli_cpu_s"] = measured["cpu_s"] - by_role["program"] - by_role["provider"]
    # Cores of the machine busy on average, whoever kept them busy; the rest of the machine's
    # load is what other work took from this command.
    machine = ratio(busy_after - busy, total_after - total) * CPUS
    measured["machine_cores_busy"] = machine
    measured["other_cores_busy"] = max(machine - measured["cores_busy"], 0.0)
    arrivals = emulator.call("arrivals", service="connections", window=LATENCY)
    measured["gets_span_s"] = arrivals["span_s"]
    measured["gets_peak_in_flight"] = arrivals["peak_in_flight"]
    # From the first GET received to the last answered (each answered LATENCY after it came).
    measured["gets_mean_in_flight"] = ratio(
        arrivals["count"] * LATENCY, arrivals["span_s"] + LATENCY
    )
    return measured


def _one_run(stacks: _Stacks, emulator: Peer, variant: str, parallel: str, n: int) -> JSON:
    """``pulumi preview``, ``up`` and ``refresh --skip-preview`` of a new stack."""
    project = stacks.new(variant, n)
    flags = () if parallel == "default" else ("--parallel", parallel)
    run: JSON = {"n": n, "variant": variant, "parallel": parallel}
    for command, args in COMMANDS.items():
        run[command] = _timed(stacks, emulator, project, *args, *flags)
    return run


def default_parallel(cli: Path) -> int | None:
    """The ``--parallel`` the CLI uses unless told (its ``up --help`` says)."""
    shown = subprocess.run(
        [str(cli), "up", "--help"], capture_output=True, text=True, check=False
    ).stdout
    found = _DEFAULT_PARALLEL.search(shown)
    return int(found[1]) if found else None


# -- cold start ---------------------------------------------------------------------------------


def plugin_first_lookup(emulator: Peer) -> JSON:
    """Seconds from starting the plugin to its first answered lookup (Configure, then Create)."""
    env = provider_env(emulator, {"YC_IAM_TOKEN": emulator.ready["iam_token"]})
    properties = {
        "connectionId": emulator.ready["ids"][0],
        "allowMissing": False,
        "ignoreActivity": False,
    }
    started = now()
    with ProviderProcess(env, command=plugin_command(), cwd=ROOT, urn=PLUGIN_URN) as process:
        ready = now()
        process.configure({})
        _, outputs = process.create(properties)
        answered = now()
        if outputs.get("found") is not True:
            raise RuntimeError(f"the plugin's first lookup failed: {process.stderr()}")
    return {
        "total_s": answered - started,
        "to_ready_s": ready - started,
        "ready_to_answer_s": answered - ready,
    }


def _import_ms(code: str) -> JSON:
    """``python -X importtime -c CODE``: total self time, and by top-level package (ms)."""
    by_package: Counter[str] = Counter()
    for self_ms, module in cold_start.import_times(code):
        by_package[module.split(".")[0]] += self_ms
    return {"total_ms": sum(by_package.values()), "by_package": dict(by_package.most_common(10))}


def _cold_start(quick: bool) -> JSON:
    """Plugin and dynamic provider, start to first answered lookup, alternating rounds."""
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_yc_websocket.provider import WebSocketConnectionProvider

    provider = serialize_provider(WebSocketConnectionProvider())
    rounds = 1 if quick else 10
    plugin: list[JSON] = []
    dynamic: list[JSON] = []
    with Peer("bench._emulator_proc", ["-"]) as emulator:
        if not quick:  # warm the file cache for both
            plugin_first_lookup(emulator)
            cold_start.first_lookup(emulator, provider)
        for index in range(rounds):
            if index % 2:
                dynamic.append(cold_start.first_lookup(emulator, provider))
                plugin.append(plugin_first_lookup(emulator))
            else:
                plugin.append(plugin_first_lookup(emulator))
                dynamic.append(cold_start.first_lookup(emulator, provider))
    ratios = [ratio(p["total_s"], d["total_s"]) for p, d in zip(plugin, dynamic, strict=True)]

    def medians(runs: Sequence[JSON]) -> JSON:
        return {key: median([r[key] for r in runs]) for key in runs[0]}

    return {
        "rounds": rounds,
        "credential": "IAM token in YC_IAM_TOKEN (no exchange), no added latency",
        "plugin": medians(plugin),
        "dynamic": medians(dynamic),
        "plugin_vs_dynamic": median(ratios),
        "imports": {
            # What each process imports to serve and look up (the plugin's console script imports
            # the package, then its _plugin module; the dynamic provider unpickles the package's
            # provider module on its first call).
            "plugin": _import_ms("import pulumi_yc_websocket._plugin"),
            "dynamic": _import_ms(
                "import dill, grpc, pulumi.dynamic, pulumi.runtime.proto.provider_pb2_grpc; "
                "import pulumi_yc_websocket.provider"
            ),
        },
        "raw": {"plugin": plugin, "dynamic": dynamic},
    }


# -- the section ----------------------------------------------------------------------------------


def run(quick: bool) -> JSON:
    """Each N; every variant at each parallel, interleaved; a new stack per run."""
    cli = find_cli()
    title = "The provider plugin through the real Pulumi CLI (20 ms added per answer)"
    if cli is None:
        return {"title": title, "skipped": "no pulumi CLI: run `make pulumi-cli`", "goals": []}
    plan = {5: 1} if quick else {100: 3, 1000: 3}
    combos = [(variant, parallel) for parallel in PARALLELS for variant in VARIANTS]
    raw: dict[int, dict[str, dict[str, list[JSON]]]] = {
        n: {p: {v: [] for v in VARIANTS} for p in PARALLELS} for n in plan
    }
    with (
        Peer("bench._emulator_proc", ["-"]) as emulator,
        tempfile.TemporaryDirectory(prefix="ycws-bench-plugin.") as scratch,
    ):
        emulator.call("delay", services=["connections", "iam"], seconds=LATENCY)
        stacks = _Stacks(Path(scratch), emulator, cli)
        for n, rounds in plan.items():
            for index in range(rounds):
                shift = index * len(combos) // max(rounds, 1)
                for variant, parallel in [*combos[shift:], *combos[:shift]]:
                    raw[n][parallel][variant].append(
                        _one_run(stacks, emulator, variant, parallel, n)
                    )
    sizes = {str(n): _size(n, raw[n]) for n in plan}
    return {
        "title": title,
        "setup": {
            "cli": str(cli),
            "cpus": CPUS,
            "default_parallel": default_parallel(cli),
            "plugin_pool": POOL,
            "added_latency_s": LATENCY,
            "latency_applies_to": ["connections", "iam"],
            "credential": "OAuth token in YC_TOKEN (one exchange per process that looks up)",
            "engine": "PULUMI_SKIP_CHECKPOINTS=true for every program",
            "sizes": {str(n): rounds for n, rounds in plan.items()},
            "parallels": list(PARALLELS),
            "commands": {c: " ".join(a) for c, a in COMMANDS.items()},
        },
        "sizes": sizes,
        "cold_start": (cold := _cold_start(quick)),
        "goals": _goals(sizes, cold),
        "raw": json.loads(json.dumps({str(n): raw[n] for n in plan})),
    }


def _size(n: int, runs: dict[str, dict[str, list[JSON]]]) -> JSON:
    """Medians and per-round differences and ratios of one N, by parallel."""
    by_parallel: JSON = {}
    for parallel, by_variant in runs.items():

        def med(
            variant: str, command: str, key: str, by: dict[str, list[JSON]] = by_variant
        ) -> float:
            return median([float(r[command][key]) for r in by[variant]])

        def per_round(
            command: str, a: str, b: str, *, diff: bool, by: dict[str, list[JSON]] = by_variant
        ) -> float:
            pairs = zip(by[a], by[b], strict=True)
            if diff:
                return median([x[command]["wall_s"] - y[command]["wall_s"] for x, y in pairs])
            return median([ratio(y[command]["wall_s"], x[command]["wall_s"]) for x, y in pairs])

        keys = (
            "wall_s",
            "cpu_s",
            "cli_cpu_s",
            "program_cpu_s",
            "provider_cpu_s",
            "emulator_cpu_s",
            "cores_busy",
            "machine_cores_busy",
            "other_cores_busy",
            "gets",
            "gets_span_s",
            "gets_peak_in_flight",
            "gets_mean_in_flight",
            "token_exchanges",
            "program_processes",
            "provider_processes",
        )
        by_parallel[parallel] = {
            "variants": {
                variant: {
                    command: {
                        **{key: med(variant, command, key) for key in keys},
                        "gets_per_resource": med(variant, command, "gets") / n,
                    }
                    for command in COMMANDS
                }
                for variant in VARIANTS
            },
            "plugin_above_floor_s": {
                command: per_round(command, "plugin", "plugin_floor", diff=True)
                for command in COMMANDS
            },
            "plugin_speedup_vs_dynamic": {
                command: per_round(command, "plugin", "dynamic", diff=False) for command in COMMANDS
            },
        }
    return {
        "rounds": len(next(iter(next(iter(runs.values())).values()))),
        "goal_above_floor_s": n * LATENCY / POOL + 2 * LATENCY,
        "by_parallel": by_parallel,
    }


def _goals(sizes: dict[str, JSON], cold: JSON) -> list[JSON]:
    goals = []
    judged = {n: size for n, size in sizes.items() if int(n) >= 100}
    for n, size in judged.items():
        wide = size["by_parallel"][WIDE]
        for key, command, text in (("7a", "preview", "`preview`"), ("7b", "refresh", "`refresh`")):
            goals.append(
                goal(
                    f"{key}-{n}",
                    f"N={n}, --parallel {WIDE}: plugin {text} above the no-lookup plugin, s "
                    f"(N x 20 ms / {POOL} + 2 round trips)",
                    wide["plugin_above_floor_s"][command],
                    "<=",
                    size["goal_above_floor_s"],
                )
            )
    if "1000" in sizes:
        goals.append(
            goal(
                "7c-1000",
                f"N=1000, --parallel {WIDE}: plugin `refresh` vs the dynamic provider's (speed-up)",
                sizes["1000"]["by_parallel"][WIDE]["plugin_speedup_vs_dynamic"]["refresh"],
                ">=",
                REFRESH_SPEEDUP_GOAL,
            )
        )
    for key, command in (("7d", "up"), ("7e", "refresh")):
        goals.append(
            goal(
                key,
                f"plugin GETs per resource per `{command}` (most at any N and parallel)",
                max(
                    size["by_parallel"][p]["variants"]["plugin"][command]["gets_per_resource"]
                    for size in (judged or sizes).values()
                    for p in PARALLELS
                ),
                "<=",
                MAX_GETS[command],
            )
        )
    goals.append(
        goal(
            "7f",
            "plugin cold start (start to first answered lookup) vs the dynamic provider's",
            cold["plugin_vs_dynamic"],
            "<=",
            COLD_START_BUDGET,
        )
    )
    return goals
