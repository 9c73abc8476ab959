"""The real Pulumi CLI, run offline on a Python or YAML project: for the tests, the demo and the
benchmarks.

    workspace = Workspace(tmp_dir, env={"YC_IAM_TOKEN": ...})
    project = Project(workspace, project_dir)
    project.init_stack("dev", config={"connectionId": "..."})
    plan = project.preview_json()
    project.pulumi("up", "--yes")

A :class:`Workspace` is what ``pulumi login --local`` and a throwaway shell give a user: a file
backend, a ``PULUMI_HOME`` and a passphrase of its own, no plugin downloads, no update checks,
nothing from the caller's ``YC_*``/``PULUMI_*`` environment. Commands that run a Python program
(preview, up, refresh, destroy) go through ``tools/pulumi_host.py``, which serves the program in
place of the Python language host that cannot be built here; the engine starts the dynamic
provider with the project's interpreter (``PULUMI_PYTHON_CMD``, since the engine passes the
``virtualenv`` option to providers only when it runs the language host itself). YAML programs run
under Pulumi YAML's own language host, which ``make pulumi-cli`` builds beside the CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI_DIR = ROOT / ".tools" / "pulumi" / "bin"
"""Where ``make pulumi-cli`` puts the CLI."""
HOST = Path(__file__).resolve().with_name("pulumi_host.py")
PASSPHRASE = "offline-only-passphrase"  # noqa: S105 - encrypts throwaway local stacks
PROGRAM_COMMANDS = frozenset({"preview", "up", "update", "refresh", "destroy"})
_CALLER_ENV_PREFIXES = ("YC_", "PULUMI_")
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})
# "  pulumi-python:dynamic/yc-websocket:WebSocketConnection (conn):" in the Diagnostics section.
_DIAGNOSTICS_HEAD = re.compile(r"  \S+ \((.+)\):")
# "    gatewayId: \"d5d...\"", "  + sourceIp : [secret]", "  ~ last: \"a\" => \"b\"" under Outputs:.
_OUTPUT_LINE = re.compile(r"  [ +~-] (\S+)\s*: (.*)")


def find_cli() -> Path | None:
    """The CLI ``make pulumi-cli`` built, else ``pulumi`` on PATH, else ``None``."""
    built = CLI_DIR / "pulumi"
    if built.is_file() and os.access(built, os.X_OK):
        return built
    found = shutil.which("pulumi")
    return Path(found) if found else None


class PulumiCommandError(AssertionError):
    """A pulumi command exited non-zero where success was expected; holds its output."""


@dataclass(frozen=True)
class Result:
    """One finished pulumi command."""

    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout, then stderr: everything the user saw."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout parsed as JSON (for ``--json`` commands)."""
        return json.loads(self.stdout)

    def printed_outputs(self) -> dict[str, Any]:
        """The stack outputs in the ``Outputs:`` section the CLI printed (a preview's too, which
        ``--json`` leaves out for resources being created): JSON values parsed, ``[secret]`` and
        ``output<string>`` as printed, the new value of a change; an object or a list (printed
        over several lines) as ``{`` or ``[``."""
        found: dict[str, Any] = {}
        in_section = False
        for line in self.stdout.splitlines():
            if line.rstrip() == "Outputs:":
                in_section = True
            elif in_section and (match := _OUTPUT_LINE.fullmatch(line.rstrip())):
                value = match[2].rsplit(" => ", 1)[-1]
                try:
                    found[match[1]] = json.loads(value)
                except json.JSONDecodeError:
                    found[match[1]] = value
            elif in_section and not (line.startswith("     ") or line.strip() in ("}", "]")):
                break  # the section ends; deeper lines and closing brackets belong to a value
        return found

    def diagnostics(self) -> dict[str, list[str]]:
        """The ``Diagnostics:`` section of the output: each resource's name, and its lines."""
        found: dict[str, list[str]] = {}
        lines: list[str] | None = None
        in_section = False
        for line in self.output.splitlines():
            if line.rstrip() == "Diagnostics:":
                in_section = True
            elif in_section and (head := _DIAGNOSTICS_HEAD.fullmatch(line)):
                lines = found.setdefault(head[1], [])
            elif in_section and line.startswith("    ") and lines is not None:
                lines.append(line.strip())
            elif in_section and line and not line.startswith(" "):
                break
        return found


@dataclass(frozen=True)
class Step:
    """One resource step of a deployment: the operation it began with, the one it ended with
    (a refresh begins as ``refresh`` and ends as ``same``, ``update`` or ``delete``)."""

    urn: str
    type: str
    op: str
    outcome: str

    @property
    def name(self) -> str:
        """The resource's name, the URN's last part."""
        return self.urn.rsplit("::", 1)[-1]


class Workspace:
    """An offline Pulumi environment under ``root``: file backend, ``PULUMI_HOME``, passphrase."""

    def __init__(
        self, root: Path, *, cli: Path | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        found = cli or find_cli()
        if found is None:
            raise FileNotFoundError("no pulumi CLI: run `make pulumi-cli`")
        self.cli = found
        self.root = root
        self.backend = root / "backend"
        self.home = root / "pulumi-home"
        for directory in (self.backend, self.home):
            directory.mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        """Extra variables for every command (endpoints, credentials); editable."""

    def environment(
        self, python: Path | None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The variables a command runs with: the caller's, minus YC_*/PULUMI_*/proxies."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_CALLER_ENV_PREFIXES) and key.lower() not in _PROXY_VARIABLES
        }
        return {
            **inherited,
            "PATH": os.pathsep.join([str(self.cli.parent), inherited.get("PATH", os.defpath)]),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            **({"PULUMI_PYTHON_CMD": str(python)} if python is not None else {}),
            **self.env,
            **(extra or {}),
        }


class Project:
    """A Python or YAML Pulumi project directory, driven by the real CLI in a :class:`Workspace`."""

    def __init__(
        self, workspace: Workspace, directory: Path, *, python: Path | None = None
    ) -> None:
        self.workspace = workspace
        self.directory = directory
        settings = project_settings(directory)
        self.name = settings["name"]
        self.runtime = runtime_name(settings)
        self.python = python or (virtualenv_python(directory) if self.runtime == "python" else None)
        """The project's interpreter (``None`` for a YAML project)."""

    def pulumi(
        self,
        *args: str,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        capture: bool = True,
        timeout: float = 600,
    ) -> Result:
        """Run ``pulumi ARGS`` in the project directory; ``check``: raise on a non-zero exit."""
        cli = str(self.workspace.cli)
        # Global flags first: after a `--` in ARGS they would be read as values.
        color = "never" if capture else "auto"
        command = [cli, "--non-interactive", f"--color={color}", *args]
        if args and args[0] in PROGRAM_COMMANDS and self.python is not None:
            command = [str(self.python), str(HOST), *command]
        completed = subprocess.run(
            command,
            cwd=self.directory,
            env=self.workspace.environment(self.python, env),
            capture_output=capture,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(
            ("pulumi", *args), completed.returncode, completed.stdout or "", completed.stderr or ""
        )
        if check and result.returncode != 0:
            raise PulumiCommandError(
                f"`{' '.join(result.command)}` exited with {result.returncode}:\n{result.output}"
            )
        return result

    def init_stack(
        self,
        stack: str = "dev",
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        """``pulumi stack init`` and ``pulumi config set`` (values that are not strings as JSON;
        keys without a namespace belong to the project)."""
        self.pulumi("stack", "init", stack)
        for key, value in (config or {}).items():
            self.set_config(key, value)
        for key, value in (secrets or {}).items():
            self.set_config(key, value, secret=True)

    def set_config(self, key: str, value: Any, *, secret: bool = False) -> None:
        """``pulumi config set [--secret] KEY VALUE``."""
        text = value if isinstance(value, str) else json.dumps(value)
        flags = ["--secret"] if secret else ["--plaintext"]
        # `--` ends the flags: a value may start with a dash.
        self.pulumi("config", "set", *flags, key, "--", text)

    def steps(self, *args: str) -> list[Step]:
        """Run a program command (``up --yes``...) and return the engine's steps, from its event
        log (a flag the CLI offers with ``PULUMI_DEBUG_COMMANDS``, as the Automation API uses)."""
        log = self.workspace.root / "events.jsonl"
        log.unlink(missing_ok=True)
        self.pulumi(*args, "--event-log", str(log), env={"PULUMI_DEBUG_COMMANDS": "true"})
        finished: dict[str, str] = {}
        started: list[tuple[str, str, str]] = []
        for line in log.read_text("utf-8").splitlines():
            event = json.loads(line)
            if "resourcePreEvent" in event:
                meta = event["resourcePreEvent"]["metadata"]
                started.append((meta["urn"], meta["type"], meta["op"]))
            elif "resOutputsEvent" in event:
                meta = event["resOutputsEvent"]["metadata"]
                finished[meta["urn"]] = meta["op"]
        return [Step(urn, type_, op, finished.get(urn, "")) for urn, type_, op in started]

    def preview_json(self, *args: str) -> dict[str, Any]:
        """``pulumi preview --json``: the plan, with each step's planned state."""
        plan: dict[str, Any] = self.pulumi("preview", "--json", *args).json()
        return plan

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """``pulumi stack output --json``."""
        flags = ["--show-secrets"] if show_secrets else []
        outputs: dict[str, Any] = self.pulumi("stack", "output", "--json", *flags).json()
        return outputs

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``: the deployment as stored (secrets encrypted)."""
        state: dict[str, Any] = self.pulumi("stack", "export").json()
        return state

    def resources(self) -> list[dict[str, Any]]:
        """The resources in the stack's state."""
        resources: list[dict[str, Any]] = self.export()["deployment"].get("resources") or []
        return resources


def project_settings(directory: Path) -> dict[str, Any]:
    """The project's ``Pulumi.yaml``."""
    settings: dict[str, Any] = yaml.safe_load((directory / "Pulumi.yaml").read_text("utf-8"))
    return settings


def runtime_name(settings: Mapping[str, Any]) -> str:
    """The ``runtime`` of a ``Pulumi.yaml`` (``python``, ``yaml``...)."""
    runtime = settings.get("runtime")
    return str(runtime.get("name") if isinstance(runtime, dict) else runtime)


def virtualenv_python(directory: Path) -> Path:
    """The interpreter of the virtualenv ``Pulumi.yaml`` names (``runtime.options.virtualenv``)."""
    runtime = project_settings(directory).get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    name = options.get("virtualenv")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{directory / 'Pulumi.yaml'} names no virtualenv")
    python = (directory / name / "bin" / "python").absolute()
    if not python.exists():
        raise FileNotFoundError(
            f"{python} does not exist: create the project's virtualenv and install its "
            "requirements.txt into it"
        )
    return python
