"""1. Client, CPU-bound: lookups/s, latency and client CPU per lookup, 1/4/16 threads.

Variants, each in its own process pinned to one CPU (the servers on the other):
``client`` (``ConnectionsClient.get``), ``naive`` (default ``requests.Session`` GET +
``json.loads``), both against the emulator with auth; ``grpc`` (the official SDK's
``ConnectionServiceStub.Get``) against a gRPC server built from the SDK's servicer; and, for
reference only, ``urllib3`` (a bare urllib3 pool + the package's pydantic model).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ._common import JSON, Peer, PeerGroup, goal, median, ratio, rotated, server_and_client_cpus

VARIANTS = ("client", "naive", "grpc", "urllib3")
THREADS = (1, 4, 16)


def start_workers(
    peers: PeerGroup,
    emulator: Peer,
    grpc_peer: Peer,
    cpu: int | None,
    variants: Sequence[str] = VARIANTS,
) -> dict[str, Peer]:
    """One worker process per variant, pointed at its server."""
    workers = {}
    for variant in variants:
        target = grpc_peer.ready["address"] if variant == "grpc" else emulator.ready["url"]
        setup = {"target": target, "token": emulator.ready["iam_token"]}
        args = [variant, "-" if cpu is None else str(cpu), json.dumps(setup)]
        workers[variant] = peers.add(Peer("bench._client_worker", args, wait=False))
    for worker in workers.values():  # started together, they import in parallel
        worker.wait_ready()
    return workers


def summarize(runs: list[JSON]) -> JSON:
    """Medians over rounds of one variant at one thread count."""
    return {
        "lookups_per_s": median([r["count"] / r["wall"] for r in runs]),
        "p50_ms": median([r["p50"] * 1e3 for r in runs]),
        "p99_ms": median([r["p99"] * 1e3 for r in runs]),
        "cpu_us_per_lookup": median([r["cpu"] / r["count"] * 1e6 for r in runs if r["count"]]),
        "client_busy": median([r["cpu"] / r["wall"] for r in runs]),
        "server_cpu_us_per_lookup": median(
            [r["server_cpu"] / r["count"] * 1e6 for r in runs if r["count"] and "server_cpu" in r]
        ),
        "server_busy": median([r["server_cpu"] / r["wall"] for r in runs if "server_cpu" in r]),
        "errors": sum(r["errors"] for r in runs),
        "rounds": len(runs),
    }


def run(quick: bool) -> JSON:
    """Measure; interleave variants within every round, rotate their order across rounds."""
    rounds, seconds = (1, 0.1) if quick else (5, 1.0)
    server_cpu, client_cpu = server_and_client_cpus()
    server_arg = "-" if server_cpu is None else str(server_cpu)
    raw: dict[str, dict[int, list[JSON]]] = {v: {t: [] for t in THREADS} for v in VARIANTS}
    with PeerGroup() as peers:
        emulator = peers.add(Peer("bench._emulator_proc", [server_arg], wait=False))
        grpc_peer = peers.add(Peer("bench._grpc_peer", [server_arg], wait=False))
        emulator.wait_ready()
        grpc_peer.wait_ready()
        workers = start_workers(peers, emulator, grpc_peer, client_cpu)
        for worker in workers.values():  # warm-up; fills every pool (16 connections)
            worker.call("run", threads=max(THREADS), seconds=0.1 if quick else 0.5)
        for index in range(rounds):
            for threads in THREADS:
                for variant in rotated(VARIANTS, index):
                    server = grpc_peer if variant == "grpc" else emulator
                    cpu0 = server.call("stats")["cpu"]
                    result = workers[variant].call("run", threads=threads, seconds=seconds)
                    result["server_cpu"] = server.call("stats")["cpu"] - cpu0
                    raw[variant][threads].append(result)
                emulator.call("clear")
        profiles = {
            v: workers[v].call("profile", n=20 if quick else 1000)
            for v in ("client", "naive", "urllib3")
        }

    def per_round(a: str, b: str, threads: int, key: str) -> float:
        pairs = zip(raw[a][threads], raw[b][threads], strict=True)
        if key == "throughput":
            return median([ratio(x["count"] / x["wall"], y["count"] / y["wall"]) for x, y in pairs])
        # CPU: how many times less CPU per lookup ``a`` spends than ``b``.
        return median([ratio(y["cpu"] / y["count"], x["cpu"] / x["count"]) for x, y in pairs])

    ratios = {
        f"{a}_vs_{b}": {
            str(t): {
                "throughput": per_round(a, b, t, "throughput"),
                "cpu": per_round(a, b, t, "cpu"),
            }
            for t in THREADS
        }
        for a, b in (("client", "naive"), ("client", "grpc"), ("urllib3", "client"))
    }
    worst_naive = min(ratios["client_vs_naive"][str(t)]["throughput"] for t in THREADS)
    worst_grpc = min(ratios["client_vs_grpc"][str(t)]["throughput"] for t in THREADS)
    return {
        "title": "Client, CPU-bound (no added latency)",
        "setup": {
            "rounds": rounds,
            "seconds_per_run": seconds,
            "threads": list(THREADS),
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
        },
        "variants": {v: {str(t): summarize(raw[v][t]) for t in THREADS} for v in VARIANTS},
        "ratios": ratios,
        "goals": [
            goal(
                "1a",
                "client lookups/s >= 1.3x naive requests (worst of 1/4/16 threads)",
                worst_naive,
                ">=",
                1.3,
            ),
            goal(
                "1b",
                "client lookups/s >= 0.6x official gRPC stub (worst of 1/4/16 threads)",
                worst_grpc,
                ">=",
                0.6,
            ),
        ],
        "profile_us_per_lookup": profiles,
        "raw": {v: {str(t): raw[v][t] for t in THREADS} for v in VARIANTS},
    }
