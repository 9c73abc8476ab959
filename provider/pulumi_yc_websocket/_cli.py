"""``pulumi-yc-websocket get ID [ID ...]``: lookups from a shell, for scripts and checks.

One id prints the connection as a table (or JSON); several are looked up concurrently through
one client and printed as JSON Lines, one object per id in the order given. The exit code is
the error class's (:data:`EXIT_CODES` says what each means); for several ids, the worst outcome
by :data:`~._errors.EXIT_SEVERITY`. Errors that stop every lookup go to stderr as one line.
Ctrl-C exits 130 at once and quietly, without waiting for the lookups in flight.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future
from types import FrameType
from typing import Any, TextIO, TypeAlias

from ._client import ConnectionsClient
from ._errors import (  # the EXIT_* statuses are the CLI's too
    EXIT_CODES,
    EXIT_CREDENTIALS,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PERMISSION,
    EXIT_SEVERITY,
    EXIT_USAGE,
    ConfigurationError,
    YandexWebSocketError,
    worst_exit_code,
)
from ._model import Connection
from ._settings import ENVIRONMENT_VARIABLES, SETTING_MEANINGS, Setting, Settings
from ._version import __version__

__all__ = [
    "EXIT_CODES",
    "EXIT_CREDENTIALS",
    "EXIT_ERROR",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_PERMISSION",
    "EXIT_SEVERITY",
    "EXIT_USAGE",
    "main",
    "render_table",
]

PROG = "pulumi-yc-websocket"
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 86400.0
"""Longest ``--timeout``: a day (larger values overflow the waits of the standard library)."""
DEFAULT_PARALLEL = 8
MAX_PARALLEL = 16
"""Most lookups at once: the client's connection pool."""
WINDOW_PER_LOOKUP = 4
"""Ids looked up ahead of the line being printed (that one included), per ``--parallel``: enough
to keep every lookup busy while an earlier id is slow, few enough to hold little."""
OUTPUTS = ("table", "json", "jsonl")
SINGLE_OUTPUTS = ("table", "json")
"""Formats that show one connection."""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a reader that went away (``... | head -1``)."""

_LONG_VALUED = ("--endpoint", "--output", "--timeout", "--parallel")
_LONG_FLAGS = ("--help",)


_Record: TypeAlias = tuple[dict[str, Any], int]
"""An id's JSON Lines object and its exit code."""


class _UsageError(Exception):
    """A command line ``get`` cannot read; the message is argparse's kind of one line."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails every comparison
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {text!r}"
        )
    return value


def _parallel(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_PARALLEL}, not {text!r}"
        )
    return value


def _endpoint(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "is empty; give the Connection service's base URL (e.g. http://127.0.0.1:8080 for "
            "a local emulator) or leave the option out"
        )
    return text


def _environment_help() -> str:
    width = max(len(variable) for variable in ENVIRONMENT_VARIABLES.values())
    return "\n".join(
        f"  {variable.ljust(width)}  {SETTING_MEANINGS[name]}"
        for name, variable in ENVIRONMENT_VARIABLES.items()
    )


def _exit_codes_help() -> str:
    return "\n".join(f"  {code}  {EXIT_CODES[code]}" for code in sorted(EXIT_CODES))


def _severity() -> str:
    return ", ".join(str(code) for code in EXIT_SEVERITY)


GET_EPILOG = f"""\
An id may start with "-" (base64url ids do). One that looks like an option (-h...,
-o..., --..., a dash and one character) goes after "--":
  {PROG} get -- -oKq3vQ47JSz6mjzNl3h9qB

Several ids are looked up at once through one client. Each gets one line of JSON, in
the order given: the connection, or {{"id": ..., "error": {{"type": ..., "message": ...,
"exitCode": ..., "retryable": ...}}}} for one that failed. Settings that stop every
lookup are reported on stderr instead.

Environment (this command reads only the environment; Pulumi programs also read stack
config, the yandex:* and yc-websocket:* keys, with the same meanings):
{_environment_help()}
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY as usual (not for loopback, link-local)

Exit codes (for several ids the worst outcome; worst first: {_severity()}):
{_exit_codes_help()}
"""


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Look up Yandex Cloud API Gateway WebSocket connections.",
        epilog="Exit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in sorted(EXIT_CODES.items()))
        + f". For several ids the worst outcome; worst first: {_severity()}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser(
        "get",
        help="look up one or more connections",
        description="Look up connections by id (credentials and endpoints: see below).",
        epilog=GET_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    get.add_argument("ids", metavar="ID", nargs="+", help="a connection id")
    get.add_argument(
        "--endpoint",
        metavar="URL",
        type=_endpoint,
        help="Connection service base URL (default: YC_APIGATEWAY_CONNECTIONS_ENDPOINT, "
        "or derived from YC_ENDPOINT)",
    )
    get.add_argument(
        "--output",
        "-o",
        choices=OUTPUTS,
        help="table (the default for one id) or json show one connection; jsonl prints one "
        "JSON object per line and id, errors included (the default for several ids)",
    )
    get.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"deadline of each lookup, retries and token exchange included "
        f"(default {DEFAULT_TIMEOUT:g})",
    )
    get.add_argument(
        "--parallel",
        type=_parallel,
        default=DEFAULT_PARALLEL,
        metavar="N",
        help=f"lookups at once, 1 to {MAX_PARALLEL} (default {DEFAULT_PARALLEL})",
    )
    return parser, get


def _after_separator(token: str) -> str:
    return f"if {token!r} is a connection id, put it after --: {PROG} get -- {token}"


def _split_get_arguments(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """The options and the ids of ``get``'s arguments.

    argparse reads anything that starts with "-" as an option, which base64url ids may do.
    Here a token is an option only if it is one of ``get``'s (or a unique prefix of a long
    one); an option's value is taken whatever it starts with; a token that may be a mistyped
    option (``--x``, ``-x``, ``-hX``, ``-oX`` with no such format) is refused with the way out
    (``--``); any other token is an id, ``-Xk3vQ47`` included.
    """
    options: list[str] = []
    ids: list[str] = []
    rest = list(tokens)
    while rest:
        argument = rest.pop(0)
        if argument == "--":
            ids.extend(rest)
            break
        option, value = _option_of(argument)
        if option is None:
            ids.append(argument)
            continue
        if option in (*_LONG_FLAGS, "-h"):
            options.append(option)
            continue
        if value is None:
            if not rest:
                options.append(option)  # argparse says "expected one argument"
                continue
            value = rest.pop(0)
        options.append(f"{option}={value}")
    return options, ids


def _option_of(token: str) -> tuple[str | None, str | None]:
    """The option ``token`` is (and its attached value), or ``(None, None)`` for an id."""
    if token.startswith("--"):
        name, equals, value = token.partition("=")
        candidates = (*_LONG_VALUED, *_LONG_FLAGS)
        matches = [name] if name in candidates else [c for c in candidates if c.startswith(name)]
        if len(matches) != 1:
            what = "ambiguous" if matches else "unrecognized"
            raise _UsageError(f"{what} option {name!r}; {_after_separator(token)}")
        return matches[0], value if equals else None
    if token in ("-h", "-o"):
        return token.replace("-o", "--output"), None
    if token.startswith("-h") or (len(token) == 2 and token.startswith("-")):
        # -hX would print the help; -X is how an option looks: neither is taken as an id.
        raise _UsageError(f"unrecognized option {token!r}; {_after_separator(token)}")
    if token.startswith("-o"):
        value = token[2:].removeprefix("=")
        if value not in OUTPUTS:
            raise _UsageError(
                f"argument --output/-o: invalid choice: {value!r} (choose from "
                f"{', '.join(OUTPUTS)}); {_after_separator(token)}"
            )
        return "--output", value
    return None, None


def _parse(argv: list[str]) -> argparse.Namespace:
    parser, get = _parsers()
    if not argv or argv[0] != "get":
        return parser.parse_args(argv)  # --help, --version, or an error: all exit
    try:
        options, ids = _split_get_arguments(argv[1:])
    except _UsageError as error:
        get.error(str(error))
    args = get.parse_args([*options, "--", *ids])
    if args.output is None:
        args.output = "table" if len(args.ids) == 1 else "jsonl"
    if len(args.ids) > 1 and args.output in SINGLE_OUTPUTS:
        get.error(
            f"--output {args.output} shows one connection; for {len(args.ids)} ids use "
            "--output jsonl (the default for several)"
        )
    return args


def render_table(connection: Connection) -> str:
    """A readable two-column view of a connection."""
    rows = [
        ("id", connection.id),
        ("gateway id", connection.gateway_id),
        ("source ip", connection.identity.source_ip),
        ("user agent", connection.identity.user_agent),
        ("connected at", connection.connected_at.rfc3339() if connection.connected_at else ""),
        (
            "last active at",
            connection.last_active_at.rfc3339() if connection.last_active_at else "",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {_printable(value) or '-'}" for name, value in rows)


def _printable(value: str) -> str:
    # A WebSocket client chooses its user agent: never let it send escape codes to a terminal.
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in value)


class _Batch:
    """The lookups of several ids through one client.

    A configuration error met while looking one up (no credential anywhere, a metadata address
    that cannot be used...) holds for every id: the ids not yet started report it without
    trying again (off a VM, each try would wait for the metadata service).
    """

    def __init__(self, client: ConnectionsClient) -> None:
        self._client = client
        self._fatal: ConfigurationError | None = None

    def record(self, connection_id: str) -> _Record:
        """One JSON Lines object for ``connection_id`` and its exit code."""
        error: YandexWebSocketError | None = self._fatal
        if error is None:
            try:
                connection = self._client.get(connection_id)
            except YandexWebSocketError as failure:
                error = failure
                if isinstance(failure, ConfigurationError):
                    self._fatal = failure
            else:
                return connection.model_dump(mode="json", by_alias=True), EXIT_OK
        failure_record = {
            "type": type(error).__name__,
            "message": str(error),
            "exitCode": error.exit_code,
            "retryable": error.retryable,
        }
        return {"id": connection_id, "error": failure_record}, error.exit_code


class _Workers:
    """Lookups on daemon threads: a command that ends early (Ctrl-C, a reader gone) exits
    without waiting for those in flight, as it would for a ThreadPoolExecutor's."""

    def __init__(self, work: Callable[[str], _Record], count: int) -> None:
        self._work = work
        self._count = count
        self._jobs: queue.SimpleQueue[tuple[str, Future[_Record]] | None] = queue.SimpleQueue()
        for number in range(count):
            threading.Thread(target=self._serve, name=f"get-{number}", daemon=True).start()

    def submit(self, connection_id: str) -> Future[_Record]:
        future: Future[_Record] = Future()
        self._jobs.put((connection_id, future))
        return future

    def stop(self) -> None:
        """End each thread once it is idle (after the jobs queued, cancelled ones skipped)."""
        for _ in range(self._count):
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            connection_id, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._work(connection_id))
            except Exception as error:  # a bug: raised where the result is printed
                future.set_exception(error)


def _look_up_lines(
    client: ConnectionsClient, ids: Sequence[str], parallel: int, out: TextIO
) -> int:
    """Look ``ids`` up, ``parallel`` at a time; print a line per id as soon as its turn comes."""
    workers = _Workers(_Batch(client).record, min(parallel, len(set(ids))))
    worst = EXIT_OK
    records = _in_order(workers, ids, WINDOW_PER_LOOKUP * parallel)
    try:
        for record, code in records:
            print(json.dumps(record), file=out, flush=True)
            worst = worst_exit_code((worst, code))
    finally:
        records.close()  # cancels the lookups not started, before the threads are told to end
        workers.stop()
    return worst


def _in_order(workers: _Workers, ids: Sequence[str], window: int) -> Generator[_Record, None, None]:
    """The record of each of ``ids`` in order, looked up at most ``window`` ids ahead.

    Only the records of the window are held, each until its last use in it: memory does not
    grow with the number of ids. An id given again within the window is looked up once.
    """
    upcoming = iter(ids)
    ahead: deque[str] = deque()
    held: dict[str, tuple[Future[_Record], int]] = {}  # the future, its uses in the window
    try:
        while True:
            for connection_id in itertools.islice(upcoming, window - len(ahead)):
                if connection_id in held:
                    future, uses = held[connection_id]
                else:
                    future, uses = workers.submit(connection_id), 0
                held[connection_id] = (future, uses + 1)
                ahead.append(connection_id)
            if not ahead:
                return
            connection_id = ahead.popleft()
            future, uses = held.pop(connection_id)
            if uses > 1:
                held[connection_id] = (future, uses - 1)
            yield future.result()
    finally:
        for future, _ in held.values():
            future.cancel()  # lookups not started are dropped; those in flight end on their own


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    layer = {"connections_endpoint": Setting(args.endpoint, "--endpoint")} if args.endpoint else {}
    try:
        settings = Settings.resolve(layer)
        client = ConnectionsClient.from_settings(settings, timeout=args.timeout)
    except YandexWebSocketError as error:
        print(f"{PROG}: error: {error}", file=err)
        return error.exit_code
    with client:
        if args.output == "jsonl":
            return _look_up_lines(client, args.ids, args.parallel, out)
        try:
            connection = client.get(args.ids[0])
        except YandexWebSocketError as error:
            print(f"{PROG}: error: {error}", file=err)
            return error.exit_code
    if args.output == "json":
        text = json.dumps(connection.model_dump(mode="json", by_alias=True), indent=2)
    else:
        text = render_table(connection)
    print(text, file=out, flush=True)  # an interrupt exits without flushing (_interrupted)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI; return the exit code.

    Called without arguments, as the console script and ``python -m`` call it, it is the
    program: Ctrl-C ends the process at once (see :func:`_interrupted`) and stays so after.
    """
    if argv is None and stdout is None and stderr is None:
        _exit_on_interrupt()
    out, err = stdout or sys.stdout, stderr or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        # argparse prints usage, --help and --version to sys.stdout/stderr and exits.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = _parse(arguments)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        return _run(args, out, err)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`... | head -1`): stop quietly, as other Unix tools do.
        if out is sys.stdout:
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _exit_on_interrupt() -> None:
    # Not where SIGINT was ignored (`nohup`, a background job) or is handled by someone else;
    # only the main thread may set a handler.
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        signal.signal(signal.SIGINT, _interrupted)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: exit 130 at once, quietly.

    A KeyboardInterrupt would unwind, then the exit would wait for the lookups in flight (up
    to their deadline), and a second Ctrl-C meanwhile would print a traceback. Every line
    printed has been flushed already; a line being written to a reader that does not read
    (the pipe full) is left cut, as by any signal that kills a process.
    """
    os._exit(EXIT_INTERRUPTED)
