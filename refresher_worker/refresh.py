"""One refresh: conditional fetch, complete validation, one atomic write, and its record.

Nothing is written unless a whole valid table arrived: a failure leaves the last good snapshot
in place until its TTL, and is recorded in the status hash and the log instead. The refresh
takes its fencing token before it fetches, so a refresh that was paused anywhere (fetch,
parse, write) and resumes after a later one has written is fenced: it writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from refresher_worker.fetch import Fetched, NotModified, SourceError, fetch_counters
from refresher_worker.parser import CsvError, parse_counters
from refresher_worker.settings import RefresherSettings
from refresher_worker.status import Outcome, record
from telemetry_common.fence import Fenced, issue_token
from telemetry_common.keys import Keys
from telemetry_common.reader import NoSnapshot, read_info
from telemetry_common.snapshot import SourceInfo
from telemetry_common.writer import write_snapshot

logger = logging.getLogger(__name__)

Fetch = Callable[..., Fetched | NotModified]


def live_etag(client: redis.Redis, keys: Keys) -> str | None:
    """Return the source ETag of the live snapshot, or None when there is no snapshot."""
    try:
        return read_info(client, keys).source_etag or None
    except NoSnapshot:
        return None


def refresh_once(
    client: redis.Redis,
    keys: Keys,
    settings: RefresherSettings,
    *,
    worker: str = "",
    fetch: Fetch = fetch_counters,
) -> Outcome:
    """Fetch, validate and write the table once; record and return what happened.

    Source and CSV failures are recorded, not raised; a Redis error propagates (there is
    nowhere to record it).
    """
    started = time.monotonic()
    url = settings.source_url
    token = issue_token(client, keys)
    etag = live_etag(client, keys)
    try:
        answer = fetch(
            settings.source_url,
            etag=etag,
            timeout=settings.fetch_timeout,
            max_bytes=settings.max_body_bytes,
        )
        if isinstance(answer, NotModified):
            outcome = Outcome("unchanged", time.monotonic() - started)
            record(client, keys, outcome, worker, source_url=url)
            logger.debug("source unchanged (ETag %s): nothing written", etag)
            return outcome
        table = parse_counters(answer.body, settings.max_body_bytes)
    except SourceError as exc:
        return _failed(client, keys, worker, started, exc.kind, str(exc), url)
    except CsvError as exc:
        message = f"invalid CSV from {url}: {exc}"
        return _failed(client, keys, worker, started, "invalid_csv", message, url)
    except Exception as exc:  # a parser bug must not let a body through, nor kill the job
        logger.exception("the CSV parser failed unexpectedly")
        message = f"invalid CSV from {url}: parser error {exc!r}"
        return _failed(client, keys, worker, started, "invalid_csv", message, url)
    source = SourceInfo(answer.etag, answer.tick, answer.tick_time, answer.fetched_at)
    try:
        generation = write_snapshot(
            client, keys, table, ttl=settings.ttl, source=source, token=token
        )
    except Fenced as fenced:
        return _fenced(client, keys, worker, started, fenced, url)
    outcome = Outcome(
        "written",
        time.monotonic() - started,
        generation=generation,
        rows=len(table.switches),
        columns=len(table.metrics),
        source_tick=answer.tick,
    )
    record(client, keys, outcome, worker, source_url=url)
    logger.debug(
        "wrote generation %s: %s switches x %s metrics (tick %s) in %.1f ms",
        generation,
        outcome.rows,
        outcome.columns,
        answer.tick or "?",
        outcome.duration * 1000,
    )
    return outcome


def _failed(
    client: redis.Redis,
    keys: Keys,
    worker: str,
    started: float,
    kind: str,
    message: str,
    url: str,
) -> Outcome:
    outcome = Outcome("failed", time.monotonic() - started, error_kind=kind, error=message)
    record(client, keys, outcome, worker, source_url=url)
    return outcome


def _fenced(
    client: redis.Redis, keys: Keys, worker: str, started: float, fenced: Fenced, url: str
) -> Outcome:
    outcome = Outcome(
        "fenced", time.monotonic() - started, error_kind=fenced.reason, error=str(fenced)
    )
    record(client, keys, outcome, worker, source_url=url)
    return outcome
