"""The bench's HTTP answer reader: sizes, chunks, close-delimited bodies, headers it reads."""

from __future__ import annotations

import pytest

from telemetry_stack.bench.http import AnswerReader, ProtocolError

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\nX-Telemetry-Age: 4.512\r\n"
    b"x-telemetry-generation: 17\r\n"
)


def test_an_answer_split_anywhere_is_read_whole() -> None:
    whole = HEAD + b"content-length: 24\r\n\r\nswitch,Latency\n3,18.705\n"
    for cut in range(1, len(whole)):
        reader = AnswerReader()
        assert reader.feed(whole[:cut]) is None
        answer = reader.feed(whole[cut:])
        assert answer is not None
        assert (answer.status, answer.body) == (200, b"switch,Latency\n3,18.705\n")
        assert (answer.age, answer.generation, answer.close) == (4.512, 17, False)
        assert not reader.pending


def test_answers_follow_each_other_on_one_connection() -> None:
    reader = AnswerReader()
    first = reader.feed(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\n\r\nno\n")
    second = reader.feed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert first is not None and (first.status, first.body, first.age) == (503, b"no\n", None)
    assert second is not None and (second.status, second.body) == (404, b"")


def test_a_chunked_answer_is_joined() -> None:
    reader = AnswerReader()
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert reader.feed(head + b"5\r\nswitc\r\n") is None
    assert reader.feed(b"a;ext=1\r\nh,Latency\n\r\n") is None
    answer = reader.feed(b"0\r\n\r\n")
    assert answer is not None and answer.body == b"switch,Latency\n"


def test_a_body_without_a_length_ends_with_the_connection() -> None:
    reader = AnswerReader()
    assert reader.feed(b"HTTP/1.0 200 OK\r\n\r\nswitch,") is None
    assert reader.feed(b"Latency\n") is None
    answer = reader.finish()
    assert answer is not None and answer.body == b"switch,Latency\n" and answer.close


def test_connection_close_is_noticed() -> None:
    answer = AnswerReader().feed(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    assert answer is not None and answer.close


@pytest.mark.parametrize(
    "data",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    ],
)
def test_what_is_not_http_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        AnswerReader().feed(data)


def test_a_head_that_never_ends_is_refused() -> None:
    reader = AnswerReader()
    with pytest.raises(ProtocolError):
        for _ in range(100):
            reader.feed(b"x-filler: " + b"y" * 1000 + b"\r\n")
