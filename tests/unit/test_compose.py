"""compose.yaml, the Dockerfile and deploy/haproxy.cfg agree with the schema and with the code.

These need no Docker engine: the file is validated against the Compose Specification's schema,
and its commands, variables, ports and URLs are checked against the code. tests/docker runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from api_service.config import SETTINGS as API_SETTINGS
from generator_service.config import SETTINGS as GENERATOR_SETTINGS
from refresher_worker.settings import SETTINGS as REFRESHER_SETTINGS
from telemetry_common.variables import API_BIND, GENERATOR_BIND, SOURCE_URL
from telemetry_stack.cli import build_parser
from tests.helpers.containers import env_file

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
HAPROXY = ROOT / "deploy" / "haproxy.cfg"
DOCKERFILE = ROOT / "Dockerfile"
PACKAGES = ["telemetry_common", "telemetry_stack", "generator_service", "refresher_worker",
            "api_service"]  # fmt: skip
LOGGING = {"TELEMETRY_LOG_LEVEL", "TELEMETRY_LOG_FORMAT"}  # read by telemetry_common.logs
READS = {
    "generator": {s.variable for s in GENERATOR_SETTINGS} | LOGGING,
    "refresher": {s.variable for s in REFRESHER_SETTINGS} | LOGGING,
    "api": {s.variable for s in API_SETTINGS} | LOGGING,
}
SENTINEL_PROFILE = ("redis-replica", "sentinel-1", "sentinel-2", "sentinel-3")
SENTINEL_ENV = ROOT / "deploy" / "sentinel.env"
_DEFAULTED = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")
_REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
REQUIRED_MESSAGE = "set it in .env (see .env.example)"


def interpolate(value: object, variables: dict[str, str] | None = None) -> str:
    """Return ``value`` as compose would with ``variables`` set: defaults, else ``<NAME>``."""
    given = variables or {}
    text = _REQUIRED.sub(lambda m: given.get(m.group(1), f"<{m.group(1)}>"), str(value))
    return _DEFAULTED.sub(lambda m: given.get(m.group(1), m.group(2) or ""), text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def app_services(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if s.get("command", [""])[0] == "telemetry"}


def port_of(bind: str) -> int:
    return int(interpolate(bind).rpartition(":")[2])


def env(service: dict[str, Any]) -> dict[str, str]:
    return {name: interpolate(value) for name, value in service.get("environment", {}).items()}


def test_compose_file_validates_against_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_services_are_the_designed_ones(services: dict[str, Any]) -> None:
    assert set(services) - set(SENTINEL_PROFILE) == {
        "redis-acl",
        "redis",
        "generator",
        "refresher",
        "api",
        "proxy",
    }
    # Image names are variables whose defaults are the public images.
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-alpine}"
    assert services["proxy"]["image"].startswith("${PROXY_IMAGE:-haproxy:")
    assert services["refresher"]["deploy"]["replicas"] == 2
    assert services["api"]["deploy"]["replicas"] == 3


def test_every_python_service_runs_one_image_with_a_telemetry_subcommand(
    services: dict[str, Any],
) -> None:
    apps = app_services(services)
    assert set(apps) == {"generator", "refresher", "api"}
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, service in apps.items():
        command = service["command"]
        assert command[1] == name and name in subcommands, command
        parser.parse_args(command[1:])  # exits (fails the test) on an unknown option
        assert service["build"] == {"context": ".", "args": ["BASE_IMAGE", "WHEELS"]}, name
        assert service["image"] == apps["api"]["image"]


def test_every_service_has_a_healthcheck_restarts_and_waits_for_healthy_dependencies(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        if name == "redis-acl":  # a one-shot: writes the ACL file, then exits 0
            assert service["restart"] == "no" and "healthcheck" not in service
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for dependency, rule in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dependency == "redis-acl" else "service_healthy"
            )
            assert dependency in services and rule == {"condition": wanted}, name
    assert set(services["redis"]["depends_on"]) == {"redis-acl"}
    assert set(services["refresher"]["depends_on"]) == {"redis", "generator"}
    assert "redis" in services["api"]["depends_on"]
    assert set(services["proxy"]["depends_on"]) == {"api"}


def test_no_healthcheck_needs_a_docker_engine_newer_than_debians(services: dict[str, Any]) -> None:
    # start_interval needs Docker Engine 25; Compose refuses to create the container on older ones.
    for name, service in services.items():
        assert "start_interval" not in service.get("healthcheck", {}), name


def test_python_healthchecks_are_valid_python(services: dict[str, Any]) -> None:
    for name, service in app_services(services).items():
        test = service["healthcheck"]["test"]
        assert test[1:3] == ["python", "-c"], name
        compile(test[3], f"{name} healthcheck", "exec")


def test_redis_persists_nothing(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    # Debian's redis-server refuses other hosts unless told (the public image is built so).
    assert command[command.index("--protected-mode") + 1] == "no"
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"


def test_redis_runs_with_a_user_per_role_from_the_secrets_file(services: dict[str, Any]) -> None:
    for name in ("redis", "redis-replica"):
        command = services[name]["command"]
        assert command[command.index("--aclfile") + 1] == "/acl/users.acl", name
        assert services[name]["volumes"] == ["acl:/acl:ro"], name
        check = services[name]["healthcheck"]["test"][1]
        assert "--user telemetry-reader" in check and "grep -q PONG" in check, name
    acl = services["redis-acl"]
    assert acl["command"] == ["sh", "-c", "telemetry redis-acl > /acl/users.acl"]
    assert acl["volumes"] == ["acl:/acl"]
    for variable in ("REFRESHER", "API", "READER", "REPLICA", "SENTINEL"):
        value = acl["environment"][f"TELEMETRY_{variable}_PASSWORD"]
        assert value == f"${{TELEMETRY_{variable}_PASSWORD:?{REQUIRED_MESSAGE}}}", variable
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--masteruser") + 1] == "telemetry-replica"
    for name in SENTINEL_PROFILE[1:]:
        assert "'sentinel auth-user mymaster telemetry-sentinel'" in services[name]["command"][2]
    example = (ROOT / ".env.example").read_text()
    for variable in re.findall(r"\$\{(TELEMETRY_\w+_PASSWORD):\?", COMPOSE.read_text()):
        assert f"\n{variable}=change-me\n" in example, variable
    assert ".env\n" in (ROOT / ".gitignore").read_text()


def test_every_variable_set_is_one_the_service_reads(services: dict[str, Any]) -> None:
    for name, service in app_services(services).items():
        unknown = set(service.get("environment", {})) - READS[name]
        assert not unknown, f"{name} sets variables it never reads: {unknown}"


def test_every_telemetry_variable_mentioned_appears_in_the_python_sources() -> None:
    sources = "\n".join(
        path.read_text() for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    )
    for variable in sorted(set(re.findall(r"\bTELEMETRY_\w+", COMPOSE.read_text()))):
        suffix = variable.removeprefix("TELEMETRY_")
        assert f'"{variable}"' in sources or f'PREFIX + "{suffix}"' in sources, variable


def test_only_the_proxy_publishes_a_port_and_the_api_is_only_exposed(
    services: dict[str, Any],
) -> None:
    published = {name for name, service in services.items() if "ports" in service}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["${PROXY_PUBLISH:-8080}:8080"]
    assert interpolate(services["proxy"]["ports"][0]) == "8080:8080"
    assert "ports" not in services["api"]


def test_ports_and_urls_agree_with_the_code_defaults(services: dict[str, Any]) -> None:
    api, generator, refresher = (env(services[n]) for n in ("api", "generator", "refresher"))
    api_port = port_of(api["TELEMETRY_API_BIND"])
    generator_port = port_of(generator["TELEMETRY_GENERATOR_BIND"])
    assert api["TELEMETRY_API_BIND"].startswith("0.0.0.0:")
    assert generator["TELEMETRY_GENERATOR_BIND"].startswith("0.0.0.0:")
    assert api_port == port_of(API_BIND.default) == 8080
    assert generator_port == port_of(GENERATOR_BIND.default) == 9001
    assert services["api"]["expose"] == [str(api_port)]
    assert services["generator"]["expose"] == [str(generator_port)]
    source = urlsplit(refresher["TELEMETRY_SOURCE_URL"])
    assert (source.hostname, source.port) == ("generator", generator_port)
    assert source.path == urlsplit(SOURCE_URL.default).path
    for service, user in ((api, "telemetry-api"), (refresher, "telemetry-refresher")):
        redis_url = urlsplit(service["TELEMETRY_REDIS_URL"])
        assert (redis_url.scheme, redis_url.hostname, redis_url.port) == ("redis", "redis", 6379)
        password = f"<TELEMETRY_{user.removeprefix('telemetry-').upper()}_PASSWORD>"
        assert (redis_url.username, redis_url.password) == (user, password)
    assert f"127.0.0.1:{api_port}/readyz" in services["api"]["healthcheck"]["test"][3]
    assert f"127.0.0.1:{generator_port}/healthz" in services["generator"]["healthcheck"]["test"][3]
    assert int(api["TELEMETRY_API_PROXY_HOPS"]) == 1  # the proxy is the one hop in front


def test_the_proxy_balances_over_every_api_replica_and_forwards_the_client(
    services: dict[str, Any],
) -> None:
    conf = HAPROXY.read_text()
    target = "/usr/local/etc/haproxy/haproxy.cfg"  # where the public image looks
    assert f"./deploy/haproxy.cfg:{target}:ro" in services["proxy"]["volumes"]
    assert services["proxy"]["command"][0] == "haproxy" and target in services["proxy"]["command"]
    published_target = int(interpolate(services["proxy"]["ports"][0]).rpartition(":")[2])
    assert re.search(rf"^\s*bind :{published_target}$", conf, re.M)
    api_port = port_of(env(services["api"])["TELEMETRY_API_BIND"])
    assert re.search(rf"^\s*server-template api \d+ api:{api_port}$", conf, re.M)
    assert re.search(r"^\s*nameserver dns 127\.0\.0\.11:53$", conf, re.M)
    assert re.search(r"^\s*default-server .*\bresolvers docker\b.*\binit-addr none\b", conf, re.M)
    assert re.search(r"^\s*option forwardfor$", conf, re.M)  # X-Forwarded-For
    for header in ("X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"^\s*http-request set-header {header} ", conf, re.M), header
    assert (
        f"http://127.0.0.1:{published_target}/healthz" in services["proxy"]["healthcheck"]["test"]
    )


def test_refresher_healthcheck_matches_how_a_refresher_names_its_heartbeat() -> None:
    import socket

    from refresher_worker.status import process_identity

    assert process_identity().startswith(socket.gethostname() + "-")


def test_dockerfile_installs_the_package_without_dev_extra_and_runs_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.1[12]-slim$", text, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", text, re.M)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0"), users
    assert re.search(r"pip install (--no-cache-dir )?\.(\s|;|$)", text)
    # or, with WHEELS set, the same package from wheels in the build context, without network
    assert "pip install --no-index --find-links wheels switch-telemetry;" in text
    assert "[dev]" not in text
    for package in PACKAGES:
        assert re.search(rf"^COPY {package} ", text, re.M), package
    assert "COPY pyproject.toml" in text


def test_sentinel_profile_adds_a_replica_and_three_sentinels_of_the_primary(
    services: dict[str, Any],
) -> None:
    for name in SENTINEL_PROFILE:
        assert services[name]["profiles"] == ["sentinel"], name
        assert services[name]["image"] == services["redis"]["image"], name
    assert "profiles" not in services["redis"] and "profiles" not in services["api"]
    replica = services["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1 : replica.index("--replicaof") + 3] == [
        "redis",
        "6379",
    ]
    for name in SENTINEL_PROFILE[1:]:
        script = services[name]["command"][2]
        assert "'sentinel monitor mymaster redis 6379 2'" in script, name
        assert "redis-server /tmp/sentinel.conf --sentinel" in script, name
        assert services[name]["healthcheck"]["test"][-3:] == ["-p", "26379", "ping"]


def test_sentinel_env_file_points_writes_at_the_sentinels_and_reads_at_the_replica(
    services: dict[str, Any],
) -> None:
    from telemetry_common.redis_urls import parse

    values = env_file(SENTINEL_ENV)
    assert values["COMPOSE_PROFILES"] == "sentinel"
    api = {k: interpolate(v, values) for k, v in services["api"]["environment"].items()}
    write, read = parse(api["TELEMETRY_REDIS_URL"]), parse(api["TELEMETRY_REDIS_READ_URL"])
    sentinels = {(f"sentinel-{n}", 26379) for n in (1, 2, 3)}
    assert (write.kind, write.service, write.role, set(write.hosts)) == (
        "sentinel", "mymaster", "primary", sentinels
    )  # fmt: skip
    assert (read.kind, read.service, read.role, set(read.hosts)) == (
        "sentinel", "mymaster", "replica", sentinels
    )  # fmt: skip
    assert write.options["username"] == read.options["username"] == "telemetry-api"
    refresher = interpolate(services["refresher"]["environment"]["TELEMETRY_REDIS_URL"], values)
    assert parse(refresher).options["username"] == "telemetry-refresher"


def test_make_compose_up_knows_the_public_images_and_every_profile(
    services: dict[str, Any],
) -> None:
    from telemetry_stack.compose.images import PUBLIC
    from telemetry_stack.compose.stack import PROFILES

    assert PUBLIC["REDIS_IMAGE"] == interpolate(services["redis"]["image"])
    assert PUBLIC["PROXY_IMAGE"] == interpolate(services["proxy"]["image"])
    assert f"ARG BASE_IMAGE={PUBLIC['BASE_IMAGE']}\n" in DOCKERFILE.read_text()
    profiles = {name for service in services.values() for name in service.get("profiles", [])}
    assert profiles == set(PROFILES)
