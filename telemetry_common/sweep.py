"""Delete the data of generations that can no longer be read, in small steps.

A generation is readable while its meta hash lives; its data keys are given a few seconds more
(writer.SPREAD_MS), so that, left alone, Redis expires them gradually. After each write the
writer sweeps instead: every recent generation whose meta hash is gone but whose switch list
is still there has its keys unlinked, SWEEP_BATCH keys a command. Memory then holds about
three generations at the default interval and TTL (the one being written, the current one,
the previous one), and Redis's expiry cycle never has a whole generation to delete at once.
"""

from __future__ import annotations

import logging

import redis

from telemetry_common.keys import Keys

logger = logging.getLogger(__name__)

LOOK_BACK = 8  # generations before the one just written that are checked
SWEEP_BATCH = 1_000  # keys an UNLINK
SLICE = 20_000  # list items an LRANGE


def sweep(client: redis.Redis, keys: Keys, generation: int) -> int:
    """Unlink the data of unreadable generations before ``generation``; return how many."""
    candidates = list(range(generation - 1, max(generation - 1 - LOOK_BACK, 0), -1))
    pipe = client.pipeline(transaction=False)
    for number in candidates:
        pipe.exists(keys.at(number).meta)
        pipe.llen(keys.at(number).switches)
    found = pipe.execute()
    swept = 0
    for index, number in enumerate(candidates):
        meta_alive, switches = found[2 * index], int(found[2 * index + 1])
        if meta_alive or not switches:
            continue
        _unlink_generation(client, keys, number, switches)
        swept += 1
    return swept


def _unlink_generation(client: redis.Redis, keys: Keys, number: int, count: int) -> None:
    at = keys.at(number)
    pipe = client.pipeline(transaction=False)
    pipe.lrange(at.metrics, 0, -1)
    for start in range(0, count, SLICE):
        pipe.lrange(at.switches, start, start + SLICE - 1)
    metrics, *parts = pipe.execute()
    names = [at.metric(name.decode()) for name in metrics]
    names += [
        at.order(name.decode(), descending) for name in metrics for descending in (False, True)
    ]
    names += [at.switch(switch.decode()) for part in parts for switch in part]
    for start in range(0, len(names), SWEEP_BATCH):
        client.unlink(*names[start : start + SWEEP_BATCH])
    client.unlink(at.switches, at.metrics)  # last: a sweep cut short is found again
    logger.debug("swept generation %s: %s keys", number, len(names) + 2)
