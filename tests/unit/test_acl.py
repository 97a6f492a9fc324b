"""``telemetry redis-acl``: the ACL file's users, rights and hashed passwords."""

from __future__ import annotations

import hashlib

import pytest

from telemetry_stack.acl import passwords_from, render
from telemetry_stack.cli import main

ENV = {
    "TELEMETRY_REFRESHER_PASSWORD": "refresher secret",
    "TELEMETRY_API_PASSWORD": "api-secret",
    "TELEMETRY_READER_PASSWORD": "reader#secret",
}


def users(text: str) -> dict[str, str]:
    return {line.split()[1]: line for line in text.splitlines()}


def test_each_user_has_its_keys_and_only_the_hash_of_its_password() -> None:
    text = render("telemetry", passwords_from(ENV))
    found = users(text)
    assert found["default"] == "user default off"
    assert sorted(found) == ["default", "telemetry-api", "telemetry-reader", "telemetry-refresher"]
    for user, variable in (
        ("telemetry-refresher", "TELEMETRY_REFRESHER_PASSWORD"),
        ("telemetry-api", "TELEMETRY_API_PASSWORD"),
        ("telemetry-reader", "TELEMETRY_READER_PASSWORD"),
    ):
        digest = hashlib.sha256(ENV[variable].encode()).hexdigest()
        assert f" on #{digest} " in found[user]
        assert ENV[variable] not in text
    assert " ~telemetry:* ~rq:* &rq:* " in found["telemetry-refresher"]
    assert found["telemetry-api"].endswith(" (%W~telemetry:refresh:request +set)")
    assert "rq:" not in found["telemetry-api"]
    assert " ~telemetry:* %R~rq:* " in found["telemetry-reader"]
    for line in found.values():
        assert " +@write" not in line or line.startswith("user telemetry-refresher ")


def test_a_prefix_is_matched_literally() -> None:
    found = users(render("{tele*m}", passwords_from(ENV)))
    assert " ~{tele\\*m}:* " in found["telemetry-refresher"]
    with pytest.raises(ValueError, match="the key prefix 'a b' cannot be used in an ACL"):
        render("a b", passwords_from(ENV))


def test_the_command_prints_the_file_and_names_a_missing_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert main(["redis-acl", "--key-prefix", "lab"]) == 0
    assert " ~lab:* ~rq:* " in capsys.readouterr().out
    monkeypatch.delenv("TELEMETRY_API_PASSWORD")
    assert main(["redis-acl"]) == 2
    assert capsys.readouterr().err == (
        "telemetry redis-acl: configuration error: set TELEMETRY_API_PASSWORD: each user needs "
        "a password\n"
    )


def test_replica_and_sentinel_users_are_written_when_their_password_is_set() -> None:
    assert "telemetry-replica" not in render("telemetry", passwords_from(ENV))
    env = ENV | {"TELEMETRY_REPLICA_PASSWORD": "rep", "TELEMETRY_SENTINEL_PASSWORD": "sen"}
    found = users(render("telemetry", passwords_from(env)))
    digest = hashlib.sha256(b"rep").hexdigest()
    assert found["telemetry-replica"] == (
        f"user telemetry-replica on #{digest} resetkeys resetchannels -@all +psync +replconf +ping"
    )
    assert " allchannels +multi +slaveof " in found["telemetry-sentinel"]
