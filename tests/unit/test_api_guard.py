"""Hostile names are refused with 400 or read only under the key prefix; nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import fakeredis
import pytest
from fakeredis._socket._base import BaseFakeSocket

from tests.helpers.api import make_app, put_snapshot

HOSTILE = [
    "*",
    "x:y",
    "../",
    "../../etc/passwd",
    "{telemetry}",
    "telemetry:meta",
    "secret",
    "%2A",
    "%252F",
    "a" * 128,
    "a" * 129,
    "a" * 5000,
    "\x00",
    "x\r\nFLUSHALL",
    "\x7f",
    "\x9b",
    "交换机",
    " ",
    "'; DROP",
]
READS = {b"GET", b"HMGET", b"PTTL", b"HGET", b"EXISTS", b"LRANGE", b"EVALSHA", b"SCRIPT"}


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[bytes]]]:
    """Record every command fakeredis receives."""
    seen: list[list[bytes]] = []
    original = BaseFakeSocket._process_command

    def record(self: BaseFakeSocket, fields: list[bytes]) -> None:
        seen.append(list(fields))
        original(self, fields)

    monkeypatch.setattr(BaseFakeSocket, "_process_command", record)
    yield seen


@pytest.mark.parametrize("prefix", ["telemetry", "{telemetry}"])
def test_hostile_names_are_refused_or_read_under_the_prefix(
    fake: fakeredis.FakeRedis, commands: list[list[bytes]], prefix: str
) -> None:
    put_snapshot(fake, prefix=prefix)
    fake.hset("secret", "Latency", "do-not-leak")
    before = sorted(fake.keys())
    client = make_app(fake, key_prefix=prefix).test_client()
    commands.clear()
    answers = []
    for name in HOSTILE:
        for raw in (name, quote(name, safe="")):  # as sent, and percent-encoded once more
            answers.append(
                client.get(
                    "/telemetry/GetMetric", query_string={"switch": raw, "metric": "Latency"}
                )
            )
            answers.append(
                client.get("/telemetry/GetMetric", query_string={"switch": "1", "metric": raw})
            )
            answers.append(
                client.get("/telemetry/ListMetrics", query_string={"metrics": f"Latency,{raw}"})
            )
        answers.append(client.get(f"/telemetry/GetMetric?switch={name}&metric=Latency"))
    assert {a.status_code for a in answers} <= {400, 404}
    assert not any(b"do-not-leak" in a.data for a in answers)
    assert not any(b"Traceback" in a.data for a in answers)
    assert commands, "the valid-looking names did reach Redis"
    for command in commands:
        name = command[0].upper()
        assert name in READS, command
        if name == b"SCRIPT":  # redis-py loads the read scripts once: they only read
            assert command[1].upper() in (b"LOAD", b"EXISTS"), command
        else:  # EVALSHA <sha> 1 <key>: the script's one key, the pointer
            assert command[3 if name == b"EVALSHA" else 1].startswith(prefix.encode() + b":")
    assert sorted(fake.keys()) == before


def test_a_long_or_controlled_switch_never_reaches_redis(
    fake: fakeredis.FakeRedis, commands: list[list[bytes]]
) -> None:
    put_snapshot(fake)
    client = make_app(fake).test_client()
    commands.clear()
    for raw in ("a" * 129, "x\ny", "\x00", "%0d%0a"):
        query = f"switch={raw}&metric=Latency" if raw.startswith("%") else None
        response = (
            client.get(f"/telemetry/GetMetric?{query}")
            if query
            else client.get(
                "/telemetry/GetMetric", query_string={"switch": raw, "metric": "Latency"}
            )
        )
        assert response.status_code == 400
    assert commands == []
