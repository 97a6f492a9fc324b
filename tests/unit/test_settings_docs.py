"""docs/configuration.md lists exactly the declared settings, with their defaults; the README's
short table picks some of them, with the same defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api_service.config import SETTINGS as API
from api_service.config import ApiConfig
from generator_service.config import SETTINGS as GENERATOR
from refresher_worker.settings import SETTINGS as REFRESHER
from refresher_worker.settings import RefresherSettings
from telemetry_common.options import Setting
from telemetry_common.settings import ConfigError
from telemetry_common.variables import REDIS_URL, VARIABLES
from telemetry_stack.status.command import SETTINGS as STATUS
from telemetry_stack.up.settings import SETTINGS as UP

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"
ROW = re.compile(r"^\| `(?P<name>[A-Z][A-Z0-9_]*)` \| (?P<default>[^|]+) \|", re.MULTILINE)


def table_of(path: Path) -> dict[str, str]:
    """Return variable -> default of the configuration table in ``path`` (backticks removed)."""
    section = path.read_text().split("# Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {m["name"]: m["default"].replace("`", "").strip() for m in ROW.finditer(section)}
    assert rows, f"no configuration table found in {path.name}"
    return rows


def readme_table() -> dict[str, str]:
    """Return variable -> default of docs/configuration.md's table."""
    return table_of(TABLE)


def test_the_readmes_short_table_agrees_with_the_full_one() -> None:
    short = table_of(README)
    assert len(short) == 10 and short == {name: readme_table()[name] for name in short}


def declared() -> dict[str, Setting[Any]]:
    """Return each declared variable by name; fail if one is declared twice."""
    found = {setting.variable: setting for setting in VARIABLES}
    assert len(found) == len(VARIABLES), "a variable is declared twice"
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


def test_each_role_reads_declared_rows_only() -> None:
    for setting in (*API, *REFRESHER, *GENERATOR, *UP, *STATUS):
        row = declared()[setting.variable]
        assert (setting.default, setting.shown, setting.rule) == (row.default, row.shown, row.rule)


@pytest.mark.parametrize("setting", VARIABLES, ids=lambda s: s.variable)
def test_every_declared_default_passes_its_own_rule(setting: Setting[Any]) -> None:
    assert setting.read({}) == setting.value == setting.rule(setting.variable, setting.default)


def test_a_variable_falls_back_in_order_and_a_bad_value_names_the_variable_it_came_from() -> None:
    assert REDIS_URL.read({"REDIS_URL": "redis://a/1"}) == "redis://a/1"
    both = {"REDIS_URL": "redis://a/1", "TELEMETRY_REDIS_URL": "redis://b/2"}
    assert REDIS_URL.read(both) == "redis://b/2"
    with pytest.raises(ConfigError, match=r"^REDIS_URL='a:1': expected a redis://"):
        REDIS_URL.read({"REDIS_URL": "a:1"})


@pytest.mark.parametrize("role", [ApiConfig, RefresherSettings])
def test_the_api_and_the_refresher_refuse_the_same_bad_key_prefix(role: Any) -> None:
    with pytest.raises(ConfigError, match="TELEMETRY_KEY_PREFIX='has space': expected 1 to 64"):
        role.from_env({"TELEMETRY_KEY_PREFIX": "has space"})
    assert role.from_env({"TELEMETRY_KEY_PREFIX": "{telemetry}"}).key_prefix == "{telemetry}"
