"""Read what a snapshot write depends on under WATCH, then run the write on the same connection.

``watch`` sends WATCH on the fence hash and reads the fence and the snapshot's switch and
metric lists in one round trip. If another write commits before this one's EXEC, it changed
the fence, and Redis refuses the EXEC as a whole (redis.WatchError): nothing of it is
written. Plain redis-py clients stream the transaction on the watched connection
(raw_exec.stream_on); other clients (fakeredis, Redis Cluster) use a redis-py pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from telemetry_common import fence, raw_exec
from telemetry_common.keys import Keys

Command = tuple[bytes, ...]


class Transaction(Protocol):
    """The commands of one write, as tuples or packed in blocks."""

    def commands(self) -> list[Command]:
        """Return every command as an argument tuple."""
        ...

    def packed(self) -> tuple[int, Iterator[bytes]]:
        """Return the number of commands and their packed bytes, block by block."""
        ...


@dataclass
class Watched:
    """The state read under WATCH, and the means to run the write that depends on it."""

    fence: fence.Fence | None
    switches: list[str]
    metrics: list[str]
    _run: Any = field(repr=False)

    def execute(self, transaction: Transaction) -> list[Any]:
        """Run ``transaction`` in one MULTI/EXEC; raise redis.WatchError if the fence changed."""
        results: list[Any] = self._run(transaction)
        return results


def _reads(keys: Keys) -> list[Command]:
    fence_key = keys.fence.encode()
    return [
        (b"HMGET", fence_key, *fence.FIELDS),
        (b"LRANGE", keys.switches.encode(), b"0", b"-1"),
        (b"LRANGE", keys.metrics.encode(), b"0", b"-1"),
    ]


def _named(command: Command) -> tuple[Any, ...]:
    """Return ``command`` with its name as text, which RedisCluster requires."""
    return (command[0].decode(), *command[1:])


def _state(replies: list[Any], run: Any) -> Watched:
    values, switches, metrics = replies
    return Watched(
        fence.parse(list(values)),
        [item.decode() for item in switches],
        [item.decode() for item in metrics],
        run,
    )


@contextmanager
def watch(client: redis.Redis, keys: Keys) -> Iterator[Watched]:
    """Watch the fence, read the state a write depends on, and lend the watched connection."""
    if raw_exec.supports(client):
        with _raw(client, keys) as watched:
            yield watched
        return
    pipe: Any = client.pipeline(transaction=True)
    try:
        pipe.watch(keys.fence)
        replies = [pipe.execute_command(*_named(command)) for command in _reads(keys)]

        def run(transaction: Transaction) -> list[Any]:
            pipe.multi()
            for command in transaction.commands():
                pipe.execute_command(*_named(command))
            return list(pipe.execute())

        yield _state(replies, run)
    finally:
        pipe.reset()  # UNWATCH when the write was not run


@contextmanager
def _raw(client: redis.Redis, keys: Keys) -> Iterator[Watched]:
    pool = client.connection_pool
    conn: Any = pool.get_connection()
    executed = False

    def run(transaction: Transaction) -> list[Any]:
        nonlocal executed
        executed = True  # EXEC, refused or not, ends the WATCH
        count, blocks = transaction.packed()
        return raw_exec.stream_on(conn, blocks, count)

    try:
        reads = [(b"WATCH", keys.fence.encode()), *_reads(keys)]
        conn.send_packed_command([b"".join(map(raw_exec.pack, reads))])
        replies = [conn.read_response() for _ in reads][1:]
        yield _state(replies, run)
        if not executed:
            conn.send_packed_command([raw_exec.pack((b"UNWATCH",))])
            conn.read_response()
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
