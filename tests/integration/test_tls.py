"""TLS to Redis, verified and mutual: the stack on redis-server's TLS port, client certificates
required, certificates made at test time; a client that trusts another CA, or brings no
certificate, is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
import trustme

from telemetry_common.redis_client import connect
from telemetry_stack.servers.redis_server import RedisServer, free_port
from tests.helpers import Service, wait_for
from tests.helpers.processes import generator, refresher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@dataclass(frozen=True)
class Tls:
    server: RedisServer
    files: Path

    def url(self, ca: str | None = "ca.pem", client: bool = True) -> str:
        """Return a rediss:// URL trusting ``ca`` (None: the system's CAs), with a certificate."""
        query = {"ssl_ca_certs": str(self.files / ca)} if ca else {}
        if client:
            query |= {
                "ssl_certfile": str(self.files / "client.crt"),
                "ssl_keyfile": str(self.files / "client.key"),
            }
        text = "&".join(f"{name}={value}" for name, value in query.items())
        return f"rediss://{self.server.host}:{self.server.port}/0?{text}"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tls]:
    files = tmp_path_factory.mktemp("tls")
    ca, other = trustme.CA(), trustme.CA()
    ca.cert_pem.write_to_path(str(files / "ca.pem"))
    other.cert_pem.write_to_path(str(files / "other-ca.pem"))
    for name, cert in (
        ("server", ca.issue_cert("127.0.0.1", "localhost")),
        ("client", ca.issue_cert("telemetry-client")),
    ):
        cert.cert_chain_pems[0].write_to_path(str(files / f"{name}.crt"))
        cert.private_key_pem.write_to_path(str(files / f"{name}.key"))
    port = free_port()
    settings = (
        "--port", "0",  # no plain TCP: TLS only
        "--tls-port", str(port),
        "--tls-cert-file", str(files / "server.crt"),
        "--tls-key-file", str(files / "server.key"),
        "--tls-ca-cert-file", str(files / "ca.pem"),
        "--tls-auth-clients", "yes",
    )  # fmt: skip
    server = RedisServer(port, extra=settings)
    tls = Tls(server, files)
    server.probe = lambda: _answers(tls.url())  # PING over TLS: there is no plain port
    server.start()
    yield tls
    server.close()


def _answers(url: str) -> bool:
    try:
        return bool(connect(url, timeout=0.5, retries=0).ping())
    except redis.RedisError:
        return False


def test_a_verified_client_with_its_certificate_is_served(tls: Tls) -> None:
    client = connect(tls.url(), timeout=2)
    assert client.set("tls-check", "yes") and client.get("tls-check") == b"yes"


@pytest.mark.parametrize(
    ("what", "url_args", "error"),
    [
        ("trusts another CA", {"ca": "other-ca.pem"}, "certificate verify failed"),
        ("trusts the system's CAs only", {"ca": None}, "certificate verify failed"),
        ("brings no certificate", {"client": False}, None),  # the server hangs up: no message
    ],
)
def test_a_client_is_refused_when_it(
    tls: Tls, what: str, url_args: dict[str, object], error: str | None
) -> None:
    url = tls.url(**url_args)  # type: ignore[arg-type]
    with pytest.raises(redis.ConnectionError) as refused:
        connect(url, timeout=2, retries=0).ping()
    assert error is None or error in str(refused.value), what


def test_the_stack_serves_over_tls(tls: Tls) -> None:
    gen, source_url = generator(switches=20)
    worker = refresher(
        tls.url(),
        source_url,
        refresh_interval="1",
        refresher_metrics_bind=f"127.0.0.1:{free_port()}",
    )
    bind = f"127.0.0.1:{free_port()}"
    api = Service(["api", "--bind", bind, "--workers", "1"], env={"TELEMETRY_REDIS_URL": tls.url()})
    base = f"http://{bind}/telemetry"
    try:
        api.wait_http(f"http://{bind}/healthz")
        wait_for(lambda: requests.get(f"{base}/GetMetric?switch=1&metric=Latency").ok, 20)
        answer = requests.get(f"{base}/ListMetrics?metrics=Latency,CpuUsage", timeout=5)
        assert answer.status_code == 200
        assert answer.text.startswith("switch,Latency,CpuUsage\n")
        assert len(answer.text.splitlines()) == 21
    finally:
        api.stop()
        worker.stop()
        gen.stop()
