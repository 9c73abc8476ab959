"""5. Cold start: from starting the provider process to its first answered lookup.

Baseline: a process of the same interpreter that only imports ``pulumi.dynamic``. Rounds
alternate the two; medians. Also where the time goes: ``python -X importtime`` of what the
first lookup imports beyond ``pulumi.dynamic``, grouped by top-level package.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict

from ._common import JSON, PYTHON, ROOT, Peer, bench_env, goal, median, now, ratio
from ._driver import ProviderProcess
from .provider_server import check_news, provider_env, serialized_providers

_FIRST_LOOKUP_IMPORTS = "import pulumi.dynamic; import pulumi_yc_websocket.provider"


def import_only() -> float:
    """Seconds from starting a process to its having imported ``pulumi.dynamic``.

    The process says so on stdout; its exit (interpreter teardown) is not counted, as the
    provider's is not.
    """
    code = "import pulumi.dynamic; print('imported', flush=True)"
    start = now()
    process = subprocess.Popen(
        [PYTHON, "-c", code], stdout=subprocess.PIPE, text=True, env=bench_env(), cwd=ROOT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = now() - start
    process.stdout.close()
    if process.wait() != 0 or line.strip() != "imported":
        raise RuntimeError("a process importing pulumi.dynamic failed")
    return elapsed


def first_lookup(emulator: Peer, provider: str) -> JSON:
    """Seconds from starting the provider process to its first answered Check, and the parts."""
    env = provider_env(emulator, {"YC_IAM_TOKEN": emulator.ready["iam_token"]})
    with ProviderProcess(env) as process:
        process.configure({})
        inputs, failures = process.check(check_news(provider, emulator.ready["ids"][0]))
        answered = now()
        if failures or inputs.get("found") is not True:
            raise RuntimeError(f"first lookup failed: {failures} {process.stderr()}")
        return {
            "total_s": answered - process.started_at,
            "to_ready_s": process.ready_at - process.started_at,
            "ready_to_answer_s": answered - process.ready_at,
        }


def _parse(line: str) -> tuple[float, str] | None:
    """``(self ms, module)`` of one ``-X importtime`` line; None for the header and others."""
    parts = line.split("|")
    self_us = parts[0].rsplit(":", 1)[-1].strip()
    if len(parts) != 3 or not self_us.isdigit():
        return None
    return int(self_us) / 1000, parts[2].strip()


def import_times(code: str) -> list[tuple[float, str]]:
    """``(self ms, module)`` of every import ``python -X importtime -c CODE`` reports."""
    stderr = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=bench_env(),
        cwd=ROOT,
    ).stderr
    rows = [_parse(line) for line in stderr.splitlines()]
    return [row for row in rows if row is not None]


def import_costs(runs: int) -> JSON:
    """Median self time (ms) per top-level package imported after ``pulumi.dynamic``."""
    per_package: dict[str, list[float]] = defaultdict(list)
    per_module: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    for _ in range(runs):
        parsed = import_times(_FIRST_LOOKUP_IMPORTS)
        start = max(i for i, (_, name) in enumerate(parsed) if name == "pulumi.dynamic")
        sums: dict[str, float] = defaultdict(float)
        for self_ms, name in parsed[start + 1 :]:
            sums[name.split(".")[0]] += self_ms
            if name.startswith("pulumi_yc_websocket"):
                per_module[name].append(self_ms)
        for top, ms in sums.items():
            per_package[top].append(ms)
        totals.append(sum(sums.values()))
    by_package = {
        top: median(values + [0.0] * (runs - len(values))) for top, values in per_package.items()
    }
    ordered = dict(sorted(by_package.items(), key=lambda item: -item[1]))
    own = {name: median(values) for name, values in per_module.items()}
    return {
        "total_ms": median(totals),
        "self_ms_by_package": ordered,
        "self_ms_by_own_module": dict(sorted(own.items(), key=lambda item: -item[1])),
        "runs": runs,
    }


def run(quick: bool) -> JSON:
    """Alternate baseline and provider starts; medians and the ratio."""
    rounds = 1 if quick else 10
    provider = serialized_providers()["package"]
    baseline: list[float] = []
    lookups: list[JSON] = []
    with Peer("bench._emulator_proc", ["-"]) as emulator:
        if not quick:  # warm the file cache for both
            import_only()
            first_lookup(emulator, provider)
        for index in range(rounds):
            if index % 2:
                lookups.append(first_lookup(emulator, provider))
                baseline.append(import_only())
            else:
                baseline.append(import_only())
                lookups.append(first_lookup(emulator, provider))
    ratios = [ratio(x["total_s"], b) for x, b in zip(lookups, baseline, strict=True)]
    value = median(ratios)
    return {
        "title": "Cold start: process start to first answered lookup",
        "setup": {"rounds": rounds, "credential": "IAM token in YC_IAM_TOKEN"},
        "variants": {
            "import_pulumi_dynamic": {"median_s": median(baseline)},
            "provider_first_lookup": {
                "median_s": median([x["total_s"] for x in lookups]),
                "to_ready_s": median([x["to_ready_s"] for x in lookups]),
                "ready_to_answer_s": median([x["ready_to_answer_s"] for x in lookups]),
            },
        },
        "ratios": {"first_lookup_vs_import_only": value},
        "import_costs": import_costs(1 if quick else 3),
        "goals": [
            goal(
                "5",
                "first lookup <= 1.25x a process that only imports pulumi.dynamic",
                value,
                "<=",
                1.25,
            )
        ],
        "raw": {"import_only_s": baseline, "first_lookup": lookups},
    }
