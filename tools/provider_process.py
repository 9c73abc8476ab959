"""A dynamic-provider process (``python -m pulumi.dynamic``) driven over gRPC as the engine does.

For the tests and benchmarks that measure the provider process itself (many Checks from several
callers, its start-up, the state it returns) without a whole deployment; the real CLI judges
everything a deployment does. Properties go over the wire as ``google.protobuf.Struct``; the
engine's secret and unknown markers are plain values here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

URN = "urn:pulumi:dev::test::pulumi-python:dynamic/yc-websocket:WebSocketConnection::c"
_TIMEOUT = 60.0


@dataclass(frozen=True)
class Checked:
    """What Check answered: the checked inputs and the failures, as ``(property, reason)``."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def _values(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(struct))


class ProviderProcess:
    """One provider process, connected and ready for calls; close it (or use ``with``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        python: str = sys.executable,
        cwd: Path | None = None,
        project: str = "test",
    ) -> None:
        """Start ``python -u -m pulumi.dynamic`` with exactly ``env`` (plus the project name)."""
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**env, "PULUMI_PROJECT": project},
            cwd=cwd,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError(f"the provider process printed no port: {self.stderr()}")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(self._channel).result(timeout=_TIMEOUT)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def configure(self, config: Mapping[str, str]) -> None:
        """Send the stack config, as the engine does before any resource call."""
        request = provider_pb2.ConfigureRequest(
            variables=dict(config), args=_struct(config), acceptSecrets=True
        )
        self._stub.Configure(request, timeout=_TIMEOUT)

    def check(self, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None) -> Checked:
        """Check a resource's new inputs."""
        request = provider_pb2.CheckRequest(
            urn=URN, olds=_struct(olds or {}), news=_struct(news), randomSeed=b"test"
        )
        response = self._stub.Check(request, timeout=_TIMEOUT)
        failures = [(f.property, f.reason) for f in response.failures]
        return Checked(_values(response.inputs), failures)

    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create a resource from checked inputs: its id and output properties."""
        request = provider_pb2.CreateRequest(urn=URN, properties=_struct(properties))
        response = self._stub.Create(request, timeout=_TIMEOUT)
        return response.id, _values(response.properties)

    def stderr(self) -> str:
        """The end of what the process wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (NaN where it cannot be read)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        """End the process."""
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()
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

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
