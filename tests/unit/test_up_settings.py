"""``telemetry up``'s settings: options on top of the variables, checked before anything starts."""

from __future__ import annotations

import argparse

import pytest

from telemetry_common.settings import ConfigError
from telemetry_stack.up.command import add_arguments
from telemetry_stack.up.settings import UpSettings, resolve, url_host


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_start_a_local_redis_and_use_the_services_default_ports() -> None:
    settings = resolve(parse(), {"TELEMETRY_API_WORKERS": "2"})
    assert settings.redis_url is None
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8080)
    assert (settings.generator_host, settings.generator_port) == ("127.0.0.1", 9001)
    assert (settings.switches, settings.refreshers, settings.api_workers) == (100, 1, 2)
    assert settings.ready_timeout == 30.0


def test_options_override_the_variables() -> None:
    env = {"TELEMETRY_SWITCHES": "5", "TELEMETRY_API_WORKERS": "3", "TELEMETRY_REFRESHERS": "1"}
    args = parse("--switches", "20", "--api-workers", "1", "--refreshers", "2")
    settings = resolve(args, env)
    assert (settings.switches, settings.api_workers, settings.refreshers) == (20, 1, 2)


def test_ports_replace_the_port_of_the_binds_and_zero_picks_a_free_one() -> None:
    env = {"TELEMETRY_API_BIND": "0.0.0.0:7000", "TELEMETRY_GENERATOR_BIND": "127.0.0.1:7001"}
    settings = resolve(parse("--api-port", "7100", "--generator-port", "0"), env)
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 7100)
    assert settings.generator_port not in (0, 7001)
    assert settings.api_url == "http://127.0.0.1:7100"


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--api-workers", "0"], {}, "--api-workers: TELEMETRY_API_WORKERS='0'"),
        ([], {"TELEMETRY_SWITCHES": "many"}, "TELEMETRY_SWITCHES='many'"),
        (["--refreshers", "x"], {}, "--refreshers: TELEMETRY_REFRESHERS='x'"),
        (["--api-port", "70000"], {}, "--api-port='70000'"),
        (["--ready-timeout", "0"], {}, "--ready-timeout: TELEMETRY_READY_TIMEOUT='0'"),
        ([], {"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379'"),
    ],
)
def test_a_bad_value_names_the_option_or_variable(
    argv: list[str], env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named.replace("'", ".").replace("(", r"\(")):
        resolve(parse(*argv), env)


def test_a_configured_redis_is_used_unless_the_embedded_one_is_forced() -> None:
    env = {"REDIS_URL": "redis://other:6380/2"}
    assert resolve(parse(), env).redis_url == "redis://other:6380/2"
    env["TELEMETRY_REDIS_URL"] = "redis://mine:6379/0"
    assert resolve(parse(), env).redis_url == "redis://mine:6379/0"
    forced = resolve(parse("--embedded-redis"), env)
    assert forced.redis_url is None and forced.embedded_redis


def test_children_get_the_stack_settings_through_their_environment() -> None:
    settings = UpSettings(api_port=8100, generator_port=9100, switches=7, api_workers=2)
    env = settings.child_env({"PATH": "/bin", "TELEMETRY_SOURCE_URL": "http://x/"}, "redis://h/0")
    assert env["PATH"] == "/bin"
    assert env["TELEMETRY_REDIS_URL"] == "redis://h/0"
    assert env["TELEMETRY_GENERATOR_BIND"] == "127.0.0.1:9100"
    assert env["TELEMETRY_SOURCE_URL"] == "http://127.0.0.1:9100/counters"
    assert env["TELEMETRY_API_BIND"] == "127.0.0.1:8100"
    assert (env["TELEMETRY_SWITCHES"], env["TELEMETRY_API_WORKERS"]) == ("7", "2")
    assert env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize(
    ("host", "seen"),
    [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::1", "[::1]"), ("10.0.0.5", "10.0.0.5")],
)
def test_url_host_reaches_a_wildcard_bind_on_loopback(host: str, seen: str) -> None:
    assert url_host(host) == seen
