"""Small tables and snapshot dumps shared by the Redis-layout tests."""

from __future__ import annotations

from typing import Any

from telemetry_common.keys import Generation, Keys
from telemetry_common.snapshot import Table


def table(rows: dict[str, list[str]], metrics: list[str]) -> Table:
    """Return a Table from ``{switch: [value text, ...]}``."""
    return Table.from_rows(
        list(rows), metrics, [[value.encode() for value in values] for values in rows.values()]
    )


def dump(client: Any, keys: Keys) -> dict[str, Any]:
    """Return every key under the prefix: type, content, and whether it expires.

    Times and snapshot ids are dropped (from the fence and every generation's meta hash) and
    TTLs reduced to a flag, so dumps taken apart compare
    equal; so is the fence's count of tokens issued, which every refresh advances when it starts.
    """
    meta_fields = ("written_at", "fetched_at", "source_time", "snapshot")
    fence_fields = ("issued", "written_at", "source_time", "snapshot", "expires_at")
    names = sorted(client.scan_iter(match=keys.prefix + ":*", count=10_000))
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.type(name)
    kinds = [kind.decode() for kind in pipe.execute()]
    readers = {"hash": pipe.hgetall, "list": lambda n: pipe.lrange(n, 0, -1), "string": pipe.get}
    for name, kind in zip(names, kinds, strict=True):
        readers[kind](name)
        pipe.ttl(name)
    replies = pipe.execute()
    result: dict[str, Any] = {}
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        content, ttl = replies[2 * index], replies[2 * index + 1]
        if kind == "hash":
            content = {k.decode(): v.decode() for k, v in content.items()}
            volatile = fence_fields if name.decode() == keys.fence else ()
            if name.decode().endswith(keys.at("").meta.removeprefix(keys.at("").base)):
                volatile = meta_fields
            for field in volatile:
                content.pop(field, None)
        elif kind == "list":
            content = [item.decode() for item in content]
        else:
            content = content.decode()
        result[name.decode()] = (kind, content, "expires" if ttl > 0 else ttl)
    return result


def current(client: Any, keys: Keys) -> Generation | None:
    """Return the key names of the generation the pointer names, or None without one."""
    generation = client.get(keys.current)
    return None if generation is None else keys.at(generation.decode())


def meta_of(client: Any, keys: Keys, *fields: str) -> list[Any]:
    """Return fields of the current generation's meta hash (each None when there is none)."""
    at = current(client, keys)
    return [None] * len(fields) if at is None else list(client.hmget(at.meta, list(fields)))


def meta_field(client: Any, keys: Keys, field: str) -> Any:
    """Return one field of the current generation's meta hash, or None."""
    return meta_of(client, keys, field)[0]
