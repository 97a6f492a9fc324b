"""Large data answers are gzipped when the client accepts gzip; small ones never are."""

from __future__ import annotations

import gzip
import json

import fakeredis
import pytest
from flask.testing import FlaskClient

from api_service.answers import GZIP_MIN_BYTES
from tests.helpers.api import make_app, put_snapshot

LIST = "/telemetry/ListMetrics?metrics=Latency,CpuUsage&format=json"
SWITCHES = [f"switch-{n}" for n in range(400)]


@pytest.fixture
def client(fake: fakeredis.FakeRedis) -> FlaskClient:
    rows = [[b"%d.125" % n, b"-%d" % n] for n in range(len(SWITCHES))]
    put_snapshot(fake, switches=SWITCHES, metrics=["Latency", "CpuUsage"], rows=rows)
    return make_app(fake).test_client()


def test_a_large_answer_is_gzipped_when_asked(client: FlaskClient) -> None:
    plain = client.get(LIST)
    assert len(plain.data) >= GZIP_MIN_BYTES and "Content-Encoding" not in plain.headers
    zipped = client.get(LIST, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept, Accept-Encoding"
    unzipped, expected = json.loads(gzip.decompress(zipped.data)), json.loads(plain.data)
    assert unzipped.pop("age") >= 0 and expected.pop("age") >= 0
    assert unzipped == expected
    assert len(zipped.data) < len(plain.data) / 3
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'


def test_the_gzipped_answers_etag_gets_a_304(client: FlaskClient) -> None:
    zipped = client.get(LIST, headers={"Accept-Encoding": "gzip"})
    again = client.get(
        LIST, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == zipped.headers["ETag"]


def test_gzip_refused_or_not_offered_gives_the_plain_body(client: FlaskClient) -> None:
    for header in ("gzip;q=0", "identity", "deflate"):
        response = client.get(LIST, headers={"Accept-Encoding": header})
        assert "Content-Encoding" not in response.headers, header
        assert response.json is not None and len(response.json["switches"]) == len(SWITCHES)


def test_a_small_answer_is_never_gzipped(client: FlaskClient) -> None:
    response = client.get(
        "/telemetry/GetMetric?switch=switch-7&metric=Latency", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
    assert response.data == b"switch,Latency\nswitch-7,7.125\n"
