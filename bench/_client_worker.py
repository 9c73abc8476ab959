"""One client variant in its own process (``python -m bench._client_worker VARIANT CPU SETUP``).

Variants: ``client`` (``ConnectionsClient.get``), ``naive`` (a default ``requests.Session``
GET plus ``json.loads``), ``grpc`` (the official SDK's ``ConnectionServiceStub.Get``) and
``urllib3`` (reference: a bare urllib3 pool plus the package's pydantic ``Connection``).
The ``run`` command makes lookups from T threads for S seconds and answers the count, the
wall time, this process's CPU time (all its threads) and per-call latencies.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ._common import JSON, percentile, pin_to, serve_commands
from ._emulator_proc import connection_ids

Lookup = Callable[[str], Any]


def make_lookup(variant: str, target: str, token: str) -> Lookup:
    """A function that looks up one connection id with ``variant``."""
    if variant == "client":
        from pulumi_yc_websocket import ConnectionsClient, HttpTransport, IamToken

        client = ConnectionsClient(
            IamToken(token), endpoint=target, transport=HttpTransport(max_connections=16)
        )
        return client.get
    if variant == "naive":
        import requests

        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        base = target + "/apigateways/websocket/v1/connections/"

        def naive(connection_id: str) -> Any:
            response = session.get(base + connection_id, headers=headers, timeout=10)
            return json.loads(response.content)

        return naive
    if variant == "grpc":
        import yandexcloud
        from yandex.cloud.serverless.apigateway.websocket.v1.connection_service_pb2 import (
            GetConnectionRequest,
        )
        from yandex.cloud.serverless.apigateway.websocket.v1.connection_service_pb2_grpc import (
            ConnectionServiceStub,
        )

        sdk = yandexcloud.SDK(iam_token=token)  # type: ignore[attr-defined]
        stub = sdk.client(ConnectionServiceStub, endpoint=target, insecure=True)
        metadata = (("authorization", f"Bearer {token}"),)

        def grpc_get(connection_id: str) -> Any:
            return stub.Get(
                GetConnectionRequest(connection_id=connection_id), metadata=metadata, timeout=10
            )

        return grpc_get
    if variant == "urllib3":
        from urllib.parse import urlsplit

        import urllib3

        from pulumi_yc_websocket import Connection

        parts = urlsplit(target)
        pool = urllib3.HTTPConnectionPool(parts.hostname or "127.0.0.1", parts.port, maxsize=16)
        plain_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        path = "/apigateways/websocket/v1/connections/"

        def bare(connection_id: str) -> Any:
            response = pool.request("GET", path + connection_id, headers=plain_headers)
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            return Connection.model_validate_json(response.data)

        return bare
    raise ValueError(f"unknown variant {variant!r}")


def gateway_of(result: Any) -> str:
    """The gateway id of a lookup's result, whichever variant made it."""
    if isinstance(result, dict):
        return str(result.get("gatewayId", ""))
    return str(result.gateway_id)


def run(lookup: Lookup, ids: list[str], threads: int, seconds: float) -> JSON:
    """Lookups from ``threads`` threads for ``seconds``; counts, CPU and latency percentiles."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    barrier = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(index: int) -> None:
        mine = latencies[index]
        names = itertools.cycle(ids[index % len(ids) :] + ids[: index % len(ids)])
        barrier.wait()
        deadline = stop_at[0]
        clock = time.perf_counter
        while True:
            start = clock()
            if start >= deadline:
                return
            try:
                lookup(next(names))
            except Exception:
                errors[index] += 1
            mine.append(clock() - start)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    stop_at[0] = wall0 + seconds
    barrier.wait()
    for thread in pool:
        thread.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    flat = [x for chunk in latencies for x in chunk]
    return {
        "count": len(flat),
        "errors": sum(errors),
        "wall": wall,
        "cpu": cpu,
        "p50": percentile(flat, 50),
        "p99": percentile(flat, 99),
    }


_LAYERS = {
    "session_request": ("/requests/sessions.py", "request"),
    "session_send": ("/requests/sessions.py", "send"),
    "urlopen": ("/urllib3/connectionpool.py", "urlopen"),
    "pydantic": ("/pydantic/main.py", "model_validate_json"),
    "json": ("/json/__init__.py", "loads"),
}


def profile(lookup: Lookup, ids: list[str], n: int) -> JSON:
    """CPU per lookup (µs) by layer, from cProfile with a CPU-time clock; indicative shares.

    Layers are differences of cumulative times: what ``requests`` does before sending
    (prepare, merge settings), its send wrapper, urllib3's ``urlopen`` (connection, request,
    status line and headers via http.client), parsing, and the rest (the caller's own layers,
    body reading outside ``urlopen``). ``typing_protocol_checks`` is the own time of
    ``typing``'s runtime-Protocol ``isinstance`` machinery, wherever it is called from.
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for index in range(n):
        lookup(ids[index % len(ids)])
    profiler.disable()
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in entries.values())
    cumulative = dict.fromkeys(_LAYERS, 0.0)
    typing_checks = 0.0
    for (file, _line, function), entry in entries.items():
        for layer, (suffix, name) in _LAYERS.items():
            if file.endswith(suffix) and function == name:
                cumulative[layer] += entry[3]
        if file.endswith("/typing.py"):
            typing_checks += entry[2]
    sent = cumulative["session_send"]
    layers = {
        "requests: prepare + merge settings": cumulative["session_request"] - sent,
        "requests: send wrapper": sent - cumulative["urlopen"] if sent else 0.0,
        "urllib3 urlopen + http.client": cumulative["urlopen"],
        "parse (pydantic / json)": cumulative["pydantic"] + cumulative["json"],
    }
    layers["rest (caller's layers, body read)"] = total - sum(layers.values())
    layers["total"] = total
    result = {name: seconds / n * 1e6 for name, seconds in layers.items()}
    result["of which typing Protocol checks"] = typing_checks / n * 1e6
    return result


def main() -> None:
    """Build the variant's lookup, check one answer, serve ``run`` commands."""
    variant, cpu, setup_json = sys.argv[1:4]
    setup = json.loads(setup_json)
    lookup = make_lookup(variant, setup["target"], setup["token"])
    pin_to(None if cpu == "-" else int(cpu))  # after the imports: workers start in parallel
    ids = connection_ids()
    gateway = gateway_of(lookup(ids[0]))
    serve_commands(
        {
            "run": lambda threads, seconds: run(lookup, ids, threads, seconds),
            "profile": lambda n: profile(lookup, ids, n),
        },
        {"variant": variant, "gateway_id": gateway},
    )


if __name__ == "__main__":
    main()
