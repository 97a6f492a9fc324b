"""Options of ``telemetry bench``, checked at once into one frozen settings object."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from telemetry_common.settings import ConfigError
from telemetry_stack.bench.answers import GET_METRIC, KINDS, LIST_METRICS

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_DURATION = 10.0
MAX_DURATION = 24 * 3600.0
MAX_REQUESTS = 10**9
MAX_CONCURRENCY = 10_000


@dataclass(frozen=True)
class BenchSettings:
    """What to load, how hard, for how long, and what counts as broken."""

    url: str = DEFAULT_URL
    concurrency: int = 32
    processes: int = 1
    duration: float | None = DEFAULT_DURATION  # None: until ``requests`` are done
    requests: int | None = None
    warmup: float = 1.0
    timeout: float = 5.0
    mix: tuple[tuple[str, float], ...] = ((GET_METRIC, 8.0), (LIST_METRICS, 2.0))
    list_size: int = 3
    seed: int | None = None
    switch_ids: tuple[str, ...] = ()  # given instead of discovered
    metric_names: tuple[str, ...] = ()
    max_error_rate: float | None = None
    max_p99_ms: float | None = None


def parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    """Return ``getmetric=8,listmetrics=2`` as ((kind, weight), ...); fail on a bad part."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        name = name.strip().lower()
        if not sep or name not in KINDS:
            raise ConfigError(f"--mix={text!r}: expected KIND=WEIGHT,... with KIND in {KINDS}")
        try:
            weight = float(value)
        except ValueError:
            raise ConfigError(f"--mix={text!r}: weight {value!r} is not a number") from None
        if not weight >= 0 or weight == float("inf"):
            raise ConfigError(f"--mix={text!r}: weights must be finite and not negative")
        weights[name] = weight
    if sum(weights.values()) <= 0:
        raise ConfigError(f"--mix={text!r}: at least one weight must be positive")
    return tuple(weights.items())


def parse_rate(text: str) -> float:
    """Return an error rate given as a fraction (0.01) or a percentage (1%)."""
    try:
        rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ConfigError(
            f"--max-error-rate={text!r}: expected a fraction or a percentage"
        ) from None
    if not 0 <= rate <= 1:
        raise ConfigError(f"--max-error-rate={text!r}: must lie within 0..1 (or 0%..100%)")
    return rate


def _number(option: str, text: str | None, kind: type, low: float, high: float) -> float | None:
    if text is None:
        return None
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{option}={text!r}: expected a {kind.__name__} number") from None
    if not low <= value <= high:
        raise ConfigError(f"{option}={text!r}: must lie within {low:g}..{high:g}")
    return float(value)


def _value(option: str, text: str | None, kind: type, low: float, high: float) -> float:
    value = _number(option, text, kind, low, high)
    if value is None:
        raise ConfigError(f"{option}: a value is needed")
    return value


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(part for part in (text or "").split(",") if part)


def resolve(args: argparse.Namespace) -> BenchSettings:
    """Return the settings from the parsed options; fail with the option and the rule."""
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url={args.url!r}: expected http://HOST[:PORT][/BASE-PATH]")
    concurrency = int(_value("--concurrency", args.concurrency, int, 1, MAX_CONCURRENCY))
    cores = os.cpu_count() or 1
    processes = _number("--processes", args.processes, int, 1, 256)
    requests = _number("--requests", args.requests, int, 1, MAX_REQUESTS)
    duration = _number("--duration", args.duration, float, 0.1, MAX_DURATION)
    if duration is None and requests is None:
        duration = DEFAULT_DURATION
    return BenchSettings(
        url=args.url.rstrip("/"),
        concurrency=concurrency,
        processes=min(concurrency, int(processes or cores)),
        duration=duration,
        requests=None if requests is None else int(requests),
        warmup=_value("--warmup", args.warmup, float, 0, 3600),
        timeout=_value("--timeout", args.timeout, float, 0.01, 600),
        mix=parse_mix(args.mix),
        list_size=int(_value("--list-size", args.list_size, int, 1, 1000)),
        seed=None if args.seed is None else int(_value("--seed", args.seed, int, 0, 2**31)),
        switch_ids=_names(args.switch_ids),
        metric_names=_names(args.metric_names),
        max_error_rate=None if args.max_error_rate is None else parse_rate(args.max_error_rate),
        max_p99_ms=_number("--max-p99-ms", args.max_p99_ms, float, 0, 3_600_000),
    )
