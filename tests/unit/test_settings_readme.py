"""The README's configuration table lists exactly the declared settings, with their defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api_service import cli as api_cli
from api_service import config as api_config
from generator_service import config as generator_config
from refresher_worker import settings as refresher_settings
from telemetry_common import logs, options
from telemetry_common.settings import ConfigError
from telemetry_stack.status import command as status_command
from telemetry_stack.up import settings as up_settings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<name>[A-Z][A-Z0-9_]*)` \| (?P<default>[^|]+) \|", re.MULTILINE)
DECLARED: list[options.Setting[Any]] = [
    *api_config.SETTINGS,
    api_cli.METRICS_DIR,
    *refresher_settings.SETTINGS,
    *generator_config.SETTINGS,
    *up_settings.SETTINGS,
    *status_command.SETTINGS,
    *logs.SETTINGS,
]


def readme_table() -> dict[str, str]:
    """Return variable -> default of the README's configuration table (backticks removed)."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {m["name"]: m["default"].replace("`", "").strip() for m in ROW.finditer(section)}
    assert rows, "no configuration table found in the README"
    return rows


def declared() -> dict[str, options.Setting[Any]]:
    """Return each declared variable once; fail if two declarations of one disagree."""
    found: dict[str, options.Setting[Any]] = {}
    for setting in DECLARED:
        other = found.setdefault(setting.variable, setting)
        assert (other.default, other.shown, other.rule) == (
            setting.default,
            setting.shown,
            setting.rule,
        ), f"{setting.variable} is declared twice, differently"
    return found


def test_the_readme_lists_every_declared_variable_and_no_other() -> None:
    assert sorted(readme_table()) == sorted(declared())


def test_the_readme_states_each_declared_default() -> None:
    table = readme_table()
    mismatched = {
        name: (table.get(name), setting.documented)
        for name, setting in declared().items()
        if table.get(name) != setting.documented
    }
    assert mismatched == {}, "README default, declared default"


@pytest.mark.parametrize("setting", DECLARED, ids=lambda s: f"{s.variable}{s.option}")
def test_every_declared_default_passes_its_own_rule(setting: options.Setting[Any]) -> None:
    assert setting.read({}) == setting.value == setting.rule(setting.variable, setting.default)


def test_a_variable_falls_back_in_order_and_a_bad_value_names_the_variable_it_came_from() -> None:
    assert options.REDIS_URL.read({"REDIS_URL": "redis://a/1"}) == "redis://a/1"
    both = {"REDIS_URL": "redis://a/1", "TELEMETRY_REDIS_URL": "redis://b/2"}
    assert options.REDIS_URL.read(both) == "redis://b/2"
    with pytest.raises(ConfigError, match=r"^REDIS_URL='a:1': expected a redis://"):
        options.REDIS_URL.read({"REDIS_URL": "a:1"})


@pytest.mark.parametrize("role", [api_config.ApiConfig, refresher_settings.RefresherSettings])
def test_the_api_and_the_refresher_refuse_the_same_bad_key_prefix(role: Any) -> None:
    with pytest.raises(ConfigError, match="TELEMETRY_KEY_PREFIX='has space': expected 1 to 64"):
        role.from_env({"TELEMETRY_KEY_PREFIX": "has space"})
    assert role.from_env({"TELEMETRY_KEY_PREFIX": "{telemetry}"}).key_prefix == "{telemetry}"
