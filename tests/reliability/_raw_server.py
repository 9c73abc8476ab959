"""A raw-socket HTTP server on 127.0.0.1 for answers the emulator cannot give.

``RawServer(respond)`` reads each request (head and body), logs the head, then hands the socket
to ``respond(sock, head)``, which writes whatever bytes the test needs: broken framing, bytes
trickled forever, secrets quoted back. ``close()`` shuts every open socket, so a respond loop
that never ends stops with the test.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Respond = Callable[[socket.socket, bytes], None]


class RawServer:
    """Answers every request on 127.0.0.1 with ``respond(sock, request)``; logs the requests."""

    def __init__(self, respond: Respond) -> None:
        self._respond = respond
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self._listener.getsockname()[1]
        self.heads: list[bytes] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stopped(self) -> bool:
        """True once ``close`` was called: endless respond loops check it."""
        return self._stopped.is_set()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(65536)
                if not data:
                    return
                head += data
            # Read the request body too: closing with unread bytes would reset the connection.
            header_block, _, received = head.partition(b"\r\n\r\n")
            length = 0
            for line in header_block.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(received) < length:
                data = sock.recv(65536)
                if not data:
                    return
                received += data
            request = header_block + b"\r\n\r\n" + received
            with self._lock:
                self.heads.append(request)
            self._respond(sock, request)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            sock.close()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    """A status line and headers (``Content_Type=`` becomes ``Content-Type:``), blank line."""
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(body: bytes, status: str = "200 OK", **headers: str | int) -> Respond:
    """A complete answer with Content-Length."""
    data = head(status, Content_Type="application/json", Content_Length=len(body), **headers)

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(data + body)

    return respond


def raw_bytes(data: bytes) -> Respond:
    """Exactly ``data``, then close."""

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(data)

    return respond
