"""The project's runtime dependencies, and the marker environments of the platforms we ship to."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def environment(sys_platform: str, machine: str, python: str = "3.12") -> dict[str, str]:
    """Return the PEP 508 marker environment of CPython ``python`` on that platform."""
    system, os_name = {
        "linux": ("Linux", "posix"),
        "darwin": ("Darwin", "posix"),
        "win32": ("Windows", "nt"),
    }[sys_platform]
    return {
        "sys_platform": sys_platform,
        "platform_system": system,
        "os_name": os_name,
        "platform_machine": machine,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


# What platform_machine says on each: AMD64 on Windows, arm64 on Apple silicon.
ENVIRONMENTS = {
    "linux x86_64": environment("linux", "x86_64"),
    "linux aarch64": environment("linux", "aarch64"),
    "macOS x86_64": environment("darwin", "x86_64"),
    "macOS arm64": environment("darwin", "arm64"),
    "Windows x86_64": environment("win32", "AMD64"),
}


def runtime_requirements() -> list[Requirement]:
    """Return ``[project] dependencies`` of pyproject.toml, parsed."""
    with PYPROJECT.open("rb") as file:
        project = tomllib.load(file)["project"]
    return [Requirement(text) for text in project["dependencies"]]


def requirements_for(env: dict[str, str]) -> list[Requirement]:
    """Return the runtime requirements whose marker holds in ``env`` (markers dropped)."""
    chosen = []
    for requirement in runtime_requirements():
        if requirement.marker is None or requirement.marker.evaluate(env):
            plain = Requirement(str(requirement))
            plain.marker = None
            chosen.append(plain)
    return chosen
