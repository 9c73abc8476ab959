"""3. Through the real provider server: N lookups (Check calls) from 4 concurrent callers.

Each run starts a fresh ``python -m pulumi.dynamic`` with an OAuth token in its environment
(so lookups need an IAM token exchange), sends ``Configure``, then N ``Check`` calls from 4
threads over one channel, as the engine does. The emulator adds 20 ms to every answer, the
Connection.Get and the IAM exchange alike. Compared: the package's provider and a naive
provider pickled by value from a program's ``__main__`` (``bench/naive_provider.py``), and,
as the floor of the server itself, a provider that only sleeps 20 ms (``floor_provider.py``).
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

from ._common import (
    BENCH_DIR,
    JSON,
    PYTHON,
    Peer,
    bench_env,
    goal,
    median,
    now,
    ratio,
    rotated,
)
from ._driver import ProviderProcess

LATENCY = 0.02
CALLERS = 4
VARIANTS = ("package", "naive")
FLOOR = "floor"


def _script_provider(script: str) -> str:
    """The ``__provider`` a script under bench/ prints (its class lives in ``__main__``)."""
    return subprocess.run(
        [PYTHON, str(BENCH_DIR / script)],
        capture_output=True,
        text=True,
        env=bench_env(),
        check=True,
    ).stdout.strip()


def serialized_providers() -> dict[str, str]:
    """``__provider`` of every variant, as a program would serialize it."""
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_yc_websocket.provider import WebSocketConnectionProvider

    return {
        "package": serialize_provider(WebSocketConnectionProvider()),
        "naive": _script_provider("naive_provider.py"),
        FLOOR: _script_provider("floor_provider.py"),
    }


def provider_env(emulator: Peer, credential: dict[str, str]) -> dict[str, str]:
    """The environment the engine would hand the provider process."""
    url = emulator.ready["url"]
    return bench_env(
        {"YC_APIGATEWAY_CONNECTIONS_ENDPOINT": url, "YC_IAM_ENDPOINT": url, **credential}
    )


def check_news(provider: str, connection_id: str) -> dict[str, Any]:
    """Check inputs as a program's ``WebSocketConnection(...)`` sends them."""
    return {
        "__provider": provider,
        "connectionId": connection_id,
        "allowMissing": False,
        "secretFields": [],
    }


def one_run(emulator: Peer, provider: str, n: int, ids: Sequence[str]) -> JSON:
    """A fresh provider process, Configure, then ``n`` Checks from 4 callers; counts and times."""
    env = provider_env(emulator, {"YC_TOKEN": emulator.ready["oauth_token"]})
    before = emulator.call("stats")
    failures: list[str] = []
    with ProviderProcess(env) as process:
        process.configure({"bench:name": "bench"})
        counter = itertools.count()
        lock = threading.Lock()

        def caller() -> None:
            while True:
                with lock:
                    index = next(counter)
                if index >= n:
                    return
                inputs, failed = process.check(check_news(provider, ids[index % len(ids)]))
                if failed or inputs.get("found") is not True:
                    failures.append("; ".join(failed) or "not found")

        callers = [threading.Thread(target=caller) for _ in range(CALLERS)]
        emulator_cpu = emulator.call("stats")["cpu"]
        provider_cpu, driver_cpu = process.cpu_seconds(), time.process_time()
        start = now()
        for thread in callers:
            thread.start()
        for thread in callers:
            thread.join()
        wall = now() - start
        provider_cpu = process.cpu_seconds() - provider_cpu
        driver_cpu = time.process_time() - driver_cpu
        emulator_cpu = emulator.call("stats")["cpu"] - emulator_cpu
        if failures:
            raise RuntimeError(
                f"{len(failures)} failed checks, e.g. {failures[0]}: {process.stderr()}"
            )
    after = emulator.call("stats")
    emulator.call("clear")
    return {
        "n": n,
        "wall_s": wall,
        "tcp_connections": after["accepted"] - before["accepted"],
        "token_exchanges": after["iam"] - before["iam"],
        "lookups": after["connections"],
        "cpu_ms_per_lookup": {
            "provider": provider_cpu / n * 1e3,
            "emulator": emulator_cpu / n * 1e3,
            "driver": driver_cpu / n * 1e3,
        },
    }


def run(quick: bool) -> JSON:
    """Measure every N for both providers, interleaved, a fresh process per run."""
    sizes = (10,) if quick else (10, 100, 1000)
    rounds = 1 if quick else 3
    providers = serialized_providers()
    measured = VARIANTS if quick else (*VARIANTS, FLOOR)
    raw: dict[str, dict[int, list[JSON]]] = {v: {n: [] for n in sizes} for v in measured}
    with Peer("bench._emulator_proc", ["-"]) as emulator:
        emulator.call("delay", services=["connections", "iam"], seconds=LATENCY)
        ids = emulator.ready["ids"]
        for index in range(rounds):
            for n in sizes:
                for variant in rotated(measured, index):
                    raw[variant][n].append(one_run(emulator, providers[variant], n, ids))

    def limit(n: int) -> float:
        return n * LATENCY / CALLERS

    variants: dict[str, Any] = {}
    for variant in measured:
        variants[variant] = {
            str(n): {
                "wall_s": median([r["wall_s"] for r in raw[variant][n]]),
                "limit_s": limit(n),
                "vs_limit": median([r["wall_s"] / limit(n) for r in raw[variant][n]]),
                "per_lookup_ms": median([r["wall_s"] / n * 1e3 for r in raw[variant][n]]),
                "tcp_connections": max(r["tcp_connections"] for r in raw[variant][n]),
                "token_exchanges": max(r["token_exchanges"] for r in raw[variant][n]),
                "cpu_ms_per_lookup": {
                    part: median([r["cpu_ms_per_lookup"][part] for r in raw[variant][n]])
                    for part in ("provider", "emulator", "driver")
                },
            }
            for n in sizes
        }
    speedup = {
        str(n): median(
            [
                ratio(b["wall_s"], a["wall_s"])
                for a, b in zip(raw["package"][n], raw["naive"][n], strict=True)
            ]
        )
        for n in sizes
    }
    floor_vs_limit = {
        str(n): variants[FLOOR][str(n)]["vs_limit"] for n in sizes if FLOOR in variants
    }
    judged = [n for n in sizes if n >= 100]  # N=10 is all fixed costs; quick runs judge none
    ours = variants["package"]
    goals = [
        goal(
            f"3a-{n}",
            f"N={n}: wall time <= 1.15x the limit N x 20 ms / 4",
            ours[str(n)]["vs_limit"],
            "<=",
            1.15,
        )
        for n in judged
    ]
    goals += [
        goal(f"3b-{n}", f"N={n}: >= 3x faster than the naive provider", speedup[str(n)], ">=", 3.0)
        for n in judged
    ]
    goals.append(
        goal(
            "3c",
            "one IAM token exchange per process (any N)",
            max(ours[str(n)]["token_exchanges"] for n in sizes),
            "<=",
            1,
        )
    )
    goals.append(
        goal(
            "3d",
            "at most 4 TCP connections per process (any N)",
            max(ours[str(n)]["tcp_connections"] for n in sizes),
            "<=",
            4,
        )
    )
    if len(judged) > 1:
        growth = ratio(ours[str(sizes[-1])]["per_lookup_ms"], ours[str(judged[0])]["per_lookup_ms"])
        goals.append(
            goal(
                "3e",
                f"cost linear in N: per-lookup time at N={sizes[-1]} "
                f"<= 1.15x that at N={judged[0]}",
                growth,
                "<=",
                1.15,
            )
        )
    return {
        "title": "Through the provider server (20 ms added per answer, 4 concurrent callers)",
        "setup": {
            "sizes": list(sizes),
            "rounds": rounds,
            "callers": CALLERS,
            "added_latency_s": LATENCY,
            "latency_applies_to": ["connections", "iam"],
            "credential": "OAuth token in YC_TOKEN (exchanged at the emulator's IAM endpoint)",
        },
        "variants": variants,
        "ratios": {"speedup_vs_naive": speedup, "floor_vs_limit": floor_vs_limit},
        "goals": goals,
        "raw": {v: {str(n): raw[v][n] for n in sizes} for v in measured},
    }
