"""Run a MULTI/EXEC of pre-built commands on one pooled connection, packed and read in bulk.

redis-py packs each command through several Python calls and reads a transaction's replies
one call per command. That costs more than Redis's own work both for a snapshot of 200,000
commands and, relative to its size, for the API's three-command reads. Here a small
transaction is one send and one hiredis parse (``execute``); a large one is streamed block by
block, its ``+QUEUED`` replies checked as one byte comparison, and only EXEC's reply parsed
(``stream``).
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


def supports(client: Any) -> bool:
    """Return whether ``client`` is a plain redis-py client whose connections have sockets."""
    pool = getattr(client, "connection_pool", None)
    return (
        type(client) is redis.Redis
        and pool is not None
        and hasattr(pool.connection_class, "_connect")
        and hasattr(pool.connection_class, "send_packed_command")
    )


def transaction(client: redis.Redis, commands: list[tuple[bytes, ...]]) -> list[Any]:
    """Run ``commands`` in one MULTI/EXEC on one connection; return EXEC's results."""
    return execute(client, b"".join([MULTI, *map(pack, commands), EXEC]), len(commands))


def execute(client: redis.Redis, payload: bytes, count: int) -> list[Any]:
    """Send one packed MULTI ... EXEC of ``count`` commands in one write; return EXEC's results."""
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    try:
        conn.send_packed_command([payload])
        return _read_all(conn._sock, count)
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
        return _read(conn._sock, count)
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


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
    return _read(conn._sock, count)
