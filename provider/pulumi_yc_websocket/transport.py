"""One pooled HTTP session: bounded bodies, per-attempt timeouts, no redirects, typed failures."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.utils

from .errors import DeadlineExceededError, InvalidResponseError, ServiceUnavailableError
from .retry import Deadline

DEFAULT_MAX_BODY_BYTES = 256 * 1024


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
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc, service, origin, deadline, read_timeout) from None
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
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _oversized(service, self.max_body_bytes, response.status_code)
            if deadline.expired():
                raise DeadlineExceededError(
                    f"the lookup's deadline of {deadline.seconds:g}s passed while reading "
                    f"the answer of {service}",
                    service=service,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _network_error(
        exc: requests.exceptions.RequestException,
        service: str,
        origin: str,
        deadline: Deadline,
        read_timeout: float,
    ) -> ServiceUnavailableError:
        if isinstance(exc, requests.exceptions.Timeout) and deadline.expired():
            return DeadlineExceededError(
                f"the lookup's deadline of {deadline.seconds:g}s passed waiting for {service} "
                f"at {origin}",
                service=service,
                hint="raise the timeout, or check the network path to the service",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            reason = "connecting timed out"
        elif isinstance(exc, requests.exceptions.ReadTimeout):
            reason = f"no answer within {read_timeout:g}s"
        elif isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError):
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
