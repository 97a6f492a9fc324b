"""The images compose.yaml runs on: the public ones, or the same roles built from Debian.

Where the public images cannot be pulled (no registry reachable), one root file system made
by mmdebstrap from Debian's packages holds python3, redis-server and HAProxy; it is imported
as the Python base image, and two one-line images on it run Redis and HAProxy as their own
users. The package goes in from wheels in build/wheels, so that no image build needs network:
their set is resolved by the base image's own Python (pip evaluates environment markers with
the interpreter it runs on), in a throwaway container on the host's network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

from telemetry_stack.compose.engine import INSTALL, Engine, EngineError, docker

logger = logging.getLogger(__name__)

# The defaults of compose.yaml (REDIS_IMAGE, PROXY_IMAGE) and of the Dockerfile (BASE_IMAGE).
PUBLIC = {
    "REDIS_IMAGE": "redis:7-alpine",
    "PROXY_IMAGE": "haproxy:2.8-alpine",
    "BASE_IMAGE": "python:3.12-slim",
}
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "ca-certificates", "redis-server", "haproxy", "wget")
LOCAL = {
    "BASE_IMAGE": f"localhost/switch-telemetry-debian:{SUITE}",
    "REDIS_IMAGE": f"localhost/switch-telemetry-redis:{SUITE}",
    "PROXY_IMAGE": f"localhost/switch-telemetry-haproxy:{SUITE}",
}
# Each role's image on the base: the user it runs as (created by its Debian package).
ROLES = {"REDIS_IMAGE": "USER redis\nWORKDIR /var/lib/redis\n", "PROXY_IMAGE": "USER haproxy\n"}
WHEELS = Path("build") / "wheels"
TRUST_STORE = Path("/etc/ssl/certs")


def choose(engine: Engine, project: Path) -> dict[str, str]:
    """Return the image variables for compose: given ones, public ones, else local ones."""
    if all(name in os.environ for name in PUBLIC):
        return {name: os.environ[name] for name in PUBLIC}
    if all(_present(engine, image) or _pull(engine, image) for image in PUBLIC.values()):
        return dict(PUBLIC)
    logger.info("the public images cannot be pulled: using images made from Debian's packages")
    build_local(engine)
    build_wheels(engine, project)
    return {**LOCAL, "WHEELS": "1"}


def build_local(engine: Engine) -> None:
    """Make the Debian images unless they exist (the base takes mmdebstrap about a minute)."""
    base = LOCAL["BASE_IMAGE"]
    if not _present(engine, base):
        _import_root_filesystem(engine, base)
    for name, lines in ROLES.items():
        _run(
            [docker(), "build", "--quiet", "--tag", LOCAL[name], "-"],
            engine,
            stdin=f"FROM {base}\n{lines}".encode(),
        )


def build_wheels(engine: Engine, project: Path) -> None:
    """Build the package's wheel into build/wheels and fetch its dependencies' beside it."""
    wheels = project / WHEELS
    wheels.mkdir(parents=True, exist_ok=True)
    for old in wheels.glob("switch_telemetry-*.whl"):
        old.unlink()
    # A fixed timestamp gives the same wheel for the same sources: the image build stays cached.
    _run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        engine,
        cwd=project,
        extra_env={"SOURCE_DATE_EPOCH": "315532800"},
    )
    (wheel,) = wheels.glob("switch_telemetry-*.whl")
    stamp, wanted = wheels / ".resolved", _fingerprint(engine, project)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    logger.info("fetching the dependencies' wheels for %s's Python", LOCAL["BASE_IMAGE"])
    script = (
        "python3 -m venv /tmp/pip && /tmp/pip/bin/pip download --quiet --only-binary=:all: "
        f"--disable-pip-version-check -d /wheels /wheels/{wheel.name}"
    )
    command = [docker(), "run", "--rm", "--network", "host", "-v", f"{wheels.resolve()}:/wheels"]
    if TRUST_STORE.is_dir():  # the host's certificate authorities, for a proxy that needs them
        command += ["-v", f"{TRUST_STORE}:{TRUST_STORE}:ro"]
        command += ["-e", f"PIP_CERT={TRUST_STORE / 'ca-certificates.crt'}"]
    for name in ("PIP_INDEX_URL", "HTTPS_PROXY", "https_proxy"):
        if name in os.environ:
            command += ["-e", name]
    _run([*command, LOCAL["BASE_IMAGE"], "sh", "-c", script], engine)
    stamp.write_text(wanted)


def prune_dangling(engine: Engine) -> None:
    """Remove the engine's untagged images: what earlier builds of the image left behind."""
    _run([docker(), "image", "prune", "--force"], engine)


def _fingerprint(engine: Engine, project: Path) -> str:
    """Return what the wheel set depends on: the project's requirements and the base image."""
    image = _run([docker(), "image", "inspect", "--format", "{{.Id}}", LOCAL["BASE_IMAGE"]], engine)
    digest = hashlib.sha256((project / "pyproject.toml").read_bytes() + image.encode())
    return digest.hexdigest()


def _import_root_filesystem(engine: Engine, image: str) -> None:
    logger.info("making %s from Debian's packages with mmdebstrap", image)
    command = [
        "mmdebstrap", "--quiet", "--variant=apt", f"--include={','.join(PACKAGES)}",
        "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright", SUITE, "-",
    ]  # fmt: skip
    try:
        maker = subprocess.Popen(command, stdout=subprocess.PIPE)
    except FileNotFoundError:
        raise EngineError(
            f"no mmdebstrap to make images from Debian's packages: {INSTALL}"
        ) from None
    with maker:
        importer = subprocess.run(
            [docker(), "import", "-", image], stdin=maker.stdout, env=engine.env(), check=False
        )
    if maker.returncode or importer.returncode:
        raise EngineError(f"making {image} failed (mmdebstrap {maker.returncode}, "
                          f"docker import {importer.returncode})")  # fmt: skip


def _present(engine: Engine, image: str) -> bool:
    inspect = [docker(), "image", "inspect", image]
    return subprocess.run(inspect, env=engine.env(), capture_output=True).returncode == 0


def _pull(engine: Engine, image: str) -> bool:
    pull = [docker(), "pull", "--quiet", image]
    return subprocess.run(pull, env=engine.env(), capture_output=True).returncode == 0


def _run(
    command: list[str],
    engine: Engine,
    *,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run ``command`` against the engine; return its output or raise with what it printed."""
    result = subprocess.run(
        command,
        input=stdin,
        cwd=cwd,
        env={**engine.env(), **(extra_env or {})},
        capture_output=True,
    )
    if result.returncode:
        output = (result.stdout + result.stderr).decode(errors="replace")[-3000:]
        raise EngineError(f"{' '.join(command[:4])} ... exited {result.returncode}:\n{output}")
    return result.stdout.decode().strip()
