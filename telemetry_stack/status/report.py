"""Read what Redis says about the system: the snapshot, the refreshers and the refresh queue.

Only reads, and only what ``telemetry status`` shows; the answer is a JSON-ready dict.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from telemetry_common.fence import read_fence
from telemetry_common.jobs import SERIALIZER, refresh_queue
from telemetry_common.keys import HANDOVER_JOB_PREFIX, REFRESH_JOB_ID, Keys
from telemetry_common.reader import NoSnapshot, read_info

SCAN_COUNT = 5000
RESULTS = ("written", "unchanged", "failed", "fenced")  # the status hash's refresh counters


def _text(value: Any) -> str | None:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _processes(client: redis.Redis, keys: Keys) -> list[dict[str, Any]]:
    names = sorted(_text(k) or "" for k in client.scan_iter(keys.heartbeat_pattern, SCAN_COUNT))
    beats = client.mget(names) if names else []
    found = []
    for name, beat in zip(names, beats, strict=True):
        if beat is not None:
            try:
                payload = json.loads(beat)
            except ValueError:
                payload = {}
            found.append({"name": name.removeprefix(keys.heartbeat("")), **payload})
    return found


def _queue(client: redis.Redis) -> dict[str, Any]:
    queue = refresh_queue(client)
    try:
        found = Job.fetch(REFRESH_JOB_ID, connection=client, serializer=SERIALIZER)
        job: str | None = found.get_status(refresh=False).value  # as fetched, once
    except NoSuchJobError:
        job = None
    # cleanup=False: rq's registry otherwise cleans up as it counts (it fails abandoned jobs,
    # which is the refreshers' business, and a read-only user may not write).
    queued = queue.get_job_ids()
    started = queue.started_job_registry.get_job_ids(cleanup=False)
    return {
        "name": queue.name,
        "queued": len(queued),
        "started": len(started),
        "workers": Worker.count(connection=client, queue=queue),
        "refresh_job": job,
        "handover_jobs": sorted({i for i in queued + started if i.startswith(HANDOVER_JOB_PREFIX)}),
    }


def collect(client: redis.Redis, keys: Keys, now: float | None = None) -> dict[str, Any]:
    """Return what Redis says about the snapshot, the refreshers and the queue."""
    now = time.time() if now is None else now
    try:
        info = read_info(client, keys)
        snapshot: dict[str, Any] | None = {
            "generation": info.generation,
            "age": round(info.age(now), 3),
            "expires_in": info.expires_in,
            "written_at": info.written_at,
            "switches": info.switch_count,
            "metrics": info.metric_count,
            "snapshot": info.snapshot,
            "source_time": info.source_time,
        }
    except NoSnapshot:
        snapshot = None
    status = {_text(k): _text(v) for k, v in client.hgetall(keys.status).items()}
    refresher: dict[str, Any] = {
        "leader": _text(client.get(keys.leader)),
        "processes": _processes(client, keys),
        "state": status.get("state"),
        "last_outcome": status.get("last_outcome"),
        "refreshes": {r: int(status.get(f"refreshes_{r}") or 0) for r in RESULTS},
    }
    for what in ("success", "error", "fenced"):
        at = _number(status.get(f"last_{what}_at"))
        refresher[f"last_{what}_at"] = at
        refresher[f"last_{what}_ago"] = None if at is None else round(max(0.0, now - at), 3)
    refresher["last_error_kind"] = status.get("last_error_kind")
    refresher["last_error"] = status.get("last_error")
    refresher["last_fenced_reason"] = status.get("last_fenced_reason")
    refresher["last_fenced"] = status.get("last_fenced")
    queue = _queue(client)
    return {
        "fresh": snapshot is not None,
        "snapshot": snapshot,
        "refresher": refresher,
        "fence": _fence(client, keys),
        "queue": queue,
    }


def _fence(client: redis.Redis, keys: Keys) -> dict[str, Any]:
    """Return the fence: the last write's token, source time and snapshot, and tokens issued."""
    written, issued = read_fence(client, keys)
    fence: dict[str, Any] = {"issued": issued, "token": None, "source_time": None}
    if written is not None:
        fence |= {"token": written.token, "source_time": written.source_time}
        fence["snapshot"] = written.snapshot
    return fence
