"""Options of telemetry bench: defaults, the mix, rates, and refusals that name the option."""

from __future__ import annotations

import argparse

import pytest

from telemetry_common.settings import ConfigError
from telemetry_stack.bench import command as bench
from telemetry_stack.bench.options import parse_mix, parse_rate, resolve


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_load_the_local_api_for_ten_seconds() -> None:
    settings = resolve(parse("--processes", "2"))
    assert settings.url == "http://127.0.0.1:8080"
    assert (settings.concurrency, settings.processes) == (32, 2)
    assert (settings.duration, settings.requests, settings.warmup) == (10.0, None, 1.0)
    assert settings.mix == (("getmetric", 8.0), ("listmetrics", 2.0))
    assert settings.list_size == 3
    assert settings.max_error_rate is None and settings.max_p99_ms is None


def test_a_request_count_alone_means_no_time_limit_and_processes_never_exceed_connections() -> None:
    settings = resolve(parse("--requests", "500", "--concurrency", "2", "--processes", "8"))
    assert (settings.requests, settings.duration, settings.processes) == (500, None, 2)


def test_thresholds_and_given_names() -> None:
    settings = resolve(
        parse("--max-error-rate", "2.5%", "--max-p99-ms", "40", "--switch-ids", "a,b")
    )
    assert settings.max_error_rate == pytest.approx(0.025)
    assert settings.max_p99_ms == 40.0
    assert settings.switch_ids == ("a", "b") and settings.metric_names == ()


def test_mix_weights() -> None:
    assert parse_mix("GetMetric=1, listmetrics=0") == (("getmetric", 1.0), ("listmetrics", 0.0))
    assert parse_mix("listmetrics=3") == (("listmetrics", 3.0),)


@pytest.mark.parametrize(
    "text", ["getmetric", "foo=1", "getmetric=-1", "getmetric=0", "getmetric=x"]
)
def test_a_bad_mix_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--mix"):
        parse_mix(text)


def test_rates_as_fractions_or_percentages() -> None:
    assert parse_rate("0.01") == 0.01
    assert parse_rate("1%") == pytest.approx(0.01)
    for bad in ("2", "-1%", "lots"):
        with pytest.raises(ConfigError, match="--max-error-rate"):
            parse_rate(bad)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--url", "ftp://host"], "--url"),
        (["--url", "localhost:8080"], "--url"),
        (["--concurrency", "0"], "--concurrency"),
        (["--duration", "soon"], "--duration"),
        (["--requests", "1.5"], "--requests"),
        (["--list-size", "0"], "--list-size"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_a_bad_option_is_named(argv: list[str], option: str) -> None:
    with pytest.raises(ConfigError, match=option):
        resolve(parse(*argv))
