"""A provider process driven over gRPC as the engine does: the dynamic provider (``python -m
pulumi.dynamic``) or the plugin (``pulumi-resource-yc-websocket``).

For the tests and benchmarks that look at the provider process itself (many calls from several
callers, its start-up, what it answers each call) without a whole deployment; the real CLI judges
everything a deployment does. Properties go over the wire as ``google.protobuf.Struct``; the
engine's secret and unknown markers are plain values here (:func:`secret`, :data:`UNKNOWN`).
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
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

URN = "urn:pulumi:dev::test::pulumi-python:dynamic/yc-websocket:WebSocketConnection::c"
PLUGIN_URN = "urn:pulumi:dev::test::yc-websocket:index:WebSocketConnection::c"
DYNAMIC = ("-u", "-m", "pulumi.dynamic")
"""The dynamic provider's command line after the interpreter."""
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""A value not known yet (preview), as the engine sends it."""
_SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
_TIMEOUT = 60.0


def secret(value: Any) -> dict[str, Any]:
    """``value`` as a secret on the wire."""
    return {**_SECRET_SIG, "value": value}


def plugin_command() -> list[str]:
    """The plugin as the engine starts it: the console script of this interpreter's
    environment, and an engine address (it never calls the engine)."""
    return [str(Path(sys.executable).with_name("pulumi-resource-yc-websocket")), "127.0.0.1:1"]


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
        command: list[str] | None = None,
        cwd: Path | None = None,
        project: str = "test",
        urn: str = URN,
    ) -> None:
        """Start ``command`` (default: ``python -u -m pulumi.dynamic``) with exactly ``env``
        (plus the project name); ``urn`` is the resource's in every call."""
        self.urn = urn
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            command or [python, *DYNAMIC],
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
            urn=self.urn, olds=_struct(olds or {}), news=_struct(news), randomSeed=b"test"
        )
        response = self._stub.Check(request, timeout=_TIMEOUT)
        failures = [(f.property, f.reason) for f in response.failures]
        return Checked(_values(response.inputs), failures)

    def check_config(self, news: Mapping[str, Any]) -> Checked:
        """Check the provider's config."""
        urn = "urn:pulumi:dev::test::pulumi:providers:yc-websocket::default"
        request = provider_pb2.CheckRequest(urn=urn, olds=_struct({}), news=_struct(news))
        response = self._stub.CheckConfig(request, timeout=_TIMEOUT)
        failures = [(f.property, f.reason) for f in response.failures]
        return Checked(_values(response.inputs), failures)

    def create(
        self, properties: Mapping[str, Any], *, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Create a resource from checked inputs: its id and output properties."""
        request = provider_pb2.CreateRequest(
            urn=self.urn, properties=_struct(properties), preview=preview
        )
        response = self._stub.Create(request, timeout=_TIMEOUT)
        return response.id, _values(response.properties)

    def diff(
        self, olds: Mapping[str, Any], news: Mapping[str, Any], resource_id: str = "id"
    ) -> provider_pb2.DiffResponse:
        """Diff a resource's state against new inputs."""
        request = provider_pb2.DiffRequest(
            urn=self.urn, id=resource_id, olds=_struct(olds), news=_struct(news)
        )
        response: provider_pb2.DiffResponse = self._stub.Diff(request, timeout=_TIMEOUT)
        return response

    def read(
        self,
        resource_id: str,
        properties: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Read a resource: its id (empty: gone), outputs and inputs."""
        request = provider_pb2.ReadRequest(
            urn=self.urn,
            id=resource_id,
            properties=_struct(properties or {}),
            inputs=_struct(inputs or {}),
        )
        response = self._stub.Read(request, timeout=_TIMEOUT)
        return response.id, _values(response.properties), _values(response.inputs)

    def invoke(self, token: str, args: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """Call a function: its result and failures, as ``(property, reason)``."""
        request = provider_pb2.InvokeRequest(tok=token, args=_struct(args))
        response = self._stub.Invoke(request, timeout=_TIMEOUT)
        failures = [(f.property, f.reason) for f in response.failures]
        return _values(getattr(response, "return")), failures

    def plugin_version(self) -> str:
        """What GetPluginInfo says."""
        return str(self._stub.GetPluginInfo(empty_pb2.Empty(), timeout=_TIMEOUT).version)

    def schema(self) -> str:
        """What GetSchema answers."""
        request = provider_pb2.GetSchemaRequest(version=0)
        return str(self._stub.GetSchema(request, timeout=_TIMEOUT).schema)

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
