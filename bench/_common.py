"""Shared helpers: statistics, JSON-line peer processes, CPU pinning, paths."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PYTHON = sys.executable
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

JSON = dict[str, Any]


def median(values: Sequence[float]) -> float:
    """Median; NaN for no values."""
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100), linear between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is zero or NaN."""
    if not denominator or denominator != denominator:
        return float("nan")
    return numerator / denominator


def cpus() -> list[int]:
    """CPUs this process may run on, sorted."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def pin_to(cpu: int | None) -> None:
    """Pin the calling process to one CPU (no-op for ``None`` or where unsupported)."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def server_and_client_cpus() -> tuple[int | None, int | None]:
    """One CPU for the server and another for the client, when there are two or more."""
    available = cpus()
    if len(available) < 2:
        return None, None
    return available[0], available[1]


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, loopback exempt from proxies, without YC_* credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YC_")}
    no_proxy = ",".join(x for x in (env.get("NO_PROXY", ""), "127.0.0.1,localhost") if x)
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    env.setdefault("GRPC_VERBOSITY", "ERROR")  # no C-core notices when peers quit
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env.get("PYTHONPATH", "")) if x)
    env.update(extra or {})
    return env


class Peer:
    """A child process spoken to in JSON lines: its first line is a ``ready`` message."""

    def __init__(
        self,
        module: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else bench_env(),
            cwd=ROOT,
        )
        self._lock = threading.Lock()
        self.ready: JSON = {}
        if wait:
            self.wait_ready()

    def wait_ready(self) -> JSON:
        """Wait for the peer's ``ready`` line (the constructor does unless ``wait=False``)."""
        if not self.ready:
            self.ready = self._read()
        return self.ready

    def _read(self) -> JSON:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=10)
            raise RuntimeError(f"peer {self.process.args!r} exited with {code}")
        answer: JSON = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"peer {self.process.args!r} failed: {answer['error']}")
        return answer

    def call(self, op: str, **params: Any) -> JSON:
        """Send one command and return the answer."""
        with self._lock:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"op": op, **params}) + "\n")
            self.process.stdin.flush()
            return self._read()

    def request_quit(self) -> None:
        """Ask the peer to quit, without waiting."""
        stdin = self.process.stdin
        if self.process.poll() is None and stdin is not None and not stdin.closed:
            try:
                stdin.write(json.dumps({"op": "quit"}) + "\n")
                stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        """Ask the peer to quit; kill it if it does not within 5 s."""
        self.request_quit()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PeerGroup:
    """Peers that are closed together on exit: all asked to quit first, then awaited."""

    def __init__(self) -> None:
        self._peers: list[Peer] = []

    def add(self, peer: Peer) -> Peer:
        """Keep ``peer`` to close on exit; returns it."""
        self._peers.append(peer)
        return peer

    def __enter__(self) -> PeerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        for peer in self._peers:
            peer.request_quit()
        for peer in self._peers:
            peer.close()


def serve_commands(handlers: Mapping[str, Any], ready: JSON) -> None:
    """Peer side of :class:`Peer`: print ``ready``, then answer commands until ``quit``/EOF."""
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        try:
            answer = handlers[op](**request)
        except Exception as exc:  # report, keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


def now() -> float:
    """A monotonic clock in seconds."""
    return time.perf_counter()


def goal(key: str, text: str, value: float, op: str, target: float) -> JSON:
    """A goal's verdict: ``value op target`` with ``op`` ``>=`` or ``<=``; NaN never passes."""
    if value != value:
        passed = False
    elif op == ">=":
        passed = value >= target
    elif op == "<=":
        passed = value <= target
    else:
        raise ValueError(f"unknown operator {op!r}")
    return {"id": key, "goal": text, "value": value, "op": op, "target": target, "pass": passed}


def rotated(items: Sequence[str], by: int) -> list[str]:
    """``items`` rotated left by ``by`` (interleaves the order of variants across rounds)."""
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]
