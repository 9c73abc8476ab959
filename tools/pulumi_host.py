"""Run one ``pulumi`` command on the Python project in the current directory, its program served by
the Python SDK's inline language server in place of the Python language host.

    <venv>/bin/python tools/pulumi_host.py pulumi up --yes

The Python language host (``pulumi-language-python``) cannot be built here: its Go module has no
tags and the module proxy serves no version of it. The CLI connects to a running language runtime
instead when given ``--client=ADDRESS`` (``--exec-kind auto.inline`` labels the run), which is
what the Automation API does for inline programs; this script serves the project's
``__main__.py`` that way and runs the command with those two flags added. Everything else, the
engine, the dynamic-provider process, state and output, is the real CLI's. One process per
command, as the language host starts one Python process per run.

Runs with the project's own interpreter and needs only the ``pulumi`` SDK.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from concurrent import futures

import grpc
import pulumi  # noqa: F401 - see _program
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

# The commands that run the program (refresh and destroy only with --run-program).
PROGRAM_COMMANDS = frozenset({"preview", "up", "update", "refresh", "destroy"})


def _program() -> None:
    # As pulumi-language-python-exec: the project directory first on sys.path, then __main__.py.
    # run_path puts this script back as __main__ when the program returns, before Pulumi has
    # resolved the program's output types; string annotations of classes defined in the program
    # (`x: pulumi.Output[str]` under `from __future__ import annotations`) then resolve in this
    # module's globals, which hold `pulumi` as the exec script's do.
    runpy.run_path(os.getcwd(), run_name="__main__")


def main(argv: list[str]) -> int:
    """Serve the program, run ``argv`` (a pulumi command line), return its exit code."""
    command_name = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    if command_name not in PROGRAM_COMMANDS:
        print(f"usage: pulumi_host.py PULUMI [FLAGS] {{{','.join(sorted(PROGRAM_COMMANDS))}}} ...")
        return 2
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(_program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        command = [*argv, f"--client=127.0.0.1:{port}", "--exec-kind", "auto.inline"]
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
