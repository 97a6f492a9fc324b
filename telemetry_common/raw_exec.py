"""Run a MULTI/EXEC of pre-built commands on one pooled connection, packed and read in bulk.

redis-py packs each command through several Python calls and reads a transaction's replies
one call per command; for a large snapshot that costs more than Redis's own work. Here the
commands are packed by one comprehension, the expected ``+OK`` and ``+QUEUED`` replies are
checked as one byte comparison, and only the EXEC reply is parsed, by hiredis.
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
    return stream(client, [b"".join(map(pack, commands))], len(commands))


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
        data = sock.recv(1 << 20)
    except TimeoutError:
        raise redis.TimeoutError("timeout reading the transaction's replies") from None
    except OSError as exc:
        raise redis.ConnectionError(f"error reading the transaction's replies: {exc}") from None
    if not data:
        raise redis.ConnectionError("connection closed while reading the transaction's replies")
    return data


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
    if isinstance(reply, hiredis.ReplyError):
        raise TransactionError(str(reply))
    if not isinstance(reply, list):
        raise TransactionError(f"unexpected EXEC reply: {reply!r}")
    if hiredis.ReplyError in set(map(type, reply)):
        raise TransactionError(next(str(i) for i in reply if isinstance(i, hiredis.ReplyError)))
    return reply


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
