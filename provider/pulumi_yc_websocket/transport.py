"""Pooled HTTP on urllib3: bounded bodies, per-attempt timeouts, no redirects, typed failures."""

from __future__ import annotations

import os
import threading
import urllib.request
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
import urllib3.exceptions

from .errors import (
    ConfigurationError,
    DeadlineExceededError,
    InvalidResponseError,
    ServiceUnavailableError,
)
from .retry import Deadline

DEFAULT_MAX_BODY_BYTES = 256 * 1024
_READ_CHUNK_BYTES = 64 * 1024
_ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`_Inflater` decodes."""


@dataclass(frozen=True)
class HttpResponse:
    """A fully read, size-checked response."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpTransport:
    """Thread-safe connection pools (urllib3), with proxy and CA settings read once.

    urllib3 directly, not ``requests``: a lookup is one small GET, and the session layer (with
    its per-request environment merge) cost more than the request itself on a local network.
    """

    def __init__(
        self,
        *,
        max_connections: int = 16,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_body_bytes = max_body_bytes
        source = os.environ if environ is None else environ
        self._environ = {key.lower(): value for key, value in source.items()}
        self._pool_options = {
            "num_pools": 4,
            "maxsize": max_connections,
            "block": False,
            "retries": False,
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": _ca_bundle(self._environ),
        }
        self._direct = urllib3.PoolManager(**self._pool_options)  # type: ignore[arg-type]
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
        read_timeout = min(self.read_timeout, remaining)
        origin = origin_of(url)
        all_headers = {"Accept-Encoding": _ACCEPT_ENCODING, **(headers or {})}
        if not all(_sendable(value) for value in all_headers.values()):
            # A token HTTP cannot carry (line break, NUL, non-Latin-1): nothing is sent, and
            # no error that quotes the header value is chained to ours.
            raise _unsendable_header(service)
        timeout = urllib3.Timeout(
            connect=min(connect_timeout or self.connect_timeout, remaining), read=read_timeout
        )
        try:
            response = self._manager_for(origin).urlopen(
                method,
                url,
                body=body,
                headers=all_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=timeout,
            )
            try:
                content = self._read_body(response, service=service, deadline=deadline)
            except BaseException:
                response.close()
                raise
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise self._network_error(exc, service, origin, deadline, read_timeout) from None
        return HttpResponse(response.status, response.headers, content)

    def close(self) -> None:
        """Close every pooled connection."""
        self._direct.clear()
        with self._managers_lock:
            for manager in self._managers.values():
                manager.clear()

    def _manager_for(self, origin: str) -> urllib3.PoolManager:
        manager = self._managers.get(origin)
        if manager is None:
            with self._managers_lock:
                proxy = _environ_proxy(origin, self._environ)
                manager = (
                    urllib3.ProxyManager(proxy, **self._pool_options)  # type: ignore[arg-type]
                    if proxy
                    else self._direct
                )
                self._managers[origin] = manager
        return manager

    def _read_body(
        self, response: urllib3.BaseHTTPResponse, *, service: str, deadline: Deadline
    ) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _oversized(service, self.max_body_bytes, response.status)
        inflater = _Inflater.for_encoding(
            response.headers.get("Content-Encoding", ""), service, response.status
        )
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"the lookup's deadline of {deadline.seconds:g}s passed while reading "
                    f"the answer of {service}",
                    service=service,
                )
            # One socket read at a time, each bounded by the time left: a body trickled a byte
            # at a time must not hold the lookup past its deadline. (The connection is None
            # once the body is read and the connection is back in the pool.) Compressed bodies
            # are inflated here, not by urllib3, whose read1 keeps reading while a trickled
            # stream inflates to nothing.
            connection = response.connection
            sock = getattr(connection, "sock", None)
            if sock is not None:
                sock.settimeout(min(self.read_timeout, remaining))
            chunk = response.read1(_READ_CHUNK_BYTES, decode_content=False)
            if not chunk:
                return b"".join(chunks)
            if inflater is not None:
                try:
                    chunk = inflater.inflate(chunk, self.max_body_bytes + 1 - size)
                except zlib.error:
                    raise InvalidResponseError(
                        f"the answer of {service} is not valid {inflater.encoding} data",
                        http_status=response.status,
                        service=service,
                        hint="check that the endpoint points at the Yandex Cloud API",
                    ) from None
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _oversized(service, self.max_body_bytes, response.status)
            chunks.append(chunk)

    @staticmethod
    def _network_error(
        exc: urllib3.exceptions.HTTPError,
        service: str,
        origin: str,
        deadline: Deadline,
        read_timeout: float,
    ) -> ServiceUnavailableError:
        if isinstance(exc, urllib3.exceptions.TimeoutError) and deadline.expired():
            return DeadlineExceededError(
                f"the lookup's deadline of {deadline.seconds:g}s passed waiting for {service} "
                f"at {origin}",
                service=service,
                hint="raise the timeout, or check the network path to the service",
            )
        # NewConnectionError subclasses ConnectTimeoutError: test it first.
        if isinstance(
            exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ProtocolError
        ):
            reason = _connection_reason(exc)
        elif isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
            reason = "connecting timed out"
        elif isinstance(exc, urllib3.exceptions.ReadTimeoutError):
            reason = f"no answer within {read_timeout:g}s"
        elif isinstance(exc, urllib3.exceptions.SSLError):
            reason = "TLS failed: " + _connection_reason(exc)
        else:
            reason = _connection_reason(exc)
        return ServiceUnavailableError(
            f"could not get an answer from {service} at {origin} ({reason})",
            service=service,
            hint="check the endpoint and the network; the lookup was retried while time allowed",
        )


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("Connection aborted", "connection closed before the answer"),
        ("RemoteDisconnected", "connection closed before the answer"),
        ("IncompleteRead", "connection closed in the middle of the answer"),
        ("Connection broken", "connection closed in the middle of the answer"),
        ("Connection reset", "connection reset"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ):
        if needle in text:
            return reason
    return "connection failed"


class _Inflater:
    """Inflates a gzip or deflate body one read at a time, never past a size limit."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._raw_deflate_fallback = encoding == "deflate"
        window = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        self._decompressor = zlib.decompressobj(window)

    @classmethod
    def for_encoding(cls, header: str, service: str, status: int) -> _Inflater | None:
        encoding = header.strip().lower()
        if encoding in ("", "identity"):
            return None
        if encoding in ("gzip", "x-gzip", "deflate"):
            return cls("deflate" if encoding == "deflate" else "gzip")
        raise InvalidResponseError(
            f"the answer of {service} uses the content encoding {header.strip()[:40]!r}, "
            f"which was not asked for (only {_ACCEPT_ENCODING})",
            http_status=status,
            service=service,
            hint="check that the endpoint points at the Yandex Cloud API",
        )

    def inflate(self, data: bytes, limit: int) -> bytes:
        """Up to ``limit`` (> 0) bytes inflated from ``data`` (reaching it means: too large)."""
        try:
            output = self._decompressor.decompress(data, limit)
        except zlib.error:
            if not self._raw_deflate_fallback:
                raise
            # "deflate" is zlib-wrapped by the RFC; some servers send raw deflate.
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            output = self._decompressor.decompress(data, limit)
        self._raw_deflate_fallback = False
        return output


def _unsendable_header(service: str) -> ConfigurationError:
    return ConfigurationError(
        f"a request header for {service} holds a line break, a NUL or a character HTTP cannot "
        "carry; check the configured token or key for stray characters"
    )


def _oversized(service: str, limit: int, status: int) -> InvalidResponseError:
    return InvalidResponseError(
        f"the answer of {service} is larger than {limit} bytes and was not read",
        http_status=status,
        service=service,
        hint="check that the endpoint points at the Yandex Cloud API",
    )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _environ_proxy(origin: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL the (lower-cased) environment sets for ``origin``, if any."""
    parts = urlsplit(origin)
    no_proxy = environ.get("no_proxy", "")
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if no_proxy and bypass(parts.hostname or "", {"no": no_proxy}):
        return None
    return environ.get(f"{parts.scheme}_proxy") or environ.get("all_proxy") or None


def _ca_bundle(environ: Mapping[str, str]) -> str | None:
    """A CA bundle named by the environment, else certifi's, else the system's (``None``)."""
    named = environ.get("requests_ca_bundle") or environ.get("curl_ca_bundle")
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
