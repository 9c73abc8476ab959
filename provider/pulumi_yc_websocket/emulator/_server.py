"""HTTP layer of the emulator: routes, google.rpc.Status errors, faults, request log.

Serves on 127.0.0.1 only:

- ``GET  /apigateways/websocket/v1/connections/{connectionId}`` (Connection.Get)
- ``POST /iam/v1/tokens`` (IAM token exchange: OAuth token or service-account JWT)
- ``GET  /computeMetadata/v1/instance/service-accounts/default/token`` (VM metadata)
- ``/_emulator/...``: the admin interface (``_admin.py``)
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import json
import logging
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote_to_bytes

from . import _admin
from ._backend import EmulatedStatusError, EmulatorBackend, Headers, RecordedRequest, RequestService
from ._faults import Delay, Drop, Fault, NotJson, Oversized, Redirect, Status, Truncated

log = logging.getLogger(__name__)

CONNECTIONS_PREFIX = "/apigateways/websocket/v1/connections/"
IAM_TOKENS_PATH = "/iam/v1/tokens"
METADATA_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"  # noqa: S105
# What the emulator reads of one request, at most; past these it answers 413, 431 or 414 without
# reading the rest (a client that keeps sending has it read and dropped, for LINGER_SECONDS).
MAX_BODY_BYTES = 1 << 20
MAX_HEADER_BYTES = 32 << 10
MAX_REQUEST_LINE_BYTES = 8 << 10
LINGER_SECONDS = 2.0
_STREAM_CHUNK = 1 << 16
# The metadata service's own address on a VM: where a client routed to the emulator would go.
_METADATA_HOSTS = frozenset({"169.254.169.254", "169.254.169.254:80"})
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None  # replaces body; length given by content_length
    content_length: int | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 refuses bursts of 16+ clients connecting at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], backend: EmulatorBackend) -> None:
        self.backend = backend
        self.accepted = 0
        self._active: set[socket.socket] = set()
        self._active_lock = threading.Lock()
        self._in_flight = 0
        self._idle = threading.Condition()
        super().__init__(address, _Handler)

    def request_began(self) -> None:
        with self._idle:
            self._in_flight += 1

    def request_ended(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a slow resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        names = (self.server_name, "localhost")
        self.own_hosts = [f"{name}:{port}" for name in names]
        # The Host values that name this server (a client leaves out port 80).
        self.host_values = frozenset(self.own_hosts + (list(names) if port == 80 else []))

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("client connection error: %r", exc)
        else:
            log.exception("emulator request handler failed")

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            self.accepted += 1
            self._active.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._active_lock:
            self._active.discard(request)
        super().shutdown_request(request)

    def close_active(self) -> None:
        # Kept-alive clients would otherwise hold their handler threads after stop().
        with self._active_lock:
            active = list(self._active)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without it every answer on a kept-alive connection waits ~40 ms (Nagle vs delayed ACK).
    disable_nagle_algorithm = True
    timeout = 60
    # Requests too broken to carry a version still get a status line and headers.
    default_request_version = "HTTP/1.0"
    server_version = "yc-websocket-emulator"
    sys_version = ""

    server: _Server
    raw_requestline: bytes
    _request_id: str = ""
    _received_at: float = 0.0
    _logged: bool = False
    _in_flight: bool = False
    _generation: int = 0
    _linger: bool = False  # answered before reading all of the request: drain it before closing
    _headers_over_budget: bool = False

    # -- dispatch --------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def handle_one_request(self) -> None:
        self._request_id = str(uuid.uuid4())
        self._received_at = time.time()
        self._logged = False
        try:
            super().handle_one_request()
        finally:
            if self._in_flight:
                self._in_flight = False
                self.server.request_ended()

    def parse_request(self) -> bool:
        # The request line has arrived: that, not the keep-alive wait before it, is receipt, and
        # from now until the answer the request is in flight (what wait_idle waits for).
        self._received_at = time.time()
        self._generation = self.server.backend.generation
        self._in_flight = True
        self.server.request_began()
        # Until this request's headers are read, none (a refusal logged before has no headers).
        self.headers = self.MessageClass()
        self._headers_over_budget = False
        if len(self.raw_requestline) > MAX_REQUEST_LINE_BYTES:
            # As http.server does for its own limit: no method or path to log.
            self.command, self.request_version, self.requestline = "", "", ""
            limit = MAX_REQUEST_LINE_BYTES >> 10
            self.send_error(414, f"Request line too long: at most {limit} KiB")
            return False
        rfile = self.rfile
        self.rfile = _HeaderBudget(self, rfile)  # type: ignore[assignment]
        try:
            return super().parse_request()
        finally:
            self.rfile = rfile

    def handle_expect_100(self) -> bool:
        # A request refused on its headers is refused before the client is asked for the body.
        if self._refused_at_door():
            return False
        return super().handle_expect_100()

    def finish(self) -> None:
        super().finish()
        if self._linger:
            _drain(self.connection)

    def _dispatch(self) -> None:
        backend = self.server.backend
        if self._refused_at_door():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_path = self.path
        if _admin.is_admin_path(raw_path):
            self._send(self._admin(raw_path, body))
            return
        service = _service_of(raw_path)
        fault: Fault | None = backend.faults.next(service) if service != "other" else None
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
            fault = None
        if fault is None or isinstance(fault, Drop | Truncated):
            connection_id, response = self._route(service, raw_path, body)
            if isinstance(fault, Drop):
                self._record(service, raw_path, connection_id, body, None)
                if fault.after_headers:
                    self._send_partial(response)
                self.close_connection = True
                return
            if isinstance(fault, Truncated):
                response = _Response(200, response.body[: len(response.body) // 2])
        else:
            connection_id = None
            response = _fault_response(fault, self._request_id)
        self._record(service, raw_path, connection_id, body, response.status)
        self._send(response)

    def _route(
        self, service: RequestService, raw_path: str, body: bytes
    ) -> tuple[str | None, _Response]:
        backend = self.server.backend
        path, _, query = raw_path.partition("?")
        connection_id: str | None = None
        try:
            if service == "connections":
                segment = _connection_segment(raw_path)
                if segment is None:
                    raise EmulatedStatusError(5, "Not Found")
                connection_id = _decode_segment(segment)
                _require_method(self.command, "GET")
                result = backend.api_get_connection(
                    connection_id, self.headers.get("Authorization")
                )
                return connection_id, _json_response(200, result)
            if service == "iam" and path == IAM_TOKENS_PATH and not query:
                _require_method(self.command, "POST")
                return None, _json_response(200, backend.api_create_iam_token(body))
            if service == "metadata" and path == METADATA_TOKEN_PATH:
                _require_method(self.command, "GET")
                result = backend.api_metadata_token(self.headers.get("Metadata-Flavor"))
                return None, _json_response(200, result)
            raise EmulatedStatusError(5, "Not Found")
        except EmulatedStatusError as exc:
            return connection_id, _service_error(service, exc, self._request_id)

    def _admin(self, raw_path: str, body: bytes) -> _Response:
        content_type = self.headers.get("Content-Type")
        try:
            answer = _admin.handle(self.server.backend, self.command, raw_path, body, content_type)
        except EmulatedStatusError as exc:
            return _error_response(exc, self._request_id)
        return _json_response(answer.status, answer.payload)

    # -- I/O ---------------------------------------------------------------------------------

    def _refused_at_door(self) -> bool:
        """Answer a request that is refused on its headers alone (before its body is read)."""
        refusal = self._host_refusal() or self._origin_refusal() or _body_refusal(self.headers)
        if refusal is None:
            return False
        if not self._logged:
            self._log_refused(refusal.http_status)
        self._linger = self.close_connection = True
        self._send(_service_error(_service_of(self.path), refusal, self._request_id))
        return True

    def _host_refusal(self) -> EmulatedStatusError | None:
        # A web page's requests always name its own host: under DNS rebinding, one that
        # resolves to 127.0.0.1. Only this server's own names are answered.
        service = _service_of(self.path)
        if service == "other" and not _admin.is_admin_path(self.path):
            return None  # a path that serves nothing answers 404, whatever the Host
        hosts = self.headers.get_all("Host") or []
        if not hosts:
            if self.request_version == "HTTP/1.0":
                return None  # no browser sends one: not a web page
            return EmulatedStatusError(3, "Send a Host header: HTTP/1.1 requires one", 400)
        if len(hosts) > 1:
            return EmulatedStatusError(3, f"Send one Host header, not {len(hosts)}", 400)
        accepted = self.server.host_values | (_METADATA_HOSTS if service == "metadata" else set())
        if hosts[0].strip().lower() in accepted:
            return None
        own = " or ".join(self.server.own_hosts)
        message = f"Host {hosts[0][:60]!r} is not this emulator's address: use {own}"
        return EmulatedStatusError(7, message, 421)

    def _origin_refusal(self) -> EmulatedStatusError | None:
        # Browsers send Origin with every cross-origin POST, even those without preflight.
        origin = self.headers.get("Origin")
        if origin is None or not _admin.is_admin_path(self.path):
            return None
        if origin.strip().lower() in {f"http://{host}" for host in self.server.host_values}:
            return None
        message = (
            f"Origin {origin[:60]!r} is refused: admin requests come from this machine's tools, "
            "not from web pages"
        )
        return EmulatedStatusError(7, message, 403)

    def _log_refused(self, http_status: int) -> None:
        path = getattr(self, "path", "")
        if self.command and not _admin.is_admin_path(path):  # admin requests are never logged
            self._record(_service_of(path), path, None, b"", http_status)

    def _record(
        self,
        service: RequestService,
        raw_path: str,
        connection_id: str | None,
        body: bytes,
        status: int | None,
    ) -> None:
        # Recorded before answering, so a client that has its answer also sees the log entry.
        self._logged = True
        request = RecordedRequest(
            service=service,
            method=self.command,
            raw_path=raw_path,
            connection_id=connection_id,
            headers=Headers(self.headers.items()),
            body=body,
            status=status,
            received_at=self._received_at,
            request_id=self._request_id,
        )
        self.server.backend.record(request, generation=self._generation)

    def _write_head(self, response: _Response, content_length: int) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(content_length))
        self.send_header("x-request-id", self._request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send(self, response: _Response) -> None:
        try:
            if response.stream is not None:
                self._write_head(response, response.content_length or 0)
                for chunk in response.stream:
                    self.wfile.write(chunk)
            else:
                self._write_head(response, len(response.body))
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_partial(self, response: _Response) -> None:
        try:
            self._write_head(response, len(response.body))
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- http.server hooks -----------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests rejected by http.server also get a google.rpc.Status body."""
        grpc_code = {400: 3, 404: 5, 408: 4, 414: 3, 431: 3, 501: 12, 505: 3}.get(code, 2)
        if self._headers_over_budget:
            message = (
                f"Request headers too large: at most {MAX_HEADER_BYTES >> 10} KiB of header lines"
            )
        error = EmulatedStatusError(grpc_code, message or "Bad request", code)
        response = _error_response(error, self._request_id)
        if not self._logged and getattr(self, "command", None):
            self._log_refused(code)
        self._linger = self.close_connection = True
        try:
            self._write_head(response, len(response.body))
            if getattr(self, "command", "") != "HEAD" and code not in (204, 304):
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only method, path and status: never headers, which carry credentials.
        log.debug("%s %s -> %s", self.command, getattr(self, "path", ""), code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class _HeaderBudget:
    """The request's input while http.server reads the header lines: MAX_HEADER_BYTES in all."""

    def __init__(self, handler: _Handler, rfile: Any) -> None:
        self._handler = handler
        self._rfile = rfile
        self._left = MAX_HEADER_BYTES

    def readline(self, size: int = -1) -> bytes:
        # One byte past the budget tells a block over it from one that just fits.
        allowed = self._left + 1 if size < 0 else min(size, self._left + 1)
        line: bytes = self._rfile.readline(allowed)
        self._left -= len(line)
        if self._left < 0:
            self._handler._headers_over_budget = True
            raise http.client.HTTPException("header lines over budget")  # http.server: 431
        return line


def _body_refusal(headers: Any) -> EmulatedStatusError | None:
    """Why a request's body is not read at all, from its headers; None if it can be."""
    if headers.get("Transfer-Encoding"):
        return EmulatedStatusError(3, "Send a Content-Length, not Transfer-Encoding", 411)
    text = headers.get("Content-Length") or "0"
    if not (text.isascii() and text.isdigit()):
        return EmulatedStatusError(3, f"Bad Content-Length: {text[:40]!r}", 400)
    if int(text) > MAX_BODY_BYTES:
        limit = MAX_BODY_BYTES >> 20
        return EmulatedStatusError(3, f"Request body too large: at most {limit} MiB", 413)
    return None


def _drain(sock: socket.socket) -> None:
    """Read and drop what the client still sends, for a while, then let the socket close.

    Closing a socket with unread input resets the connection, and a reset can discard the
    error answer before the client has read it: the client would see no answer at all.
    """
    deadline = time.monotonic() + LINGER_SECONDS
    buffer = bytearray(_STREAM_CHUNK)
    with contextlib.suppress(OSError):  # timeouts and resets included: closing is all that is left
        sock.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv_into(buffer):
                return


def _is_ipv4_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


def _connection_segment(raw_path: str) -> str | None:
    """The raw id segment when the path is exactly the Connection.Get route, else None."""
    if not raw_path.startswith(CONNECTIONS_PREFIX) or "?" in raw_path:
        return None
    segment = raw_path.removeprefix(CONNECTIONS_PREFIX)
    # A proxy in front of the service would resolve dot segments out of the path.
    if segment in ("", ".", "..") or "/" in segment or "#" in segment:
        return None
    return segment


def _decode_segment(segment: str) -> str:
    # http.server decodes the request line as Latin-1: undo it to get the bytes sent.
    raw = unquote_to_bytes(segment.encode("latin-1"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EmulatedStatusError(
            3, "connection_id is not valid UTF-8 after percent-decoding"
        ) from None


def _require_method(method: str, allowed: str) -> None:
    if method != allowed:
        raise EmulatedStatusError(12, "Method Not Allowed", 405, headers={"Allow": allowed})


def _service_of(raw_path: str) -> RequestService:
    if raw_path.startswith("/apigateways"):
        return "connections"
    if raw_path.startswith("/iam/"):
        return "iam"
    if raw_path.startswith("/computeMetadata/"):
        return "metadata"
    return "other"


def _json_response(status: int, payload: Any) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode())


def _status_body(code: int, message: str, request_id: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": request_id}
        ],
    }


def _service_error(service: RequestService, exc: EmulatedStatusError, request_id: str) -> _Response:
    if service == "metadata":
        # The metadata server is no gRPC service: it answers in plain text.
        text = (exc.message + "\n").encode()
        return _Response(exc.http_status, text, "text/plain; charset=utf-8", exc.headers)
    return _error_response(exc, request_id)


def _error_response(exc: EmulatedStatusError, request_id: str) -> _Response:
    response = _json_response(exc.http_status, _status_body(exc.grpc_code, exc.message, request_id))
    response.headers.update(exc.headers)
    return response


def _fault_response(fault: Status | NotJson | Oversized | Redirect, request_id: str) -> _Response:
    """Answer replacing the normal one (Delay, Drop and Truncated act on the normal one)."""
    if isinstance(fault, Status):
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        body = json.dumps(_status_body(fault.grpc_code, fault.message, request_id)).encode()
        return _Response(fault.http_status, body, headers=headers)
    if isinstance(fault, NotJson):
        return _Response(fault.http_status, _BAD_GATEWAY_HTML, "text/html")
    if isinstance(fault, Oversized):
        return _Response(200, stream=_oversized(fault.n_bytes), content_length=fault.n_bytes)
    if isinstance(fault, Redirect):
        body = f'<html><body><a href="{fault.location}">Found</a></body></html>'.encode()
        return _Response(fault.http_status, body, "text/html", {"Location": fault.location})
    raise TypeError(f"unhandled fault {fault!r}")


def _oversized(n_bytes: int) -> Iterator[bytes]:
    head = b'{"id":"oversized","gatewayId":"d5d00000000000000000","filler":"'
    tail = b'"}'
    yield head
    remaining = n_bytes - len(head) - len(tail)
    chunk = b"x" * _STREAM_CHUNK
    while remaining > 0:
        part = chunk[: min(remaining, _STREAM_CHUNK)]
        yield part
        remaining -= len(part)
    yield tail


class EmulatorServer:
    """The emulator on a real socket: ``start()``/``stop()`` or use as a context manager.

    One server can serve a whole test session: ``reset()`` gives the next test a fresh state,
    ``wait_idle()`` waits for requests still being answered (e.g. held by a ``Delay`` fault).
    """

    def __init__(
        self, backend: EmulatorBackend | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        host = "127.0.0.1" if host == "localhost" else host
        if not _is_ipv4_loopback(host):
            raise ValueError(
                f"the emulator listens on IPv4 loopback only (127.0.0.1), not {host!r}"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port {port!r} is out of range: use 0-65535 (0 picks a free port)")
        self._backend = backend if backend is not None else EmulatorBackend()
        try:
            self._httpd = _Server((host, port), self._backend)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "the address is already in use (port 0 picks a free port)"
            else:
                reason = exc.strerror or str(exc)
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {reason}") from None
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> EmulatorBackend:
        """The state this server answers from (``reset()`` renews it in place)."""
        return self._backend

    def reset(self, timeout: float = 5.0) -> EmulatorBackend:
        """Give the next requests a fresh state: ``backend.reset()``, once no request is in flight.

        Waits up to ``timeout`` seconds for requests being answered; one still running after
        that is answered from the fresh state but left out of its request log. Returns the
        backend (the same object, reset).
        """
        self.wait_idle(timeout)
        self._backend.reset()
        return self._backend

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being answered; False if one still is after ``timeout`` s."""
        return self._httpd.wait_idle(timeout)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing the package's client, CLI and provider here."""
        return {
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": self.url,
            "YC_IAM_ENDPOINT": self.url,
            "YC_METADATA_ADDR": f"{self.host}:{self.port}",
        }

    @property
    def accepted_connections(self) -> int:
        """TCP connections accepted so far (to check that clients keep connections alive)."""
        return self._httpd.accepted

    def start(self) -> Self:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"yc-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and any kept-alive connection."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_active()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
