"""2. Client, latency-bound: 16 threads against a server that adds 50 ms to every answer.

The emulator delays every Connection.Get answer (``Delay(0.05)`` as the default fault); the
gRPC peer sleeps as long. Throughput is compared with the limit, threads / latency, and with
the official gRPC stub under the same added latency. ``naive`` is shown for reference.
"""

from __future__ import annotations

from ._common import JSON, Peer, PeerGroup, goal, median, ratio, rotated, server_and_client_cpus
from .client_cpu import start_workers, summarize

LATENCY = 0.05
THREADS = 16
VARIANTS = ("client", "naive", "grpc")


def run(quick: bool) -> JSON:
    """Measure; variants interleaved within every round."""
    rounds, seconds = (1, 0.25) if quick else (5, 3.0)
    limit = THREADS / LATENCY
    server_cpu, client_cpu = server_and_client_cpus()
    server_arg = "-" if server_cpu is None else str(server_cpu)
    raw: dict[str, list[JSON]] = {v: [] for v in VARIANTS}
    with PeerGroup() as peers:
        emulator = peers.add(Peer("bench._emulator_proc", [server_arg], wait=False))
        grpc_peer = peers.add(Peer("bench._grpc_peer", [server_arg], wait=False))
        emulator.wait_ready()
        grpc_peer.wait_ready()
        workers = start_workers(peers, emulator, grpc_peer, client_cpu, VARIANTS)
        emulator.call("delay", services=["connections"], seconds=LATENCY)
        grpc_peer.call("delay", seconds=LATENCY)
        for variant in VARIANTS:  # warm-up: open the 16 pooled connections
            workers[variant].call("run", threads=THREADS, seconds=0.1 if quick else 0.5)
        for index in range(rounds):
            for variant in rotated(VARIANTS, index):
                raw[variant].append(workers[variant].call("run", threads=THREADS, seconds=seconds))
            emulator.call("clear")

    def throughput(run_: JSON) -> float:
        return float(run_["count"] / run_["wall"])

    vs_limit = median([throughput(r) / limit for r in raw["client"]])
    vs_grpc = median(
        [
            ratio(throughput(a), throughput(b))
            for a, b in zip(raw["client"], raw["grpc"], strict=True)
        ]
    )
    return {
        "title": "Client, latency-bound (50 ms added per answer, 16 threads)",
        "setup": {
            "rounds": rounds,
            "seconds_per_run": seconds,
            "threads": THREADS,
            "added_latency_s": LATENCY,
            "limit_lookups_per_s": limit,
        },
        "variants": {v: summarize(raw[v]) for v in VARIANTS},
        "ratios": {
            "client_vs_limit": vs_limit,
            "client_vs_grpc": vs_grpc,
            "grpc_vs_limit": median([throughput(r) / limit for r in raw["grpc"]]),
            "naive_vs_limit": median([throughput(r) / limit for r in raw["naive"]]),
        },
        "goals": [
            goal(
                "2a",
                "client throughput >= 0.95x the limit (threads / latency)",
                vs_limit,
                ">=",
                0.95,
            ),
            goal(
                "2b",
                "client throughput >= 1.0x the gRPC stub, same added latency",
                vs_grpc,
                ">=",
                1.0,
            ),
        ],
        "raw": raw,
    }
