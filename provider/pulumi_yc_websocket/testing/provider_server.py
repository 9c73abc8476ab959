"""The real Python dynamic-provider server, started and driven over gRPC as the engine does.

The Pulumi CLI serves every dynamic resource of a Python program with one plugin process,
``python -m pulumi.dynamic <engine-address>``, which prints the port of its ``ResourceProvider``
gRPC service on stdout. :class:`ProviderServer` starts that same program and exposes the engine's
side of the protocol (``sdk/go/common/resource/plugin/provider_plugin.go``): properties are
marshalled with the flags the provider negotiated in ``Configure`` (the Python server answers
``acceptSecrets=false``, ``supportsPreview=false``), results are unmarshalled keeping secrets and
secretness is copied back from the inputs (``annotateSecrets``), and ``create``/``update`` in a
preview do not reach the provider at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Self

import grpc  # type: ignore[import-untyped,unused-ignore]
from google.protobuf import empty_pb2  # type: ignore[import-untyped,unused-ignore]
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .errors import CheckFailure, EngineError, ProviderError
from .properties import Secret, annotate_secrets, from_struct, to_struct

if TYPE_CHECKING:
    from types import TracebackType

    from google.protobuf import struct_pb2  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "CheckResult",
    "ConfigureResult",
    "CreateResult",
    "DiffChanges",
    "DiffResult",
    "ProviderServer",
    "ReadResult",
    "import_root",
]

DYNAMIC_PACKAGE = "pulumi-python"
"""The package name of the Python dynamic provider (resource types ``pulumi-python:dynamic...``)."""

_MAX_MESSAGE = 1024 * 1024 * 400


class ConfigureResult(NamedTuple):
    """The protocol a provider announced in its ``Configure`` response."""

    accept_secrets: bool
    supports_preview: bool
    accept_resources: bool
    accept_outputs: bool


class CheckResult(NamedTuple):
    """Result of ``check``: the checked inputs and any validation failures."""

    inputs: dict[str, Any]
    failures: list[CheckFailure]


class DiffChanges(Enum):
    """``DiffResponse.changes``."""

    UNKNOWN = 0
    NONE = 1
    SOME = 2


@dataclass
class DiffResult:
    """Result of ``diff`` as the engine reads it."""

    changes: DiffChanges
    replaces: list[str] = field(default_factory=list)
    stables: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    diffs: list[str] = field(default_factory=list)
    detailed_diff: dict[str, str] = field(default_factory=dict)

    @property
    def replace(self) -> bool:
        """Whether the diff requires a replacement."""
        return self.changes is DiffChanges.SOME and bool(self.replaces)


class CreateResult(NamedTuple):
    """Result of ``create``: the new id and the output properties."""

    id: str
    outputs: dict[str, Any]


class ReadResult(NamedTuple):
    """Result of ``read``: id (empty if the resource is gone), outputs and optional new inputs."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any] | None


_DEFAULT_PROTOCOL = ConfigureResult(
    accept_secrets=False, supports_preview=False, accept_resources=False, accept_outputs=False
)


def import_root(module: ModuleType | str) -> Path:
    """Return the ``sys.path`` entry a module was imported from.

    Put it on the provider's ``PYTHONPATH`` (``ProviderServer(python_path=[...])``) so that a
    provider class pickled *by reference* (``module.Class``) can be imported by the server.
    """
    mod = sys.modules[module] if isinstance(module, str) else module
    file = getattr(mod, "__file__", None)
    if file is None:
        raise ValueError(f"module {mod.__name__} has no file")
    path = Path(file).resolve().parent
    if Path(file).name == "__init__.py":
        path = path.parent
    for _ in range(mod.__name__.count(".")):
        path = path.parent
    return path


class _StreamReader(threading.Thread):
    """Drains a pipe so the child never blocks on a full buffer."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._stream = stream
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self.first_line = threading.Event()

    def run(self) -> None:
        for raw in iter(self._stream.readline, b""):
            with self._lock:
                self._lines.append(raw.decode("utf-8", "replace"))
            self.first_line.set()
        self.first_line.set()

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    @property
    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)


class ProviderServer:
    """A ``python -m pulumi.dynamic`` process and a gRPC client that speaks the engine's side.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`). One instance models one
    provider process: like the real one, it caches each deserialized provider object, so
    ``ResourceProvider.configure`` runs once per distinct pickled provider per process. The CLI
    starts a fresh process for every ``up``/``preview``/``refresh``; call :meth:`restart` to model
    that when a test changes the stack configuration.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: str | os.PathLike[str] | None = None,
        python_path: Sequence[str | os.PathLike[str]] = (),
        project: str = "test",
        engine_address: str = "127.0.0.1:0",
        python: str | None = None,
        startup_timeout: float = 30.0,
        call_timeout: float | None = 60.0,
    ) -> None:
        """Prepare (but do not start) the server.

        ``env`` is added to the child's environment (to the caller's, unless ``inherit_env`` is
        false); ``python_path`` entries are prepended to ``PYTHONPATH``; ``project`` becomes
        ``PULUMI_PROJECT`` (the engine sets it; the server uses it as the default config
        namespace of ``ConfigureRequest.config``). ``engine_address`` is passed as the first
        argument like the engine does (the Python server ignores it).
        """
        self._env = dict(env or {})
        self._inherit_env = inherit_env
        self._cwd = cwd
        self._python_path = [os.fspath(p) for p in python_path]
        self._project = project
        self._engine_address = engine_address
        self._python = python or sys.executable
        self._startup_timeout = startup_timeout
        self._call_timeout = call_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: _StreamReader | None = None
        self._stderr: _StreamReader | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._port: int | None = None
        self._protocol = _DEFAULT_PROTOCOL
        self._configured = False
        self._past_stderr = ""

    # ------------------------------------------------------------------ process lifecycle

    def start(self) -> Self:
        """Start the process, read its port and connect; idempotent."""
        if self._proc is not None:
            return self
        env = dict(os.environ) if self._inherit_env else {}
        env.update(self._env)
        env["PULUMI_PROJECT"] = self._project
        if self._python_path:
            existing = env.get("PYTHONPATH", "")
            env["PYTHONPATH"] = os.pathsep.join([*self._python_path, *filter(None, [existing])])
        # The CLI's shim (pulumi-resource-pulumi-python) runs ``python -u -m pulumi.dynamic``:
        # unbuffered, or the port line would sit in a pipe buffer.
        self._proc = subprocess.Popen(
            [self._python, "-u", "-m", "pulumi.dynamic", self._engine_address],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._cwd,
            env=env,
        )
        assert self._proc.stdout is not None
        assert self._proc.stderr is not None
        self._stdout = _StreamReader(self._proc.stdout, "pulumi-dynamic-stdout")
        self._stderr = _StreamReader(self._proc.stderr, "pulumi-dynamic-stderr")
        self._stdout.start()
        self._stderr.start()
        try:
            self._port = self._wait_for_port()
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{self._port}",
                options=[
                    ("grpc.max_receive_message_length", _MAX_MESSAGE),
                    ("grpc.max_send_message_length", _MAX_MESSAGE),
                ],
            )
            grpc.channel_ready_future(self._channel).result(timeout=self._startup_timeout)
            self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
            self._handshake()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_port(self) -> int:
        assert self._proc is not None
        assert self._stdout is not None
        deadline = time.monotonic() + self._startup_timeout
        while not self._stdout.first_line.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                break
        first = self._stdout.lines[:1]
        if not first or not first[0].strip().isdigit():
            self._proc.poll()
            raise EngineError(
                "the dynamic provider did not print its port "
                f"(exit code {self._proc.returncode}); stderr:\n{self.stderr}"
            )
        return int(first[0].strip())

    def _handshake(self) -> None:
        """Call ``Handshake`` and ``GetPluginInfo`` like the engine; Python lacks Handshake."""
        request = provider_pb2.ProviderHandshakeRequest(
            engine_address=self._engine_address,
            configure_with_urn=True,
            supports_views=True,
            supports_refresh_before_update=True,
        )
        try:
            response = self._rpc("Handshake", request)
        except ProviderError as err:
            if err.code is not grpc.StatusCode.UNIMPLEMENTED:
                raise
        else:
            self._protocol = ConfigureResult(
                accept_secrets=response.acceptSecrets,
                supports_preview=True,
                accept_resources=response.acceptResources,
                accept_outputs=response.acceptOutputs,
            )
        self._rpc("GetPluginInfo", empty_pb2.Empty())

    def stop(self) -> None:
        """Close the channel and stop the process (terminate, then kill)."""
        if self._channel is not None:
            self._channel.close()
        self._channel = None
        self._stub = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            for reader in (self._stdout, self._stderr):
                if reader is not None:
                    reader.join(timeout=2)
            if self._stderr is not None:
                self._past_stderr += self._stderr.text
        self._stdout = None
        self._stderr = None
        self._port = None
        self._protocol = _DEFAULT_PROTOCOL
        self._configured = False

    def restart(self) -> Self:
        """Stop and start again: a fresh process with empty provider caches."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def port(self) -> int:
        """The port the server printed."""
        if self._port is None:
            raise EngineError("the provider server is not running")
        return self._port

    @property
    def stderr(self) -> str:
        """Everything the process wrote to stderr so far (including earlier processes)."""
        current = self._stderr.text if self._stderr is not None else ""
        return self._past_stderr + current

    @property
    def stdout(self) -> str:
        """What the process wrote to stdout (the port line first)."""
        return self._stdout.text if self._stdout is not None else ""

    @property
    def protocol(self) -> ConfigureResult:
        """The protocol negotiated so far (defaults until :meth:`configure`)."""
        return self._protocol

    @property
    def configured(self) -> bool:
        """Whether :meth:`configure` has been called on this process."""
        return self._configured

    # ------------------------------------------------------------------ RPC plumbing

    def _rpc(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise EngineError("the provider server is not running; call start()")
        call = getattr(self._stub, method)
        try:
            return call(request, timeout=self._call_timeout)
        except grpc.RpcError as err:
            code = err.code() if isinstance(err, grpc.Call) else grpc.StatusCode.UNKNOWN
            details = err.details() if isinstance(err, grpc.Call) else str(err)
            if not self.running:
                details = f"{details or ''}\nprovider process exited; stderr:\n{self.stderr}"
            raise ProviderError(method, code, details or "") from None

    def _marshal(self, props: Mapping[str, Any], *, keep_unknowns: bool) -> struct_pb2.Struct:
        return to_struct(
            props,
            keep_secrets=self._protocol.accept_secrets,
            keep_unknowns=keep_unknowns,
            keep_resources=self._protocol.accept_resources,
        )

    def _annotate(self, outs: dict[str, Any] | None, ins: Mapping[str, Any] | None) -> None:
        if not self._protocol.accept_secrets:
            annotate_secrets(outs, ins)

    # ------------------------------------------------------------------ engine calls

    def configure(
        self,
        variables: Mapping[str, str],
        *,
        secret_keys: Collection[str] = (),
        urn: str | None = None,
    ) -> ConfigureResult:
        """Send ``Configure`` with the stack configuration, as for the default dynamic provider.

        ``variables`` is the stack config (keys like ``"yandex:token"``, values decrypted).
        The engine gives dynamic providers the whole config with namespaces kept, marks secret
        keys as secrets in ``args``, and also fills the legacy ``variables`` map with keys spelled
        ``"pulumi-python:config:<key>"``. The Python server reads only ``args``.
        """
        args = {
            key: Secret(value) if key in secret_keys else value for key, value in variables.items()
        }
        request = provider_pb2.ConfigureRequest(
            variables={
                f"{DYNAMIC_PACKAGE}:config:{key}": value for key, value in variables.items()
            },
            args=to_struct(args),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
        )
        if urn is not None:
            request.urn = urn
        response = self._rpc("Configure", request)
        self._protocol = ConfigureResult(
            accept_secrets=response.acceptSecrets,
            supports_preview=response.supportsPreview,
            accept_resources=response.acceptResources,
            accept_outputs=response.acceptOutputs,
        )
        self._configured = True
        return self._protocol

    def check(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        allow_unknowns: bool = False,
        random_seed: bytes = b"",
    ) -> CheckResult:
        """``Check``: validate ``news`` (program inputs) against ``olds`` (old checked inputs)."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.CheckRequest(
            urn=urn,
            name=name,
            type=type_,
            olds=self._marshal(olds, keep_unknowns=allow_unknowns),
            news=self._marshal(news, keep_unknowns=allow_unknowns),
            randomSeed=random_seed,
        )
        response = self._rpc("Check", request)
        inputs = from_struct(response.inputs) if response.HasField("inputs") else {}
        self._annotate(inputs, news)
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        return CheckResult(inputs, failures)

    def diff(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        allow_unknowns: bool = False,
        ignore_changes: Sequence[str] = (),
    ) -> DiffResult:
        """``Diff``: ``olds`` are the old *outputs*, ``news`` the new checked inputs."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.DiffRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            olds=self._marshal(olds, keep_unknowns=allow_unknowns),
            news=self._marshal(news, keep_unknowns=allow_unknowns),
            old_inputs=self._marshal(old_inputs or {}, keep_unknowns=allow_unknowns),
            ignoreChanges=list(ignore_changes),
        )
        response = self._rpc("Diff", request)
        detailed = {
            key: provider_pb2.PropertyDiff.Kind.Name(value.kind)
            for key, value in response.detailedDiff.items()
        }
        return DiffResult(
            changes=DiffChanges(response.changes),
            replaces=list(response.replaces),
            stables=list(response.stables),
            delete_before_replace=response.deleteBeforeReplace,
            diffs=list(response.diffs),
            detailed_diff=detailed if response.hasDetailedDiff else {},
        )

    def create(
        self,
        urn: str,
        props: Mapping[str, Any],
        preview: bool = False,
        *,
        timeout: float = 0.0,
    ) -> CreateResult:
        """``Create``; in a preview a provider without preview support is not called.

        As in the engine, the preview result is then ``("", props)``: the planned outputs are the
        checked inputs. Outside a preview an empty id is an error.
        """
        if preview and not self._protocol.supports_preview:
            return CreateResult("", dict(props))
        name, type_ = _split_urn(urn)
        request = provider_pb2.CreateRequest(
            urn=urn,
            name=name,
            type=type_,
            properties=self._marshal(props, keep_unknowns=preview),
            timeout=timeout,
            preview=preview,
        )
        response = self._rpc("Create", request)
        if not response.id and not preview:
            raise EngineError(
                f"plugin for package '{DYNAMIC_PACKAGE}' returned empty resource.ID from "
                f"create '{urn}'"
            )
        outputs = from_struct(response.properties)
        self._annotate(outputs, props)
        return CreateResult(response.id, outputs)

    def read(
        self,
        id: str,
        urn: str,
        props: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None = None,
    ) -> ReadResult:
        """``Read``: ``props`` is the old state (outputs), ``inputs`` the old inputs.

        For a refresh the engine sends the old outputs and inputs; for ``Resource.get`` /
        ``opts.id`` it sends the given inputs as both. An empty id in the result means the
        resource no longer exists.
        """
        name, type_ = _split_urn(urn)
        request = provider_pb2.ReadRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            properties=self._marshal(props or {}, keep_unknowns=False),
        )
        if inputs is not None:
            request.inputs.CopyFrom(self._marshal(inputs, keep_unknowns=False))
        response = self._rpc("Read", request)
        outputs = from_struct(response.properties)
        new_inputs = from_struct(response.inputs) if response.HasField("inputs") else None
        self._annotate(new_inputs, inputs)
        self._annotate(outputs, props)
        return ReadResult(response.id, outputs, new_inputs)

    def update(
        self,
        id: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        preview: bool = False,
        ignore_changes: Sequence[str] = (),
        timeout: float = 0.0,
    ) -> dict[str, Any]:
        """``Update``: returns the new outputs (``news`` itself in a preview, as the engine)."""
        if preview and not self._protocol.supports_preview:
            return dict(news)
        name, type_ = _split_urn(urn)
        request = provider_pb2.UpdateRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            olds=self._marshal(olds, keep_unknowns=False),
            news=self._marshal(news, keep_unknowns=preview),
            old_inputs=self._marshal(old_inputs or {}, keep_unknowns=False),
            ignoreChanges=list(ignore_changes),
            preview=preview,
            timeout=timeout,
        )
        response = self._rpc("Update", request)
        outputs = from_struct(response.properties)
        self._annotate(outputs, news)
        return outputs

    def delete(
        self,
        id: str,
        urn: str,
        props: Mapping[str, Any],
        *,
        old_inputs: Mapping[str, Any] | None = None,
        timeout: float = 0.0,
    ) -> None:
        """``Delete``: ``props`` are the resource's outputs."""
        name, type_ = _split_urn(urn)
        request = provider_pb2.DeleteRequest(
            id=id,
            urn=urn,
            name=name,
            type=type_,
            properties=self._marshal(props, keep_unknowns=False),
            old_inputs=self._marshal(old_inputs or {}, keep_unknowns=False),
            timeout=timeout,
        )
        self._rpc("Delete", request)


def _split_urn(urn: str) -> tuple[str, str]:
    """Return (name, type) of ``urn:pulumi:stack::project::qualified$type::name``."""
    parts = urn.split("::")
    if len(parts) < 4:
        return urn, ""
    qualified = parts[2]
    return "::".join(parts[3:]), qualified.split("$")[-1]
