"""Run a MULTI/EXEC of pre-built commands on one pooled connection, packed and read in bulk.

redis-py packs each command through several Python calls and reads a transaction's replies
one call per command. That costs more than Redis's own work both for a snapshot of 200,000
commands and, relative to its size, for the API's three-command reads. Here a small
transaction is one send and one hiredis parse (``execute``); a large one is streamed block by
block, its ``+QUEUED`` replies checked as one byte comparison, and only EXEC's reply parsed
(``stream``).

The replies are read from the connection's socket, ``Connection._sock``, a private attribute
of redis-py. The gain is worth it (``python -m benchmarks.shortcut_bench``, four runs on 2
shared cores): GetMetric's read took 2.0-2.7x less time this way than through a redis-py
transaction pipeline (52.7 us against 107.8 us in a quiet moment), a snapshot write of
10,000 switches x 8 metrics 4.5-6.3x less (225 ms against 1,015 ms). So the shortcut lives here
only, ``supports`` refuses every client it cannot serve (callers then use a pipeline),
pyproject.toml bounds redis-py to the versions tested, and
tests/unit/test_library_internals.py fails by name when the attribute is gone.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

import hiredis
import redis

MULTI = b"*1\r\n$5\r\nMULTI\r\n"
EXEC = b"*1\r\n$4\r\nEXEC\r\n"
QUEUED = b"+QUEUED\r\n"


class TransactionError(redis.ResponseError):
    """Redis refused a command of the transaction; nothing was written."""


def pack(args: tuple[bytes, ...]) -> bytes:
    """Return one command in the protocol's multibulk form."""
    return b"*%d\r\n" % len(args) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in args])


# The pools and connections whose sockets this module may read directly: plain TCP or Unix
# sockets. Not TLS (its own buffering), not a cache proxy, not a cluster or Sentinel client.
_POOLS = (redis.ConnectionPool, redis.BlockingConnectionPool)
_CONNECTIONS = (redis.Connection, redis.UnixDomainSocketConnection)


def supports(client: Any) -> bool:
    """Return whether ``client`` is a plain redis.Redis on a plain pool of socket connections.

    Anything else (a subclass, Redis Cluster, a Sentinel pool, TLS, client-side caching, whose
    pooled connections are proxies without a socket) is refused: use a pipeline for it.
    """
    if type(client) is not redis.Redis:
        return False
    pool = client.connection_pool
    return (
        type(pool) in _POOLS
        and pool.connection_class in _CONNECTIONS
        and getattr(pool, "cache", None) is None
        and hasattr(pool.connection_class, "send_packed_command")
    )


def execute(client: redis.Redis, payload: bytes, count: int) -> list[Any]:
    """Send one packed MULTI ... EXEC of ``count`` commands in one write; return EXEC's results."""
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command([payload])
        return _read_all(_socket_of(conn), count)
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def stream(client: redis.Redis, blocks: Iterable[bytes], count: int) -> list[Any]:
    """Send MULTI, the packed ``blocks`` (``count`` commands) and EXEC; return EXEC's results.

    Blocks are sent as they are produced, so Redis queues one while the next is packed. If
    anything fails before EXEC, the connection is closed, and Redis drops the unexecuted
    transaction with it: nothing is written.
    """
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command([MULTI])
        for block in blocks:
            conn.send_packed_command([block], check_health=False)
        conn.send_packed_command([EXEC], check_health=False)
        return _read(_socket_of(conn), count)
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def _socket_of(conn: Any) -> socket.socket:
    """Return the connected socket of ``conn`` (redis-py's private ``_sock``)."""
    sock: socket.socket | None = getattr(conn, "_sock", None)
    if sock is None:
        raise redis.ConnectionError("the connection has no socket to read the replies from")
    return sock


def _recv(sock: socket.socket) -> bytes:
    try:
        data = sock.recv(1 << 16)
    except TimeoutError:
        raise redis.TimeoutError("timeout reading the transaction's replies") from None
    except OSError as exc:
        raise redis.ConnectionError(f"error reading the transaction's replies: {exc}") from None
    if not data:
        raise redis.ConnectionError("connection closed while reading the transaction's replies")
    return data


def _read_all(sock: socket.socket, count: int) -> list[Any]:
    """Read MULTI's, the commands' and EXEC's replies; return EXEC's, checked for errors.

    A command Redis refused to queue makes EXEC itself an error (EXECABORT).
    """
    reader = hiredis.Reader()
    replies: list[Any] = []
    while len(replies) < count + 2:
        reader.feed(_recv(sock))
        reply = reader.gets()
        while reply is not False:
            replies.append(reply)
            reply = reader.gets()
    return _checked(replies[-1])


def _checked(reply: Any) -> list[Any]:
    if isinstance(reply, hiredis.ReplyError):
        raise TransactionError(str(reply))
    if reply is None:  # EXEC refused: a key the connection watched changed
        raise redis.WatchError("a watched key changed: the transaction was discarded")
    if not isinstance(reply, list):
        raise TransactionError(f"unexpected EXEC reply: {reply!r}")
    if hiredis.ReplyError in set(map(type, reply)):
        raise TransactionError(next(str(i) for i in reply if isinstance(i, hiredis.ReplyError)))
    return reply


def _read(sock: socket.socket, count: int) -> list[Any]:
    expected = b"+OK\r\n" + QUEUED * count
    buffer = bytearray()
    while len(buffer) < len(expected):
        buffer += _recv(sock)
        if not expected.startswith(bytes(buffer[: len(expected)])):
            _raise_first_error(buffer, sock, count)
    reader = hiredis.Reader()
    reader.feed(bytes(buffer[len(expected) :]))
    reply = reader.gets()
    while reply is False:
        reader.feed(_recv(sock))
        reply = reader.gets()
    return _checked(reply)


def _raise_first_error(buffer: bytearray, sock: socket.socket, count: int) -> None:
    """Read every reply of the failed transaction and raise the first error among them."""
    reader = hiredis.Reader()
    reader.feed(bytes(buffer))
    first: str | None = None
    for _ in range(count + 2):  # MULTI, the commands, EXEC
        reply = reader.gets()
        while reply is False:
            reader.feed(_recv(sock))
            reply = reader.gets()
        if isinstance(reply, hiredis.ReplyError) and first is None:
            first = str(reply)
    raise TransactionError(first or "unexpected reply in the transaction")


def stream_on(conn: Any, blocks: Iterable[bytes], count: int) -> list[Any]:
    """Stream MULTI, ``blocks`` and EXEC on ``conn``, a connection the caller lent and keeps.

    Raise redis.WatchError when a key the connection watched changed: nothing was written.
    """
    conn.send_packed_command([MULTI])
    for block in blocks:
        conn.send_packed_command([block], check_health=False)
    conn.send_packed_command([EXEC], check_health=False)
    return _read(_socket_of(conn), count)
