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
    assert keys.current == "telemetry:current"
    assert keys.at(7).switch("2") == "telemetry:7:switch:2"
    assert keys.at(7).metric("Latency") == "telemetry:7:metric:Latency"
    assert keys.at(7).switches == "telemetry:7:switches"
    assert keys.at(7).metrics == "telemetry:7:metrics"
    assert keys.at(7).meta == "telemetry:7:meta"
    assert keys.generation_base + "7" == keys.at(7).base
    assert keys.generation == "telemetry:generation"
    assert keys.fence == "telemetry:fence"
    assert keys.status == "telemetry:refresher:status"
    assert keys.leader == "telemetry:refresher:leader"


def test_a_cluster_prefix_puts_every_key_in_one_hash_slot() -> None:
    keys = Keys("{telemetry}")
    at = keys.at(12)
    names = [at.switch("7"), at.metric("CpuUsage"), at.switches, at.meta, keys.generation]
    names += [keys.current, keys.fence, keys.status, keys.leader]
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
