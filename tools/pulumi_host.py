"""Run one ``pulumi`` command on the Python project in the current directory, serving the
program the way the Python language host does.

    <venv>/bin/python tools/pulumi_host.py .tools/pulumi/bin/pulumi up --yes

The Python language host (``pulumi-language-python``) cannot be built here: its Go module has no
tags and the module proxy serves no version of it. What a deployment needs of it is ``Run``,
which starts Pulumi's own ``pulumi-language-python-exec`` script (from the ``sdk/v3`` module,
installed beside ``pulumi`` by ``make pulumi-cli``) in a new Python process with the run's
arguments and config, and reports its exit; this script serves that ``Run`` over gRPC and gives
the CLI its address with ``--client=ADDRESS`` (the flag the Automation API uses for inline
programs). The engine, the program process, the dynamic-provider processes, state and output are
all Pulumi's.

Runs with the project's own interpreter and needs only the ``pulumi`` SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# The commands that run the program (refresh and destroy only with --run-program).
PROGRAM_COMMANDS = frozenset({"preview", "up", "update", "refresh", "destroy"})
SHOWN_TO_THE_USER = 32
"""pulumi-language-python-exec's exit code after a ``pulumi.RunError`` it printed itself."""


class _LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """``Run``: the program in a new process of ``exec_script``, as the language host does."""

    def __init__(self, exec_script: Path) -> None:
        self._exec_script = exec_script

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:
        """None: dynamic providers need no plugin download."""
        return language_pb2.GetRequiredPluginsResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        """No version of its own."""
        return plugin_pb2.PluginInfo()

    def Run(self, request: Any, context: Any) -> Any:
        """Run the program; its failure is the run's (a shown ``RunError`` bails quietly)."""
        arguments = {
            "monitor": request.monitor_address,
            "engine": request.args[0] if request.args else "",
            "project": request.project,
            "stack": request.stack,
            "pwd": request.pwd,
            "dry_run": "true" if request.dryRun else "false",
            "parallel": str(request.parallel),
            "organization": request.organization,
            "root_directory": os.getcwd(),
        }
        command = [sys.executable, "-u", str(self._exec_script)]
        for name, value in arguments.items():
            if value:
                command += [f"--{name}", value]
        command.append(request.program or ".")
        env = {
            **os.environ,
            "PULUMI_CONFIG": json.dumps(dict(request.config)),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
        }
        code = subprocess.call(command, env=env)
        if code == 0:
            return language_pb2.RunResponse()
        if code == SHOWN_TO_THE_USER:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")


def main(argv: list[str]) -> int:
    """Serve ``Run``, run ``argv`` (a pulumi command line), return its exit code."""
    command_name = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    if not argv or command_name not in PROGRAM_COMMANDS:
        print(f"usage: pulumi_host.py PULUMI [FLAGS] {{{','.join(sorted(PROGRAM_COMMANDS))}}} ...")
        return 2
    exec_script = Path(argv[0]).resolve().with_name("pulumi-language-python-exec")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(_LanguageHost(exec_script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        command = [*argv, f"--client=127.0.0.1:{port}"]
        with subprocess.Popen(command) as cli:
            try:
                return cli.wait()
            except KeyboardInterrupt:
                # The CLI got the same SIGINT from the terminal: let it cancel cleanly.
                return cli.wait()
    finally:
        server.stop(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
