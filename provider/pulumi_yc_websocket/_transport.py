"""Pooled HTTP on urllib3: an absolute deadline, bounded answers, no redirects, typed failures.

The deadline holds at the socket: every receive of a response, its status line, headers, 1xx
answers, chunk-size lines, trailers and body alike, waits at most the time the lookup has left.
http.client loops inside one call (over ``100 Continue`` answers, header lines, trailer lines),
so a check between calls cannot bound it; a bound on each ``recv`` does.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import os
import socket
import ssl
import threading
import time
import urllib.request
import zlib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
import urllib3.connection
import urllib3.exceptions
from urllib3.util import parse_url

from ._errors import (
    ApiError,
    ConfigurationError,
    DeadlineExceededError,
    InsecureProxyError,
    InvalidCredentialsError,
    InvalidResponseError,
    ServiceUnavailableError,
)
from ._retry import Deadline
from ._urls import is_loopback_host, origin_of, redacted

DEFAULT_MAX_CONNECTIONS = 16
"""Connections a transport keeps open to each host."""
DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
"""Status line and headers of one answer (1xx answers before it included)."""
_READ_CHUNK_BYTES = 64 * 1024
_MAX_LENGTH_DIGITS = 18
_ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`_Inflater` decodes."""
_CHECK_HINT = "check that the endpoint points at the Yandex Cloud API"
_monotonic = time.monotonic


@dataclass(frozen=True)
class HttpResponse:
    """A fully read, size-checked response."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(slots=True)
class _Guard:
    """The bounds of one request, shared with the response object urllib3 builds for it."""

    deadline: Deadline
    max_header_bytes: int
    cut_to_deadline: bool = False
    """A socket wait was shortened to the time left: a timeout from then on is the deadline."""
    head_too_large: bool = False


_active_guard: ContextVar[_Guard | None] = ContextVar("_active_guard", default=None)
"""The guard of the request this thread is sending: urlopen hands nothing per request to the
connection it picks, so the response class finds its bounds here."""


class _HeadTooLarge(http.client.HTTPException):
    """Raised inside http.client once the head of an answer passes its byte budget."""


class _GuardedReads(io.RawIOBase):
    """The socket as http.client reads it: each receive bounded by the deadline.

    While ``budget`` is set (the head of the answer), no more than that many bytes are read.
    """

    def __init__(self, sock: socket.socket, guard: _Guard) -> None:
        self._raw = sock.makefile("rb", buffering=0)
        self._sock = sock
        self._expires_at = guard.deadline.expires_at
        self.guard = guard
        self.budget: int | None = None

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._sock.fileno()

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._expires_at - _monotonic()
        if remaining <= 0:
            self.guard.cut_to_deadline = True
            raise TimeoutError("the lookup's deadline passed")
        timeout = self._sock.gettimeout()
        if timeout is None or timeout > remaining:
            self._sock.settimeout(remaining)
            self.guard.cut_to_deadline = True
        budget = self.budget
        if budget is not None:
            if budget <= 0:
                self.guard.head_too_large = True
                raise _HeadTooLarge("the head of the answer is too large")
            if budget < len(buffer):
                buffer = memoryview(buffer)[:budget]
        received: int | None = self._raw.readinto(buffer)
        if budget is not None:
            self.budget = budget - (received or 0)
        return received

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Opened:
    """Hands http.client the buffered reader it would otherwise open with ``sock.makefile``."""

    def __init__(self, reader: io.BufferedReader) -> None:
        self._reader = reader

    def makefile(self, mode: str) -> io.BufferedReader:
        return self._reader


class _GuardedResponse(http.client.HTTPResponse):
    """http.client's response, reading through :class:`_GuardedReads` when a guard is active."""

    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        guard = _active_guard.get()
        self._reads = None if guard is None else _GuardedReads(sock, guard)
        if self._reads is not None:
            sock = _Opened(io.BufferedReader(self._reads))  # type: ignore[assignment]
        super().__init__(sock, debuglevel, method, url)

    def begin(self) -> None:
        reads = self._reads
        if reads is None:
            super().begin()
            return
        reads.budget = reads.guard.max_header_bytes
        try:
            super().begin()
        finally:
            reads.budget = None


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _GuardedResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _GuardedResponse


class _HTTPConnectionPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_GUARDED_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {
    "http": _HTTPConnectionPool,
    "https": _HTTPSConnectionPool,
}


class HttpTransport:
    """Thread-safe connection pools (urllib3), with proxy and CA settings read once.

    urllib3 directly, not ``requests``: a lookup is one small GET, and the session layer (with
    its per-request environment merge) cost more than the request itself on a local network.

    Proxies follow the standard library's reading of ``*_PROXY`` and ``NO_PROXY``, except that
    loopback and link-local hosts (a local emulator, the VM metadata service) are always reached
    directly, and a plain-http request is never sent through a proxy: that is refused with
    :class:`InsecureProxyError` before anything is sent.
    """

    def __init__(
        self,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self._proxies = _proxy_settings(environ)
        self._pool_options = {
            "num_pools": 4,
            "maxsize": max_connections,
            "block": False,
            "retries": False,
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": _ca_bundle(os.environ if environ is None else environ),
        }
        self._direct = self._guarded(urllib3.PoolManager(**self._pool_options))  # type: ignore[arg-type]
        self._managers: dict[str, urllib3.PoolManager] = {}
        self._managers_lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        service: str,
        deadline: Deadline,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        connect_timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request and read its whole body, or raise a typed, retryable-or-not error."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceededError(
                f"the lookup's deadline of {deadline.seconds:g}s passed before calling {service}",
                service=service,
                hint="raise the timeout, or check the network path to the service",
            )
        origin = origin_of(url)
        all_headers = {"Accept-Encoding": _ACCEPT_ENCODING, **(headers or {})}
        if not all(_sendable(value) for value in all_headers.values()):
            # A token HTTP cannot carry (line break, NUL, non-Latin-1): nothing is sent, and
            # no error that quotes the header value is chained to ours.
            raise _unsendable_header(service)
        manager = self._manager_for(origin, service)
        connect_wait = min(connect_timeout or self.connect_timeout, remaining)
        read_wait = min(self.read_timeout, remaining)
        guard = _Guard(
            deadline, self.max_header_bytes, cut_to_deadline=read_wait < self.read_timeout
        )
        failure: ApiError | None = None
        try:
            active = _active_guard.set(guard)
            try:
                response = manager.urlopen(
                    method,
                    url,
                    body=body,
                    headers=all_headers,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=False,
                    timeout=urllib3.Timeout(connect=connect_wait, read=read_wait),
                )
            finally:
                _active_guard.reset(active)
            try:
                content = self._read_body(response, service=service)
            except BaseException:
                response.close()
                raise
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            cut = connect_wait < (connect_timeout or self.connect_timeout)
            failure = _failure(exc, guard, service, origin, read_wait, connect_cut=cut)
        # Raised outside the except block: urllib3's error (which may quote the server) is
        # neither the cause nor the context of ours.
        if failure is not None:
            raise failure
        return HttpResponse(response.status, response.headers, content)

    def close(self) -> None:
        """Close every pooled connection."""
        self._direct.clear()
        with self._managers_lock:
            for manager in self._managers.values():
                manager.clear()

    @staticmethod
    def _guarded(manager: urllib3.PoolManager) -> urllib3.PoolManager:
        manager.pool_classes_by_scheme = _GUARDED_POOLS
        return manager

    def _manager_for(self, origin: str, service: str) -> urllib3.PoolManager:
        manager = self._managers.get(origin)
        if manager is not None:
            return manager
        parts = urlsplit(origin)
        proxy = self._proxy_for(parts.scheme, parts.hostname or "")
        if proxy is None:
            manager = self._direct
        elif parts.scheme != "https":
            raise InsecureProxyError(
                f"plain http to {service} at {origin} would go through the proxy "
                f"{redacted(proxy)} set in the environment, which would read the token in "
                f"clear text; add {parts.hostname} to NO_PROXY, or use https"
            )
        else:
            manager = self._guarded(_proxy_manager(proxy, origin, self._pool_options))
        with self._managers_lock:
            return self._managers.setdefault(origin, manager)

    def _proxy_for(self, scheme: str, host: str) -> str | None:
        """The proxy URL for ``scheme://host``, or None to connect directly."""
        if _never_proxied(host):
            return None
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        if bypass(host, self._proxies):
            return None
        return self._proxies.get(scheme) or self._proxies.get("all") or None

    def _read_body(self, response: urllib3.BaseHTTPResponse, *, service: str) -> bytes:
        declared = _declared_length(response.headers, service, response.status)
        if declared is not None and declared > self.max_body_bytes:
            raise _oversized(service, self.max_body_bytes, response.status)
        inflater = _Inflater.for_encoding(
            response.headers.get("Content-Encoding", ""), service, response.status
        )
        chunks: list[bytes] = []
        size = 0
        while True:
            # One socket read at a time, each bounded by the deadline (see _GuardedReads).
            # Compressed bodies are inflated here, not by urllib3, whose read1 keeps reading
            # while a trickled stream inflates to nothing.
            chunk = response.read1(_READ_CHUNK_BYTES, decode_content=False)
            if not chunk:
                return b"".join(chunks)
            if inflater is not None:
                chunk = inflater.inflate(chunk, self.max_body_bytes + 1 - size, response.status)
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _oversized(service, self.max_body_bytes, response.status)
            chunks.append(chunk)


def _failure(
    exc: urllib3.exceptions.HTTPError,
    guard: _Guard,
    service: str,
    origin: str,
    read_wait: float,
    *,
    connect_cut: bool,
) -> ApiError:
    """The typed error for what urllib3 raised."""
    if guard.head_too_large:
        return InvalidResponseError(
            f"the status line and headers of the answer of {service} are larger than "
            f"{guard.max_header_bytes} bytes and were not read",
            service=service,
            hint=_CHECK_HINT,
        )
    if isinstance(exc, urllib3.exceptions.InvalidHeader):
        return _invalid_length(service, None)
    # A proxy's failure wraps the error that ended the tunnel, e.g. a passed deadline.
    inner = getattr(exc, "original_error", None) or exc
    # NewConnectionError subclasses ConnectTimeoutError: test it first.
    if isinstance(inner, urllib3.exceptions.NewConnectionError):
        reason = _connection_reason(exc)
    elif (
        guard.deadline.expired()
        or (isinstance(inner, urllib3.exceptions.ReadTimeoutError) and guard.cut_to_deadline)
        or (isinstance(inner, urllib3.exceptions.ConnectTimeoutError) and connect_cut)
    ):
        return DeadlineExceededError(
            f"the lookup's deadline of {guard.deadline.seconds:g}s passed waiting for "
            f"{service} at {origin}",
            service=service,
            hint="raise the timeout, or check the network path to the service",
        )
    elif isinstance(exc, urllib3.exceptions.ProtocolError):
        reason = _connection_reason(exc)
    elif isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        reason = "connecting timed out"
    elif isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        reason = f"no answer within {read_wait:g}s"
    elif isinstance(exc, urllib3.exceptions.SSLError):
        reason = "TLS failed: " + _connection_reason(exc)
    else:
        reason = _connection_reason(exc)
    return ServiceUnavailableError(
        f"could not get an answer from {service} at {origin} ({reason})",
        service=service,
        hint="check the endpoint and the network; the lookup was retried while time allowed",
    )


# The first of these found along an error's chain names the failure; order matters where one
# type subclasses another (RemoteDisconnected is a ConnectionResetError).
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host name not found"),
    (http.client.RemoteDisconnected, "connection closed before the answer"),
    (http.client.IncompleteRead, "connection closed in the middle of the answer"),
    (urllib3.exceptions.InvalidChunkLength, "connection closed in the middle of the answer"),
    (ConnectionResetError, "connection reset"),
    (ssl.SSLCertVerificationError, "TLS certificate not trusted"),
    (urllib3.exceptions.ProxyError, "the proxy refused the connection"),
)
_CHAIN_DEPTH = 8


def _connection_reason(exc: BaseException) -> str:
    """What went wrong with the connection, from the types along the error's chain."""
    for cause in _chain(exc):
        for error_type, reason in _REASONS:
            if isinstance(cause, error_type):
                return reason
    return "connection failed"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: causes, contexts, and the errors urllib3 carries inside."""
    found: list[BaseException] = []
    pending = [exc]
    while pending and len(found) < _CHAIN_DEPTH:
        current = pending.pop(0)
        if current in found:
            continue
        found.append(current)
        inner = [
            current.__cause__,
            current.__context__,
            getattr(current, "original_error", None),
            getattr(current, "reason", None),
            *current.args,
        ]
        pending += [item for item in inner if isinstance(item, BaseException)]
    return found


def _declared_length(headers: Mapping[str, str], service: str, status: int) -> int | None:
    """The Content-Length in bytes, None without one; a malformed one raises.

    ASCII digits only: ``str.isdigit`` also accepts ``²``, which ``int`` refuses, and ``int``
    accepts ``+5``, ``1_0`` and Arabic-Indic digits.
    """
    declared = headers.get("Content-Length")
    if declared is None:
        return None
    declared = declared.strip()
    if not (declared.isascii() and declared.isdigit()):
        raise _invalid_length(service, status)
    # Past 18 digits it is over any cap; int() refuses above 4,300 digits.
    return int(declared) if len(declared) <= _MAX_LENGTH_DIGITS else 10**_MAX_LENGTH_DIGITS


def _invalid_length(service: str, status: int | None) -> InvalidResponseError:
    return InvalidResponseError(
        f"the answer of {service} has an invalid Content-Length header",
        http_status=status,
        service=service,
        hint=_CHECK_HINT,
    )


class _Inflater:
    """Inflates a gzip or deflate body one read at a time, never past a size limit."""

    def __init__(self, encoding: str, service: str) -> None:
        self.encoding = encoding
        self._service = service
        self._raw_deflate_fallback = encoding == "deflate"
        window = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        self._decompressor = zlib.decompressobj(window)

    @classmethod
    def for_encoding(cls, header: str, service: str, status: int) -> _Inflater | None:
        encoding = header.strip().lower()
        if encoding in ("", "identity"):
            return None
        if encoding in ("gzip", "x-gzip", "deflate"):
            return cls("deflate" if encoding == "deflate" else "gzip", service)
        raise InvalidResponseError(
            f"the answer of {service} uses the content encoding {header.strip()[:40]!r}, "
            f"which was not asked for (only {_ACCEPT_ENCODING})",
            http_status=status,
            service=service,
            hint=_CHECK_HINT,
        )

    def inflate(self, data: bytes, limit: int, status: int) -> bytes:
        """Up to ``limit`` (> 0) bytes inflated from ``data`` (reaching it means: too large)."""
        output = self._decompress(data, limit)
        if output is None:
            raise InvalidResponseError(
                f"the answer of {self._service} is not valid {self.encoding} data",
                http_status=status,
                service=self._service,
                hint=_CHECK_HINT,
            )
        self._raw_deflate_fallback = False
        return output

    def _decompress(self, data: bytes, limit: int) -> bytes | None:
        try:
            return self._decompressor.decompress(data, limit)
        except zlib.error:
            if not self._raw_deflate_fallback:
                return None
        # "deflate" is zlib-wrapped by the RFC; some servers send raw deflate.
        self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            return self._decompressor.decompress(data, limit)
        except zlib.error:
            return None


def _unsendable_header(service: str) -> InvalidCredentialsError:
    return InvalidCredentialsError(
        f"a request header for {service} holds a line break, a NUL or a character HTTP cannot "
        "carry; check the configured token or key for stray characters"
    )


def _oversized(service: str, limit: int, status: int) -> InvalidResponseError:
    return InvalidResponseError(
        f"the answer of {service} is larger than {limit} bytes and was not read",
        http_status=status,
        service=service,
        hint=_CHECK_HINT,
    )


def _proxy_settings(environ: Mapping[str, str] | None) -> dict[str, str]:
    """``{scheme: proxy URL, "no": NO_PROXY}`` from the environment, by the stdlib's rules.

    Only these settings are kept: nothing else of the environment (credentials included) stays
    on the transport.
    """
    if environ is None:
        return urllib.request.getproxies_environment()
    # getproxies_environment reads os.environ only; the same two passes over the given mapping:
    # any case first, then lower-case names, which win (an empty one unsets).
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        if len(name) > 5 and name[-6:].lower() == "_proxy" and value:
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in environ:  # CGI: HTTP_PROXY may come from a request's Proxy header
        proxies.pop("http", None)
    for name, value in environ.items():
        if name[-6:] == "_proxy":
            if value:
                proxies[name[:-6].lower()] = value
            else:
                proxies.pop(name[:-6].lower(), None)
    return proxies


def _never_proxied(host: str) -> bool:
    """Loopback and link-local hosts: no proxy can reach this machine's or this link's."""
    if is_loopback_host(host):
        return True
    try:
        return ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


def _proxy_manager(proxy: str, origin: str, options: Mapping[str, Any]) -> urllib3.ProxyManager:
    url = proxy if "://" in proxy else f"http://{proxy}"  # as curl and requests read "host:port"
    try:
        parsed = parse_url(url)
    except urllib3.exceptions.LocationParseError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"the proxy {redacted(proxy)} set in the environment for {origin} is not an "
            "http:// or https:// URL; fix HTTPS_PROXY / ALL_PROXY, or add the host to NO_PROXY"
        )
    return urllib3.ProxyManager(url, **options)


def _ca_bundle(environ: Mapping[str, str]) -> str | None:
    """A CA bundle named by the environment (as requests reads it), else certifi's, else None."""
    named = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
    if named:
        return named
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def _sendable(value: str) -> bool:
    if "\r" in value or "\n" in value or "\0" in value:
        return False
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
