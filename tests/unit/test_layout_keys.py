"""Key names come from one module, and nothing else in the code spells one."""

from __future__ import annotations

import re
from pathlib import Path

from telemetry_common.keys import DEFAULT_PREFIX, Keys

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "telemetry_common",
    "telemetry_stack",
    "generator_service",
    "refresher_worker",
    "api_service",
]


def test_key_names_under_the_default_prefix() -> None:
    keys = Keys()
    assert DEFAULT_PREFIX == "telemetry"
    assert keys.switch("2") == "telemetry:switch:2"
    assert keys.metric("Latency") == "telemetry:metric:Latency"
    assert keys.switches == "telemetry:switches"
    assert keys.metrics == "telemetry:metrics"
    assert keys.meta == "telemetry:meta"
    assert keys.generation == "telemetry:generation"
    assert keys.status == "telemetry:refresher:status"
    assert keys.leader == "telemetry:refresher:leader"


def test_a_cluster_prefix_puts_every_key_in_one_hash_slot() -> None:
    keys = Keys("{telemetry}")
    names = [keys.switch("7"), keys.metric("CpuUsage"), keys.switches, keys.meta, keys.generation]
    # Redis Cluster hashes only the part inside the first {...}: the same for every key.
    assert {re.search(r"\{(.+?)\}", name).group(1) for name in names} == {"telemetry"}  # type: ignore[union-attr]


def test_no_module_but_keys_py_spells_a_key() -> None:
    pattern = re.compile(
        r"""["'][^"'\s]*:(switch|metric|switches|metrics|meta|generation|refresher)\b"""
    )
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "keys.py" and path.parent.name == "telemetry_common":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
