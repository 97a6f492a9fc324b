"""A small TCP proxy for tests that puts faults between a client and a real server.

The ideas are toxiproxy's: latency, reset, stall (data held back), bandwidth, and a limit on the
bytes a connection may carry before it is closed (which cuts an HTTP answer mid-body). Faults
apply to the server-to-client direction, take effect on open connections at the next chunk,
and can be changed at any time with ``set``. Every wait is bounded by the proxy's own poll.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

POLL = 0.05  # seconds a blocked socket call waits before the stop flag is looked at again
CHUNK = 16384


@dataclass(frozen=True)
class Faults:
    """What the proxy does to each connection; the defaults pass everything through."""

    latency: float = 0.0  # seconds before each chunk from the server is passed on
    reset: bool = False  # answer each new connection with a TCP reset
    stall: bool = False  # pass nothing from the server on while set (the client times out)
    bandwidth: int | None = None  # bytes per second from the server
    limit_bytes: int | None = None  # close a connection after this many bytes from the server


class FaultProxy:
    """Listen on a loopback port and forward each connection to ``upstream`` with faults."""

    def __init__(self, upstream: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.accepted = 0
        self.cut = 0  # connections closed by limit_bytes
        self.resets = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(POLL)
        self.host, self.port = host, self._listener.getsockname()[1]
        self._spawn(self._accept_loop)

    def set(self, **changes: Any) -> None:
        """Replace some faults, e.g. ``set(latency=2.0)``; the rest stay as they were."""
        self.faults = replace(self.faults, **changes)

    def clear(self) -> None:
        """Remove every fault."""
        self.faults = Faults()

    def close(self) -> None:
        """Stop accepting, close every connection and wait (bounded) for the threads."""
        self._stop.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            with self._lock:
                self.accepted += 1
            if self.faults.reset:
                with self._lock:
                    self.resets += 1
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # linger 0: the peer sees RST, not FIN
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                _close(client)  # the upstream is down: so is the proxy, for this client
                continue
            for sock in (client, server):
                sock.settimeout(POLL)
                with self._lock:
                    self._sockets.add(sock)
            self._spawn(self._pump, client, server, False)
            self._spawn(self._pump, server, client, True)

    def _pump(self, source: socket.socket, sink: socket.socket, downstream: bool) -> None:
        """Copy ``source`` to ``sink`` until either closes; apply faults when ``downstream``."""
        sent = 0
        try:
            while not self._stop.is_set():
                faults = self.faults
                if downstream and faults.stall:
                    time.sleep(POLL)
                    continue
                try:
                    data = source.recv(CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    break
                if downstream:
                    data, cut = self._shape(data, sent, faults)
                    sent += len(data)
                    if cut:
                        sink.sendall(data)
                        with self._lock:
                            self.cut += 1
                        break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
                with self._lock:
                    self._sockets.discard(sock)

    def _shape(self, data: bytes, sent: int, faults: Faults) -> tuple[bytes, bool]:
        """Delay and trim one chunk from the server; return it and whether to close after it."""
        if faults.latency:
            self._stop.wait(faults.latency)
        if faults.bandwidth:
            self._stop.wait(len(data) / faults.bandwidth)
        if faults.limit_bytes is not None and sent + len(data) >= faults.limit_bytes:
            return data[: max(0, faults.limit_bytes - sent)], True
        return data, False


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
