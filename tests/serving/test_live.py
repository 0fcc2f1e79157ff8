"""Faults only a real server sees: raw sockets against ``python -m emozoo serve``.

The shared server (conftest ``live``) has a 2 MB body limit and a 3 s request timeout.
After each fault the server must still answer the next request.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import threading
import time

import pytest

from tests.serving.conftest import start_server
from tests.serving.helpers import (
    BOUNDARY,
    connect,
    multipart,
    read_response,
    request_head,
    status_and_json,
)

MB = 1024 * 1024


def post_raw(port: int, body: bytes, content_type: str, extra: dict | None = None) -> bytes:
    sock = connect(port)
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Connection": "close",
        **(extra or {}),
    }
    sock.sendall(request_head("POST", "/v1/predict", headers) + body)
    answer = read_response(sock)
    sock.close()
    return answer


def answers_a_prediction(live) -> None:
    body, content_type = multipart({"text": "What a wonderful day"})
    status, prediction = status_and_json(post_raw(live.port, body, content_type))
    assert status == 200 and prediction["modalities_used"] == ["text"]


def form_start(name: str = "image") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="x.bin"\r\n\r\n'
    ).encode()


def test_a_1gb_upload_is_refused_from_its_content_length(live):
    sock = connect(live.port)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(1 << 30),
    }
    sock.sendall(request_head("POST", "/v1/predict", headers) + form_start())
    status, error = status_and_json(read_response(sock))  # no body byte is needed
    sock.close()
    assert status == 413 and "1,073,741,824 bytes" in error["detail"]
    answers_a_prediction(live)


def test_a_streamed_upload_is_cut_off_at_the_limit(live):
    """Chunked, no Content-Length: the server stops it after ~2 MB, not 1 GB."""
    sock = connect(live.port)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Transfer-Encoding": "chunked",
    }
    sock.sendall(request_head("POST", "/v1/predict", headers))
    chunk = b"\0" * 65536
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent, answer = 0, b""
    try:
        sock.sendall(b"%x\r\n%s\r\n" % (len(form_start()), form_start()))
        while sent < 1 << 30:
            if select.select([sock], [], [], 0)[0]:  # the server has answered
                break
            sock.sendall(framed)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    with contextlib.suppress(OSError):
        answer = read_response(sock)
    sock.close()
    assert sent < 16 * MB, f"the server read {sent / MB:.0f} MB before refusing"
    if answer:  # the refusal arrives unless the reset beat it
        status, error = status_and_json(answer)
        assert status == 413 and "cut off" in error["detail"]
    answers_a_prediction(live)


def test_a_truncated_upload_gets_no_prediction(live):
    """The client declares 10 kB, sends part of a valid form and closes its side."""
    sock = connect(live.port)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": "10000",
    }
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\nI am so'.encode()
    sock.sendall(request_head("POST", "/v1/predict", headers) + part)
    sock.shutdown(socket.SHUT_WR)
    answer = read_response(sock)
    sock.close()
    assert answer == b"" or 400 <= status_and_json(answer)[0] < 500
    answers_a_prediction(live)


def test_a_client_that_disconnects_mid_upload_is_logged_as_gone(live):
    sock = connect(live.port)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": "100000",
        "X-Request-ID": "gone-mid-upload",
    }
    sock.sendall(request_head("POST", "/v1/predict", headers) + form_start() + b"\xff" * 5000)
    time.sleep(0.3)
    sock.close()
    answers_a_prediction(live)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        gone = [e for e in live.access_log() if e["request_id"] == "gone-mid-upload"]
        if gone:
            break
        time.sleep(0.1)
    assert gone and gone[0]["status"] == 499 and gone[0]["bytes_in"] < 100000


def test_many_slow_clients_get_408_and_do_not_block_others(live):
    """30 clients trickle a valid form a byte at a time; 10 never finish their headers.
    Meanwhile predictions are answered; the slow uploads end in 408 at the 3 s timeout."""
    body, content_type = multipart({"text": "slow " * 200})
    slow = []
    for _ in range(30):
        sock = connect(live.port, timeout=15)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        sock.sendall(request_head("POST", "/v1/predict", headers) + body[:50])
        slow.append(sock)
    stuck = []
    for _ in range(10):
        sock = connect(live.port, timeout=15)
        sock.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        stuck.append(sock)
    stop = threading.Event()

    def trickle():
        offset = 50
        while not stop.is_set() and offset < len(body):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(body[offset : offset + 1])
            offset += 1
            stop.wait(0.2)

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        for _ in range(3):
            answers_a_prediction(live)
        statuses = [status_and_json(read_response(sock))[0] for sock in slow]
    finally:
        stop.set()
        trickler.join()
        for sock in slow + stuck:
            sock.close()
    assert statuses == [408] * 30
    answers_a_prediction(live)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path):
    server = start_server(tmp_path / "serve.log")
    body, content_type = multipart({"text": "We made it! I have never felt so proud."})
    sock = connect(server.port, timeout=30)
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    sock.sendall(request_head("POST", "/v1/predict", headers) + body[:40])
    time.sleep(0.5)  # the server has the request's headers: it is in flight
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(OSError):  # no new connections while draining
        connect(server.port, timeout=2).close()
    sock.sendall(body[40:])
    status, prediction = status_and_json(read_response(sock))
    sock.close()
    assert status == 200 and prediction["top"] is not None
    assert server.process.wait(timeout=30) == 0  # an orderly exit, once drained
    assert "Application shutdown complete" in server.log.read_text()
    entries = server.access_log()
    assert [e["status"] for e in entries if e["path"] == "/v1/predict"] == [200]


def test_the_token_can_come_from_the_environment(tmp_path):
    import urllib.error
    import urllib.request

    server = start_server(tmp_path / "serve.log", token="from-the-env")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url + "/v1/models", timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(
            server.url + "/v1/models", headers={"Authorization": "Bearer from-the-env"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        assert "bearer token required" in server.log.read_text()
        assert "from-the-env" not in server.log.read_text()
    finally:
        assert server.stop() == 0
