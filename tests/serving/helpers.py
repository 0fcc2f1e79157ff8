"""Raw HTTP for the fault tests: multipart bodies built by hand and plain sockets."""

from __future__ import annotations

import json
import socket

BOUNDARY = "emozoo-test-boundary"


def multipart(fields: dict[str, bytes | str], boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """``(body, content type)`` of a multipart form; bytes values are sent as files."""
    body = b""
    for name, value in fields.items():
        if isinstance(value, bytes):
            disposition = f'form-data; name="{name}"; filename="{name}.bin"'
            head = f"Content-Disposition: {disposition}\r\nContent-Type: application/octet-stream"
        else:
            head, value = f'Content-Disposition: form-data; name="{name}"', value.encode()
        body += f"--{boundary}\r\n{head}\r\n\r\n".encode() + value + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(port: int, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (b"" when it closes without a word)."""
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)
