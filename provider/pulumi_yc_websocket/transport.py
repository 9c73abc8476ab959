"""One pooled HTTP session: bounded bodies, per-attempt timeouts, no redirects, typed failures."""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.utils
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
"""The encodings :class:`_Inflater` decodes (requests would also offer br/zstd when installed)."""


@dataclass(frozen=True)
class HttpResponse:
    """A fully read, size-checked response."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpTransport:
    """A thread-safe, pooled ``requests`` session with proxy settings read once.

    The environment (proxies, CA bundle) is read at construction, not on every request: a
    default ``Session`` re-reads it per request, which costs about a third of a local lookup.
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
        self._environ = dict(os.environ if environ is None else environ)
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.headers["Accept-Encoding"] = _ACCEPT_ENCODING
        self._session.verify = (
            self._environ.get("REQUESTS_CA_BUNDLE") or self._environ.get("CURL_CA_BUNDLE") or True
        )
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=max_connections, max_retries=0
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._proxies: dict[str, dict[str, str]] = {}
        self._proxies_lock = threading.Lock()

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
        if any("\0" in value for value in (headers or {}).values()):
            raise _unsendable_header(service)  # requests would send a NUL as is (RFC 9110 5.5)
        try:
            response = self._session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=body,
                timeout=(min(connect_timeout or self.connect_timeout, remaining), read_timeout),
                allow_redirects=False,
                stream=True,
                proxies=self._proxies_for(origin),
            )
            try:
                content = self._read_body(response, service=service, deadline=deadline)
            finally:
                response.close()
        except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
            # A header value (the token) HTTP cannot carry: a line break or a non-Latin-1
            # character. Nothing was sent; retrying cannot help. Raised outside the handler so
            # the original error, which quotes the header value, is not chained to ours.
            content = None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._network_error(exc, service, origin, deadline, read_timeout) from None
        if content is None:
            raise _unsendable_header(service)
        return HttpResponse(response.status_code, response.headers, content)

    def close(self) -> None:
        """Close every pooled connection."""
        self._session.close()

    def _proxies_for(self, origin: str) -> dict[str, str]:
        proxies = self._proxies.get(origin)
        if proxies is None:
            with self._proxies_lock:
                proxies = _environ_proxies(origin, self._environ)
                self._proxies[origin] = proxies
        return proxies

    def _read_body(self, response: requests.Response, *, service: str, deadline: Deadline) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _oversized(service, self.max_body_bytes, response.status_code)
        raw = response.raw
        inflater = _Inflater.for_encoding(
            response.headers.get("Content-Encoding", ""), service, response.status_code
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
            connection = raw.connection
            if connection is not None and connection.sock is not None:
                connection.sock.settimeout(min(self.read_timeout, remaining))
            chunk = raw.read1(_READ_CHUNK_BYTES, decode_content=False)
            if not chunk:
                return b"".join(chunks)
            if inflater is not None:
                try:
                    chunk = inflater.inflate(chunk, self.max_body_bytes + 1 - size)
                except zlib.error:
                    raise InvalidResponseError(
                        f"the answer of {service} is not valid {inflater.encoding} data",
                        http_status=response.status_code,
                        service=service,
                        hint="check that the endpoint points at the Yandex Cloud API",
                    ) from None
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _oversized(service, self.max_body_bytes, response.status_code)
            chunks.append(chunk)

    @staticmethod
    def _network_error(
        exc: requests.exceptions.RequestException | urllib3.exceptions.HTTPError,
        service: str,
        origin: str,
        deadline: Deadline,
        read_timeout: float,
    ) -> ServiceUnavailableError:
        # Errors while reading the body come from urllib3 itself (``raw.read1``).
        timeout = requests.exceptions.Timeout | urllib3.exceptions.TimeoutError
        if isinstance(exc, timeout) and deadline.expired():
            return DeadlineExceededError(
                f"the lookup's deadline of {deadline.seconds:g}s passed waiting for {service} "
                f"at {origin}",
                service=service,
                hint="raise the timeout, or check the network path to the service",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            reason = "connecting timed out"
        elif isinstance(exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
            reason = f"no answer within {read_timeout:g}s"
        elif isinstance(
            exc,
            requests.exceptions.ChunkedEncodingError
            | requests.ConnectionError
            | urllib3.exceptions.ProtocolError,
        ):
            reason = _connection_reason(exc)
        else:
            reason = type(exc).__name__
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


def _environ_proxies(origin: str, environ: Mapping[str, str]) -> dict[str, str]:
    # requests reads proxies from os.environ; resolve them once, for this origin, from ours.
    scheme = urlsplit(origin).scheme
    lowered = {key.lower(): value for key, value in environ.items()}
    no_proxy = lowered.get("no_proxy")
    if requests.utils.should_bypass_proxies(origin, no_proxy=no_proxy):
        return {}
    proxy = lowered.get(f"{scheme}_proxy") or lowered.get("all_proxy")
    return {scheme: proxy} if proxy else {}
