"""Drives the real dynamic-provider server (``python -m pulumi.dynamic``) over gRPC.

Started and spoken to the way the Pulumi engine does it: the process prints its port, then
gets ``Configure`` and ``Check``/``Create`` calls whose properties carry ``__provider``. Uses
the package's own engine stand-in, ``pulumi_yc_websocket.testing.ProviderServer``, when the
installed package has it; otherwise a minimal driver of its own.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from typing import Any, Protocol

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ._common import PYTHON, ROOT, now

URN = "urn:pulumi:bench::bench::pulumi-python:dynamic/yc-websocket:WebSocketConnection::c"


class _Driver(Protocol):
    def configure(self, config: Mapping[str, str]) -> None: ...
    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]: ...
    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]: ...
    def stderr(self) -> str: ...
    def pid(self) -> int | None: ...
    def close(self) -> None: ...


def driver_name() -> str:
    """Which driver :class:`ProviderProcess` uses."""
    try:
        from pulumi_yc_websocket.testing import ProviderServer  # noqa: F401
    except ImportError:
        return "bench._driver (own)"
    return "pulumi_yc_websocket.testing.ProviderServer"


def _jsonable(value: Any) -> Any:
    """Markers of ``pulumi_yc_websocket.testing`` as plain JSON values."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "value") and type(value).__name__ == "Secret":
        return {"secret": _jsonable(value.value)}
    return str(value)


class _TestingDriver:
    """Adapter over ``pulumi_yc_websocket.testing.ProviderServer``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from pulumi_yc_websocket.testing import ProviderServer

        self._server = ProviderServer(env=env, inherit_env=False, cwd=ROOT, project="bench")
        self._server.start()

    def configure(self, config: Mapping[str, str]) -> None:
        self._server.configure(config)

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        result = self._server.check(URN, {}, news)
        reasons = [f"{f.property}: {f.reason}" for f in result.failures]
        return _jsonable(result.inputs), reasons

    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        result = self._server.create(URN, properties)
        return result.id, _jsonable(result.outputs)

    def stderr(self) -> str:
        return self._server.stderr[-2000:]

    def pid(self) -> int | None:
        process = getattr(self._server, "_proc", None)  # not public: CPU accounting only
        return getattr(process, "pid", None)

    def close(self) -> None:
        self._server.stop()


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


class _OwnDriver:
    """A minimal engine side: start, read the port, Configure, Check, Create."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**env, "PULUMI_PROJECT": "bench"},
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"provider process did not print its port: {self.stderr()}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def pid(self) -> int | None:
        return self.process.pid

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def configure(self, config: Mapping[str, str]) -> None:
        request = provider_pb2.ConfigureRequest(
            variables=dict(config), args=_struct(config), acceptSecrets=True
        )
        self.stub.Configure(request, timeout=60)

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        request = provider_pb2.CheckRequest(
            urn=URN, olds=struct_pb2.Struct(), news=_struct(news), randomSeed=b"bench"
        )
        response = self.stub.Check(request, timeout=60)
        reasons = [f"{f.property}: {f.reason}" for f in response.failures]
        return dict(json_format.MessageToDict(response.inputs)), reasons

    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(urn=URN, properties=_struct(properties))
        response = self.stub.Create(request, timeout=60)
        return response.id, dict(json_format.MessageToDict(response.properties))

    def close(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


class ProviderProcess:
    """One provider process, connected; ``started_at``/``ready_at`` are ``perf_counter`` readings.

    ``ready_at``: the process printed its port and the channel is connected (as the engine
    does before its first call).
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.started_at = now()
        try:
            import pulumi_yc_websocket.testing  # noqa: F401
        except ImportError:
            self._driver: _Driver = _OwnDriver(env)
        else:
            self._driver = _TestingDriver(env)
        self.ready_at = now()

    def configure(self, config: Mapping[str, str]) -> None:
        """Send the stack config, as the engine does before any resource call."""
        self._driver.configure(config)

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Check a new resource: the checked inputs and the failure reasons."""
        return self._driver.check(news)

    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create a resource from checked inputs: its id and output properties."""
        return self._driver.create(properties)

    def stderr(self) -> str:
        """The end of what the process wrote to stderr."""
        return self._driver.stderr()

    def cpu_seconds(self) -> float:
        """CPU time the provider process has used so far (NaN where it cannot be read)."""
        pid = self._driver.pid()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        """End the process."""
        self._driver.close()

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
