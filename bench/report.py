"""SUMMARY.md and PNG plots from a results dict (``python -m bench`` calls it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._common import JSON

THROUGHPUT_PNG = "throughput_vs_threads.png"
PROVIDER_PNG = "provider_wall_vs_n.png"
ENGINE_PNG = "engine_wall_vs_n.png"
CPU_PARTS = ("provider", "emulator", "driver")
REST_LAYER = "rest (caller's layers, body read)"


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _goal_rows(goals: Sequence[JSON]) -> list[list[str]]:
    return [
        [
            g["id"],
            g["goal"],
            _f(g["value"]),
            f"{g['op']} {_f(g['target'])}",
            "pass" if g["pass"] else "**MISS**",
        ]
        for g in goals
    ]


def _client_cpu(s: JSON) -> list[str]:
    lines = [
        f"Interleaved rounds: {s['setup']['rounds']} x {s['setup']['seconds_per_run']} s per "
        f"variant and thread count; client pinned to CPU {s['setup']['client_cpu']}, servers "
        f"to CPU {s['setup']['server_cpu']}. Medians over rounds.",
        "",
    ]
    rows = []
    for variant, by_threads in s["variants"].items():
        for threads, v in by_threads.items():
            rows.append(
                [
                    variant,
                    threads,
                    _f(v["lookups_per_s"], 0),
                    _f(v["p50_ms"]),
                    _f(v["p99_ms"]),
                    _f(v["cpu_us_per_lookup"], 0),
                    _f(v["client_busy"]),
                    _f(v["server_cpu_us_per_lookup"], 0),
                    _f(v["server_busy"]),
                    str(v["errors"]),
                ]
            )
    lines += _table(
        [
            "variant",
            "threads",
            "lookups/s",
            "p50 ms",
            "p99 ms",
            "client CPU µs/lookup",
            "client busy (cores)",
            "server CPU µs/lookup",
            "server busy (cores)",
            "errors",
        ],
        rows,
    )
    rows = [
        [pair, t, _f(r["throughput"]), _f(r["cpu"])]
        for pair, by_threads in s["ratios"].items()
        for t, r in by_threads.items()
    ]
    lines += [
        "Ratios (median of per-round ratios): throughput a/b; CPU = b's CPU per lookup / "
        "a's (above 1: a spends less).",
        "",
    ]
    lines += _table(["a_vs_b", "threads", "throughput", "CPU"], rows)
    profiles = s.get("profile_us_per_lookup", {})
    if profiles:
        layers = list(next(iter(profiles.values())))
        rows = [[layer, *(_f(p.get(layer), 0) for p in profiles.values())] for layer in layers]
        lines += [
            "Where sequential lookups spend CPU, by layer (cProfile with a CPU clock; µs per "
            "lookup, inflated by the profiler: compare shares, not totals):",
            "",
        ]
        lines += _table(["layer", *profiles], rows)
    return lines


def _client_latency(s: JSON) -> list[str]:
    setup = s["setup"]
    lines = [
        f"{setup['threads']} threads, {setup['added_latency_s'] * 1e3:.0f} ms added per "
        f"answer, limit {setup['limit_lookups_per_s']:.0f} lookups/s; "
        f"{setup['rounds']} rounds x {setup['seconds_per_run']} s.",
        "",
    ]
    rows = [
        [
            v,
            _f(x["lookups_per_s"], 0),
            _f(x["p50_ms"]),
            _f(x["p99_ms"]),
            _f(x["cpu_us_per_lookup"], 0),
        ]
        for v, x in s["variants"].items()
    ]
    lines += _table(["variant", "lookups/s", "p50 ms", "p99 ms", "client CPU µs/lookup"], rows)
    rows = [[k, _f(v)] for k, v in s["ratios"].items()]
    return lines + _table(["ratio", "value"], rows)


def _provider_server(s: JSON) -> list[str]:
    setup = s["setup"]
    lines = [
        f"{setup['callers']} concurrent callers, {setup['added_latency_s'] * 1e3:.0f} ms added "
        f"to every emulator answer ({', '.join(setup['latency_applies_to'])}), "
        f"{setup['credential']}; a fresh provider process per run, {setup['rounds']} "
        "round(s), medians (connections and exchanges: the most seen in a run).",
        "",
    ]
    rows = []
    for variant, by_n in s["variants"].items():
        for n, v in by_n.items():
            rows.append(
                [
                    variant,
                    n,
                    _f(v["wall_s"], 3),
                    _f(v["limit_s"], 3),
                    _f(v["vs_limit"]),
                    _f(v["per_lookup_ms"]),
                    str(v["tcp_connections"]),
                    str(v["token_exchanges"]),
                    " / ".join(_f(v["cpu_ms_per_lookup"][p]) for p in CPU_PARTS),
                ]
            )
    lines += _table(
        [
            "provider",
            "N",
            "wall s",
            "limit s",
            "x limit",
            "ms per lookup",
            "TCP connections",
            "token exchanges",
            "CPU ms per lookup: provider / emulator / driver",
        ],
        rows,
    )
    floor = s["ratios"].get("floor_vs_limit", {})
    rows = [[n, _f(v), _f(floor.get(n))] for n, v in s["ratios"]["speedup_vs_naive"].items()]
    lines += [
        "`floor`: a provider whose check only sleeps 20 ms (no I/O): what the server itself "
        "allows.",
        "",
    ]
    return lines + _table(["N", "package speed-up vs naive", "floor x limit"], rows)


def _state_size(s: JSON) -> list[str]:
    rows = [
        [
            v,
            str(x["provider_bytes"]),
            str(x["inputs_bytes"]),
            str(x["outputs_bytes"]),
            str(x["outputs_without_provider_bytes"]),
            str(x["state_bytes"]),
        ]
        for v, x in s["variants"].items()
    ]
    lines = [
        "Compact JSON of the checked inputs and the outputs from the real provider "
        "server; both carry `__provider`.",
        "",
    ]
    lines += _table(
        [
            "provider",
            "__provider bytes",
            "inputs bytes",
            "outputs bytes",
            "outputs without __provider",
            "state bytes (inputs + outputs)",
        ],
        rows,
    )
    return lines + _table(["ratio", "value"], [[k, _f(v)] for k, v in s["ratios"].items()])


def _cold_start(s: JSON) -> list[str]:
    v = s["variants"]
    first = v["provider_first_lookup"]
    rows = [
        ["process importing pulumi.dynamic only", _f(v["import_pulumi_dynamic"]["median_s"], 3)],
        ["provider: start to first Check answered", _f(first["median_s"], 3)],
        [
            "  of which: start to server ready (port printed, channel up)",
            _f(first["to_ready_s"], 3),
        ],
        ["  of which: ready to first Check answered", _f(first["ready_to_answer_s"], 3)],
    ]
    lines = [f"{s['setup']['rounds']} alternating rounds, medians; {s['setup']['credential']}.", ""]
    lines += _table(["process", "seconds"], rows)
    costs = s["import_costs"]
    lines += [
        f"Imports the provider adds after `pulumi.dynamic` (`python -X importtime`, self "
        f"time by top-level package, median of {costs['runs']}): total "
        f"{_f(costs['total_ms'], 0)} ms.",
        "",
    ]
    top = list(costs["self_ms_by_package"].items())[:12]
    lines += _table(["package", "ms"], [[name, _f(ms, 1)] for name, ms in top])
    own = list(costs.get("self_ms_by_own_module", {}).items())[:10]
    lines += ["The package's own modules (self time includes building their pydantic models):", ""]
    return lines + _table(["module", "ms"], [[name, _f(ms, 1)] for name, ms in own])


_ENGINE_VARIANTS = {
    "overlapped": "overlapped (the package)",
    "serial": "serial (lookup in Check)",
    "shaped_floor": "same resources, no lookup",
    "floor": "bare no-lookup resource",
}


def _engine(s: JSON) -> list[str]:
    if "skipped" in s:
        return [f"Not run: {s['skipped']}.", ""]
    lines = [
        "A new stack per run on a local file backend, checkpoints skipped "
        "(`PULUMI_SKIP_CHECKPOINTS=true`, see `bench/engine.py`); `up` is preview plus update, "
        "`refresh` is `refresh --skip-preview`. Variants: "
        + "; ".join(f"{key}: {text}" for key, text in _ENGINE_VARIANTS.items())
        + ". Medians over "
        + ", ".join(f"{r} run(s) at N={n}" for n, r in s["setup"]["sizes"].items())
        + ".",
        "",
        "Wall time, s:",
        "",
    ]
    commands = ("preview", "up")
    header = ["N"] + [f"{c}: {v}" for c in commands for v in _ENGINE_VARIANTS]
    rows = [
        [n] + [_f(size["wall_s"][v][c]) for c in commands for v in _ENGINE_VARIANTS]
        for n, size in s["sizes"].items()
    ]
    lines += _table(header, rows)
    lines += [
        "CPU of `pulumi preview`, s: the CLI and every process it started, + the emulator "
        "(cores busy on average):",
        "",
    ]
    rows = [
        [n]
        + [
            f"{_f(cpu['command'])} + {_f(cpu['emulator'])} ({_f(cpu['cores_busy'])})"
            for cpu in (size["preview_cpu_s"][v] for v in _ENGINE_VARIANTS)
        ]
        for n, size in s["sizes"].items()
    ]
    lines += _table(["N", *_ENGINE_VARIANTS], rows)
    lines += ["Per `pulumi up` (overlapped / serial), and `refresh` of the overlapped stack:", ""]
    rows = []
    for n, size in s["sizes"].items():
        up, refresh = size["up"], size["refresh"]

        def both(key: str, digits: int = 2, up: JSON = up) -> str:
            return f"{_f(up['overlapped'][key], digits)} / {_f(up['serial'][key], digits)}"

        rows.append(
            [
                n,
                _f(size["above_floor_s"]["shaped_floor"]["overlapped"]["preview"]),
                _f(size["preview_goal_s"]),
                both("gets_per_resource"),
                both("token_exchanges", 0),
                both("program_processes", 0),
                both("provider_processes", 0),
                _f(size["wall_s"]["overlapped"]["refresh"]),
                _f(refresh["serial_lookups_s"]),
                _f(refresh["speedup_vs_serial_lookups"]),
            ]
        )
    lines += _table(
        [
            "N",
            "preview above same resources, s",
            "goal, s",
            "GETs/resource in up",
            "token exchanges",
            "program processes",
            "provider processes",
            "refresh s",
            "N serial lookups s",
            "refresh speed-up",
        ],
        rows,
    )
    slow = s["slow_connection"]
    return [
        *lines,
        f"One connection answering after {_f(slow['answer_after_s'], 0)} s, N={slow['n']}: "
        "`pulumi preview` took "
        + ", ".join(f"{_f(d)} s longer {v}" for v, d in slow["delay_s"].items())
        + f" (serial lookups measured at {_f(s['serial_lookup_ms'], 1)} ms each).",
        "",
    ]


def _why_engine(key: str, s: JSON) -> str:
    """Why a goal of section 6 was missed, from its numbers."""
    if key == "6e":
        return (
            "the slow answer comes after the client's read timeout (10 s), which fails the "
            "attempt and retries it: a connection that slow costs the timeout plus a retry."
        )
    n = key.split("-")[1]
    size = s["sizes"][n]
    walls = {v: size["wall_s"][v]["preview"] for v in _ENGINE_VARIANTS}
    if key.startswith("6a"):
        lookup = walls["overlapped"] - walls["shaped_floor"]
        shape = walls["shaped_floor"] - walls["floor"]
        cpu = size["preview_cpu_s"]
        extra_cpu = (
            cpu["overlapped"]["command"]
            + cpu["overlapped"]["emulator"]
            - cpu["shaped_floor"]["command"]
            - cpu["shaped_floor"]["emulator"]
        )
        return (
            f"at N={n} the overlapped preview took {_f(walls['overlapped'])} s, the same "
            f"resources without a lookup {_f(walls['shaped_floor'])} s, a bare no-lookup "
            f"resource {_f(walls['floor'])} s and the serial design {_f(walls['serial'])} s. "
            f"The lookups add {_f(lookup)} s ({_f(lookup / int(n) * 1e3, 1)} ms per resource; "
            f"N answers of 20 ms, 16 at once, need {_f(int(n) * 0.02 / 16)} s) and "
            f"{_f(extra_cpu)} s of CPU ({_f(extra_cpu / int(n) * 1e3, 1)} ms per lookup: the "
            "request and its parsing, the emulator's answer, the outputs the program resolves "
            "and the provider checks), spent on the same 2 cores as the engine, which kept "
            f"{_f(cpu['overlapped']['cores_busy'])} of them busy: the wait is CPU, not the "
            "network. The resource's properties themselves cost the engine "
            f"{_f(shape)} s over the bare resource, lookup or not."
        )
    if key.startswith("6d"):
        return (
            "Pulumi's dynamic provider server answers at most 4 calls at a time (a thread "
            "pool of 4 in `pulumi.dynamic`), so `refresh` reads 4 connections at once at most: "
            f"N x 22 ms / 4 = {_f(size['refresh']['serial_lookups_s'] / 4)} s at best, on top "
            "of the engine's own work. "
            f"`refresh` took {_f(size['wall_s']['overlapped']['refresh'])} s against "
            f"{_f(size['refresh']['serial_lookups_s'])} s for N lookups one at a time; the "
            "same stack without lookups refreshes in "
            f"{_f(size['wall_s']['shaped_floor']['refresh'])} s: the engine's Read steps "
            "themselves are the cost."
        )
    return "see the table in section 6."


_PLUGIN_VARIANTS = {
    "plugin": "plugin",
    "plugin_floor": "plugin, no lookup (floor)",
    "dynamic": "dynamic provider",
}
_PLUGIN_COMMANDS = ("preview", "up", "refresh")


def _parallel_label(parallel: str, setup: JSON) -> str:
    if parallel == "default":
        default = setup.get("default_parallel")
        return f"default ({default})" if default else "default"
    return parallel


def _plugin_engine(s: JSON) -> list[str]:
    if "skipped" in s:
        return [f"Not run: {s['skipped']}.", ""]
    setup = s["setup"]
    lines = [
        "A new stack per run on a local file backend, checkpoints skipped; `up` is preview "
        "plus update, `refresh` is `refresh --skip-preview`; 20 ms added to every emulator "
        f"answer; {setup['credential']}. The plugin looks up {setup['plugin_pool']} at once. "
        "Variants: "
        + "; ".join(f"{key}: {text}" for key, text in _PLUGIN_VARIANTS.items())
        + " (see `bench/plugin_engine.py`). Medians over "
        + ", ".join(f"{r} interleaved round(s) at N={n}" for n, r in setup["sizes"].items())
        + ".",
        "",
    ]
    rows = []
    for n, size in s["sizes"].items():
        for parallel, measured in size["by_parallel"].items():
            for variant, label in _PLUGIN_VARIANTS.items():
                v = measured["variants"][variant]
                rows.append(
                    [
                        n,
                        _parallel_label(parallel, setup),
                        label,
                        *(_f(v[c]["wall_s"]) for c in _PLUGIN_COMMANDS),
                        f"{_f(v['up']['gets_per_resource'])} / "
                        f"{_f(v['refresh']['gets_per_resource'])}",
                        f"{_f(v['up']['token_exchanges'], 0)} / "
                        f"{_f(v['refresh']['token_exchanges'], 0)}",
                        f"{_f(v['up']['provider_processes'], 0)} / "
                        f"{_f(v['refresh']['provider_processes'], 0)}",
                    ]
                )
    lines += ["Wall time, s, and what each command sent:", ""]
    lines += _table(
        [
            "N",
            "--parallel",
            "variant",
            "preview s",
            "up s",
            "refresh s",
            "GETs/resource: up / refresh",
            "token exchanges: up / refresh",
            "provider processes: up / refresh",
        ],
        rows,
    )
    rows = []
    for n, size in s["sizes"].items():
        for parallel, measured in size["by_parallel"].items():
            above, speedup = measured["plugin_above_floor_s"], measured["plugin_speedup_vs_dynamic"]
            rows.append(
                [
                    n,
                    _parallel_label(parallel, setup),
                    *(_f(above[c]) for c in _PLUGIN_COMMANDS),
                    _f(size["goal_above_floor_s"]),
                    *(_f(speedup[c]) for c in _PLUGIN_COMMANDS),
                ]
            )
    lines += [
        "The plugin against its floor (s above it) and against the dynamic provider "
        "(speed-up, its wall time / the plugin's); medians of per-round differences and ratios:",
        "",
    ]
    lines += _table(
        [
            "N",
            "--parallel",
            "preview above floor",
            "up above floor",
            "refresh above floor",
            "goal (7a, 7b)",
            "speed-up: preview",
            "up",
            "refresh",
        ],
        rows,
    )
    rows = []
    for n, size in s["sizes"].items():
        for parallel, measured in size["by_parallel"].items():
            for variant, label in _PLUGIN_VARIANTS.items():
                for command in ("preview", "refresh"):
                    v = measured["variants"][variant][command]
                    gets = (
                        f"{_f(v['gets_span_s'])} / {_f(v['gets_peak_in_flight'], 0)} / "
                        f"{_f(v['gets_mean_in_flight'], 1)}"
                        if v["gets"]
                        else "-"
                    )
                    rows.append(
                        [
                            n,
                            _parallel_label(parallel, setup),
                            label,
                            command,
                            _f(v["wall_s"]),
                            " / ".join(
                                _f(v[key])
                                for key in (
                                    "cli_cpu_s",
                                    "program_cpu_s",
                                    "provider_cpu_s",
                                    "emulator_cpu_s",
                                )
                            ),
                            _f(v["cores_busy"]),
                            _f(v["machine_cores_busy"]),
                            gets,
                        ]
                    )
    lines += [
        "Where the time went: CPU seconds of the CLI (the engine and the rest of the command), "
        "the program, the provider processes (sampled from /proc while they ran) and the "
        "emulator; cores the command kept busy, cores busy on the whole machine (other work "
        "included); the GETs as the emulator received them: from the first to the last (s), "
        "the most within any 20 ms (at most that many answered at once), the mean in flight.",
        "",
    ]
    lines += _table(
        [
            "N",
            "--parallel",
            "variant",
            "command",
            "wall s",
            "CPU s: CLI / program / provider / emulator",
            "cores busy",
            "machine busy",
            "GETs: span s / peak / mean in flight",
        ],
        rows,
    )
    cold = s["cold_start"]
    rows = [
        [
            name,
            _f(cold[name]["total_s"], 3),
            _f(cold[name]["to_ready_s"], 3),
            _f(cold[name]["ready_to_answer_s"], 3),
            _f(cold["imports"][name]["total_ms"], 0),
        ]
        for name in ("plugin", "dynamic")
    ]
    lines += [
        f"Cold start (7f): {cold['rounds']} alternating rounds, medians, {cold['credential']}; "
        "plugin: start to Configure and a Create answered; dynamic provider: start to "
        "Configure and a Check answered (section 5). Plugin / dynamic: "
        f"{_f(cold['plugin_vs_dynamic'])}x.",
        "",
    ]
    lines += _table(
        [
            "provider",
            "start to first lookup answered, s",
            "start to ready (port printed, channel up)",
            "ready to answer",
            "imports, ms (-X importtime)",
        ],
        rows,
    )
    imports = cold["imports"]
    rows = [
        [package, _f(ms, 0), _f(imports["dynamic"]["by_package"].get(package), 0)]
        for package, ms in imports["plugin"]["by_package"].items()
    ]
    lines += ["Imports by top-level package, ms (self time):", ""]
    return lines + _table(["package", "plugin", "dynamic provider"], rows)


def _why_plugin_engine(key: str, s: JSON) -> str:
    """Why a goal of the plugin section was missed, from its numbers."""
    setup = s["setup"]
    if key == "7f":
        cold = s["cold_start"]
        plugin, dynamic = cold["plugin"], cold["dynamic"]
        imports = cold["imports"]
        return (
            f"the plugin answers its first lookup after {_f(plugin['total_s'], 3)} s, the "
            f"dynamic provider after {_f(dynamic['total_s'], 3)} s. The plugin imports "
            "everything before it prints its port (ready after "
            f"{_f(plugin['to_ready_s'], 3)} s, against {_f(dynamic['to_ready_s'], 3)} s), "
            f"{_f(imports['plugin']['total_ms'], 0)} ms of imports against "
            f"{_f(imports['dynamic']['total_ms'], 0)} ms."
        )
    if key in ("7d", "7e"):
        command = "up" if key == "7d" else "refresh"
        return (
            f"a plugin `{command}` sent more GETs per resource than its steps need: see the "
            "raw runs (`gets`, `token_exchanges`) for the command and the plugin's stderr."
        )
    n = key.split("-")[1]
    size = s["sizes"][n]
    wide = size["by_parallel"]["64"]
    pool = setup["plugin_pool"]
    variants = wide["variants"]
    if key.startswith("7c"):
        dynamic = variants["dynamic"]["refresh"]
        plugin = variants["plugin"]["refresh"]
        floor = variants["plugin_floor"]["refresh"]
        return (
            f"at N={n}, --parallel 64, the dynamic provider's refresh took "
            f"{_f(dynamic['wall_s'])} s, the plugin's {_f(plugin['wall_s'])} s. 3x needs "
            f"{_f(dynamic['wall_s'] / 3)} s, and the plugin with no lookup at all took "
            f"{_f(floor['wall_s'])} s (the engine's Read steps and the plugin server's own "
            f"cost per call; CPU: CLI {_f(floor['cli_cpu_s'])} s, plugin "
            f"{_f(floor['provider_cpu_s'])} s), leaving "
            f"{_f(dynamic['wall_s'] / 3 - floor['wall_s'])} s for {n} lookups whose waiting "
            f"alone, {setup['plugin_pool']} at a time, is "
            f"{_f(int(n) * setup['added_latency_s'] / setup['plugin_pool'])} s: only lookups "
            "hidden entirely behind the engine's own work would do, and that needs CPU to "
            f"spare (the machine was {_f(plugin['machine_cores_busy'])} cores busy during the "
            "plugin's refresh). The dynamic "
            f"provider reads at most {_f(dynamic['gets_peak_in_flight'], 0)} at once (the "
            "thread pool of 4 in `python -m pulumi.dynamic`: its GETs spread over "
            f"{_f(dynamic['gets_span_s'])} s); the plugin's spread over "
            f"{_f(plugin['gets_span_s'])} s, at most {_f(plugin['gets_peak_in_flight'], 0)} "
            f"and on average {_f(plugin['gets_mean_in_flight'], 1)} in flight."
        )
    command = "preview" if key.startswith("7a") else "refresh"
    plugin, floor = variants["plugin"][command], variants["plugin_floor"][command]
    above = wide["plugin_above_floor_s"][command]
    waiting = int(n) * setup["added_latency_s"] / pool
    added_cpu = plugin["provider_cpu_s"] - floor["provider_cpu_s"]
    machine = plugin["machine_cores_busy"]
    if plugin["gets_peak_in_flight"] < pool:
        source = (
            "the program registered resources and the engine checked them, one at a time"
            if command == "preview"
            else "it ran its Read steps"
        )
        width = (
            f"never {pool} at once: the engine sent the lookups no faster than {source}, so "
            "the pool was never the limit"
        )
    else:
        width = f"the pool of {pool} was full at times"
    cpus = float(setup.get("cpus") or 2)
    verdict = (
        "the machine was CPU-bound, so CPU the lookups add is wall time"
        if machine >= 0.9 * cpus
        else "the machine had CPU to spare: the rest is waiting"
    )
    return (
        f"at N={n}, --parallel 64, the plugin's `{command}` took {_f(plugin['wall_s'])} s and "
        f"the no-lookup plugin's {_f(floor['wall_s'])} s, {_f(above)} s above (waiting "
        f"{pool} at a time alone is {_f(waiting)} s). The {n} GETs reached the emulator over "
        f"{_f(plugin['gets_span_s'])} s, at most {_f(plugin['gets_peak_in_flight'], 0)} and on "
        f"average {_f(plugin['gets_mean_in_flight'], 1)} in flight: {width}. The lookups "
        f"added {_f(added_cpu)} s of CPU to the plugin process "
        f"({_f(added_cpu / int(n) * 1e3)} ms per lookup; it used {_f(plugin['provider_cpu_s'])} "
        f"s in all, start-up included, {_f(plugin['provider_cpu_s'] / plugin['gets_span_s'])} "
        f"times the GETs' span: one interpreter runs the gRPC server and the {pool} lookup "
        f"threads) and {_f(plugin['emulator_cpu_s'])} s to the emulator, on {_f(cpus, 0)} "
        f"cores that were {_f(machine)} busy on average during the command (other work: "
        f"{_f(plugin['other_cores_busy'])}): {verdict}."
    )


_RENDERERS: dict[str, Callable[[JSON], list[str]]] = {
    "client_cpu": _client_cpu,
    "client_latency": _client_latency,
    "provider_server": _provider_server,
    "state_size": _state_size,
    "cold_start": _cold_start,
    "engine": _engine,
    "plugin_engine": _plugin_engine,
}


def _why_client_cpu(key: str, s: JSON) -> str:
    """Why goal 1a or 1b was missed, from section 1's numbers."""
    v, ratios = s["variants"], s["ratios"]
    c, n, gr, u = (v[x]["1"] for x in ("client", "naive", "grpc", "urllib3"))
    busiest = max(x["client_busy"] for x in v["client"].values())
    server = max(x["server_busy"] for x in v["client"].values())
    if busiest >= 0.8:
        bottleneck = (
            f"The client's pinned core is saturated ({_f(busiest)} busy at most) while the "
            f"emulator uses at most {_f(server)}: the client is the bottleneck."
        )
    else:
        bottleneck = (
            f"Neither process was saturated (client at most {_f(busiest)}, emulator "
            f"{_f(server)} cores busy): the rest was waiting for CPUs the machine shares with "
            "other work, so lookups/s is noisy here; the CPU columns are the steadier measure."
        )
    if key == "1a":
        cpu = ", ".join(
            f"{t} threads {_f(x['cpu'])}x" for t, x in ratios["client_vs_naive"].items()
        )
        prof = s.get("profile_us_per_lookup", {})
        detail = ""
        if "client" in prof and "naive" in prof:
            pc, pn = prof["client"], prof["naive"]
            detail = (
                " By profile (µs, profiler-inflated), requests' prepare + merge settings costs "
                f"{_f(pc['requests: prepare + merge settings'], 0)} for the client vs "
                f"{_f(pn['requests: prepare + merge settings'], 0)} for the naive session (what "
                "reading proxy settings once saves), while the client's own layers cost "
                f"{_f(pc[REST_LAYER], 0)} vs {_f(pn[REST_LAYER], 0)}; "
                f"runtime-Protocol isinstance checks in requests cost "
                f"{_f(pc['of which typing Protocol checks'], 0)}."
            )
        return (
            f"the client spends as much CPU per lookup as the naive session (naive/client CPU: "
            f"{cpu}; sequentially {_f(c['cpu_us_per_lookup'], 0)} vs "
            f"{_f(n['cpu_us_per_lookup'], 0)} µs): the client's own layers (validation, "
            "deadline and retry, bounded reads, parsing) cost what its transport saves."
            f"{detail} A bare urllib3 pool with the same model spends "
            f"{_f(u['cpu_us_per_lookup'], 0)} µs. {bottleneck}"
        )
    bare = {t: v["urllib3"][t]["lookups_per_s"] / x["lookups_per_s"] for t, x in v["grpc"].items()}
    stub_vs_urllib3 = ", ".join(f"{t} threads {_f(r)}x" for t, r in bare.items())
    verdict = (
        "so the HTTP path is not the obstacle: the client's own layers are"
        if min(bare.values()) >= 0.6
        else "so plain HTTP/1.1 in Python is part of the gap"
    )
    return (
        f"the gRPC stub spends {_f(gr['cpu_us_per_lookup'], 0)} µs of CPU per lookup (protobuf "
        "over HTTP/2 in grpc's C core) against the client's "
        f"{_f(c['cpu_us_per_lookup'], 0)} (HTTP/1.1 through urllib3 and http.client "
        f"in Python). A bare urllib3 pool with the same model reaches {stub_vs_urllib3} of the "
        f"stub's lookups/s (medians), {verdict}. {bottleneck}"
    )


def _why(results: JSON) -> list[str]:
    """One data-backed paragraph per missed goal."""
    sections = results["sections"]
    lines: list[str] = []
    for g in results["goals"]:
        if g["pass"]:
            continue
        key = g["id"]
        text = f"- **{key}** ({_f(g['value'])} {g['op']} {_f(g['target'])} missed): "
        if key in ("1a", "1b") and "variants" in sections.get("client_cpu", {}):
            text += _why_client_cpu(key, sections["client_cpu"])
        elif key.startswith("2") and "variants" in sections.get("client_latency", {}):
            lat = sections["client_latency"]
            v, r = lat["variants"], lat["ratios"]
            text += (
                f"the gRPC stub reaches {_f(r['grpc_vs_limit'])}x the limit under the same "
                f"conditions and the client {_f(r['client_vs_limit'])}x. p50 latency is "
                f"{_f(v['client']['p50_ms'])} ms for the client and {_f(v['grpc']['p50_ms'])} ms "
                f"for the stub (50 ms added), p99 {_f(v['client']['p99_ms'])} and "
                f"{_f(v['grpc']['p99_ms'])} ms: the limit ignores the server's own time per "
                "answer (the emulator's sleep overshoots and its handler runs after it) and the "
                "tail from CPUs shared with other work."
            )
        elif key.startswith("3") and "variants" in sections.get("provider_server", {}):
            s = sections["provider_server"]
            n = key.split("-")[-1] if "-" in key else str(s["setup"]["sizes"][-1])
            ours = s["variants"]["package"].get(n, {})
            naive = s["variants"]["naive"].get(n, {})
            ideal = s["setup"]["added_latency_s"] * 1e3 / s["setup"]["callers"]
            text += (
                f"at N={n} a lookup costs {_f(ours.get('per_lookup_ms'))} ms of wall time with the "
                f"package (ideal {_f(ideal)}) and {_f(naive.get('per_lookup_ms'))} ms with the "
                "naive provider. "
            )
            if key.startswith("3b"):
                speedup = s["ratios"]["speedup_vs_naive"].get(n)
                text += (
                    "The naive provider makes two round trips per lookup (exchange + GET, "
                    "20 ms each) and opens a new TCP connection; on loopback a connection costs "
                    "no round trip and no TLS handshake, so its penalty here is "
                    f"{_f(speedup)}x. Against the real API (TLS only, remote) every naive lookup "
                    "also pays a TCP and a TLS handshake, 2-3 more round trips."
                )
            else:
                cpu = ours.get("cpu_ms_per_lookup", {})
                floor = s["variants"].get("floor", {}).get(n, {})
                floor_cpu = floor.get("cpu_ms_per_lookup", {}).get("provider")
                text += (
                    f"Each Check costs {_f(cpu.get('provider'))} ms of CPU in the provider "
                    f"process, {_f(cpu.get('emulator'))} ms in the emulator and "
                    f"{_f(cpu.get('driver'))} ms in the engine stand-in, all on 2 cores. A "
                    f"provider that only sleeps 20 ms needs {_f(floor_cpu)} ms of provider CPU "
                    f"per Check and reaches {_f(floor.get('vs_limit'))}x the limit: that much is "
                    "the server's own per-call cost on this machine; the rest is the lookup "
                    "(HTTP through urllib3 and http.client, parsing with pydantic)."
                )
                if n == "100":
                    text += (
                        " At N=100 the first Check's imports and the token exchange (section 5) "
                        "are still a large share of the wall time."
                    )
        elif key.startswith("6") and "sizes" in sections.get("engine", {}):
            text += _why_engine(key, sections["engine"])
        elif key.startswith("7") and "sizes" in sections.get("plugin_engine", {}):
            text += _why_plugin_engine(key, sections["plugin_engine"])
        elif key == "4":
            text += "the serialized provider is larger than the budget."
        elif key == "5" and "variants" in sections.get("cold_start", {}):
            s = sections["cold_start"]
            first = s["variants"]["provider_first_lookup"]
            costs = s["import_costs"]["self_ms_by_package"]
            top = ", ".join(f"{name} {_f(ms, 0)} ms" for name, ms in list(costs.items())[:6])
            base = s["variants"]["import_pulumi_dynamic"]["median_s"]
            text += (
                f"importing pulumi.dynamic alone takes {_f(base, 3)} s; the provider is ready "
                f"(port printed, channel up) after {_f(first['to_ready_s'], 3)} s, then needs "
                f"{_f(first['ready_to_answer_s'], 3)} s to answer the first Check, mostly the "
                f"imports the lookup pulls in ({_f(s['import_costs']['total_ms'], 0)} ms by "
                f"-X importtime: {top}). The 1.25x budget leaves about "
                f"{_f(base * 0.25 * 1e3, 0)} ms for everything after pulumi.dynamic. See "
                "bench/README.md for what the first lookup really needs."
            )
        lines.append(text)
    return [*lines, ""] if lines else []


def _plots(results: JSON, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    sections = results["sections"]
    cpu_s, lat_s = sections.get("client_cpu", {}), sections.get("client_latency", {})
    if "variants" in cpu_s:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for variant, by_threads in cpu_s["variants"].items():
            threads = [int(t) for t in by_threads]
            axes[0].plot(
                threads, [v["lookups_per_s"] for v in by_threads.values()], "o-", label=variant
            )
        axes[0].set(
            xscale="log", xlabel="threads", ylabel="lookups/s", title="CPU-bound (no added latency)"
        )
        axes[0].set_xticks([1, 4, 16], ["1", "4", "16"])
        axes[0].legend()
        axes[0].grid(alpha=0.3)
        if "variants" in lat_s:
            names = list(lat_s["variants"])
            axes[1].bar(
                names, [lat_s["variants"][n]["lookups_per_s"] for n in names], color="tab:blue"
            )
            limit = lat_s["setup"]["limit_lookups_per_s"]
            axes[1].axhline(limit, color="tab:red", linestyle="--", label=f"limit {limit:.0f}/s")
            axes[1].set(ylabel="lookups/s", title="16 threads, 50 ms added latency")
            axes[1].legend()
        fig.tight_layout()
        fig.savefig(out / THROUGHPUT_PNG, dpi=100)
        plt.close(fig)
        made.append(THROUGHPUT_PNG)
    prov = sections.get("provider_server", {})
    if "variants" in prov:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for variant, by_n in prov["variants"].items():
            ax.plot(
                [int(n) for n in by_n], [v["wall_s"] for v in by_n.values()], "o-", label=variant
            )
        sizes = [int(n) for n in prov["variants"]["package"]]
        ax.plot(
            sizes,
            [prov["variants"]["package"][str(n)]["limit_s"] for n in sizes],
            "k--",
            label="limit N x 20 ms / 4",
        )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="N lookups",
            ylabel="wall time, s",
            title="Through the provider server",
        )
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / PROVIDER_PNG, dpi=100)
        plt.close(fig)
        made.append(PROVIDER_PNG)
    engine = sections.get("engine", {})
    if "sizes" in engine:
        sizes = [int(n) for n in engine["sizes"]]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
        for ax, command in zip(axes, ("preview", "up"), strict=True):
            for variant, label in _ENGINE_VARIANTS.items():
                walls = [engine["sizes"][str(n)]["wall_s"][variant][command] for n in sizes]
                ax.plot(sizes, walls, "o-", label=label)
            ax.set(
                xscale="log",
                yscale="log",
                xlabel="N connections",
                ylabel="wall time, s",
                title=f"pulumi {command} (20 ms per answer)",
            )
            ax.grid(alpha=0.3)
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out / ENGINE_PNG, dpi=100)
        plt.close(fig)
        made.append(ENGINE_PNG)
    return made


def write_report(results: JSON, out: Path, *, plots: bool = True) -> None:
    """Write ``SUMMARY.md`` (and the plots) into ``out``."""
    meta = results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        "# Benchmark summary",
        "",
        f"Run {meta['timestamp']} ({'quick smoke run' if meta['quick'] else 'full run'}, "
        f"{meta['duration_s']:.0f} s) on {meta['cpus']} CPUs, Python {meta['python']}, "
        f"{meta['platform']}; {versions}.",
        "",
        *(
            [
                "**Quick smoke run: runs far too short to judge goals; verdicts are indicative "
                "only.**",
                "",
            ]
            if meta["quick"]
            else []
        ),
        "All traffic on 127.0.0.1; every figure is a median over interleaved rounds and every "
        "comparison a ratio measured in the same run. Timings never gate CI. Raw data: "
        "`latest.json`; how to read it: `bench/README.md`.",
        "",
        "## Goals",
        "",
    ]
    lines += _table(["id", "goal", "measured", "target", "verdict"], _goal_rows(results["goals"]))
    why = _why(results)
    if why:
        lines += ["## Why goals were missed", "", *why]
    made = _plots(results, out) if plots else []
    for name, section in results["sections"].items():
        lines += [f"## {section.get('title', name)}", ""]
        if "error" in section:
            lines += [
                "This section failed to run:",
                "",
                "```",
                section["error"].rstrip(),
                "```",
                "",
            ]
            continue
        lines += _RENDERERS[name](section)
        if name == "client_latency" and THROUGHPUT_PNG in made:
            lines += [f"![throughput vs threads]({THROUGHPUT_PNG})", ""]
        if name == "provider_server" and PROVIDER_PNG in made:
            lines += [f"![wall time vs N]({PROVIDER_PNG})", ""]
        if name == "engine" and ENGINE_PNG in made:
            lines += [f"![pulumi preview and up: wall time vs N]({ENGINE_PNG})", ""]
    (out / "SUMMARY.md").write_text("\n".join(lines).rstrip() + "\n")
