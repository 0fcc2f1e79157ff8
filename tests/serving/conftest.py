"""Shared fixtures for ``emozoo serve``: one recognizer, files as bytes, live servers.

In-process tests use FastAPI's TestClient; what needs a real socket (disconnects, slow
clients, a 1 GB upload, SIGTERM, the browser) runs ``python -m emozoo serve`` in a
subprocess on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("fastapi", reason="emozoo serve needs the serve extra")
pytest.importorskip("uvicorn", reason="emozoo serve needs the serve extra")
pytest.importorskip("python_multipart", reason="emozoo serve needs the serve extra")

from emozoo.inference.demo import sample_path  # noqa: E402

TEXT = "We made it! The launch went perfectly and I have never felt so proud."


@pytest.fixture(scope="session")
def rec():
    from emozoo import EmotionRecognizer

    return EmotionRecognizer("cnn_lstm_fusion")  # the LiteRT build: fast to start


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width x height`` RGB pixels (its data is not
    that big: decoding it would have to allocate for the header's size)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def wav_declaring(seconds: float, rate: int = 8000, carried_s: float = 0.5) -> bytes:
    """A 16-bit mono WAV whose RIFF header declares ``seconds`` but carries ``carried_s``."""
    declared = int(seconds * rate) * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, 2 * rate, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + declared)
        + b"WAVE"
        + b"fmt "
        + fmt
        + b"data"
        + struct.pack("<I", declared)
        + bytes(2 * int(carried_s * rate))
    )


def encoded_audio(waveform: np.ndarray, rate: int, format: str = "WAV") -> bytes:
    out = io.BytesIO()
    sf.write(out, waveform, rate, format=format)
    return out.getvalue()


@pytest.fixture(scope="session")
def files() -> dict[str, bytes]:
    """Good and bad uploads, as bytes."""
    import cv2

    out = {
        "photo": sample_path("astronaut.jpg").read_bytes(),
        "speech": sample_path("happy.wav").read_bytes(),
        "angry": sample_path("angry.wav").read_bytes(),
    }
    png = cv2.imencode(".png", cv2.imread(str(sample_path("astronaut.jpg"))))[1].tobytes()
    out["png"] = png
    out["truncated_png"] = png[: len(png) // 2]
    out["tiny_png"] = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    out["png_100k"] = png_declaring(100_000, 100_000)
    out["png_90mp"] = png_declaring(10_000, 9_000)
    out["wav_claims_an_hour"] = wav_declaring(3600)
    out["short_wav"] = encoded_audio(np.zeros(800, np.float32), 16000)  # 0.05 s
    # A real hour of audio: 8 kHz silence compresses to under 100 kB as FLAC.
    hour = io.BytesIO()
    with sf.SoundFile(hour, "w", 8000, 1, format="FLAC", subtype="PCM_16") as flac:
        minute = np.zeros(8000 * 60, np.int16)
        for _ in range(60):
            flac.write(minute)
    out["flac_hour"] = hour.getvalue()
    out["webm"] = b"\x1a\x45\xdf\xa3" + bytes(200)
    out["pdf"] = b"%PDF-1.7\n" + bytes(200)
    return out


# -- live servers ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 10) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def access_log(self) -> list[dict]:
        """The JSON lines of the access log written so far."""
        lines = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(log: Path, *arguments: str, token: str | None = None) -> LiveServer:
    """``python -m emozoo serve`` on a free port; returns once ``/readyz`` answers 200.
    ``token`` goes in ``$EMOZOO_SERVE_TOKEN``."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EMOZOO_SERVE_TOKEN", None)
    if token is not None:
        env["EMOZOO_SERVE_TOKEN"] = token
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "emozoo", "serve", "--port", str(port), *arguments],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server = LiveServer(process, port, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emozoo serve exited:\n{log.read_text()}")
        try:
            if server.get("/readyz", timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"emozoo serve did not get ready:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """A server with small limits (2 MB bodies, 3 s per request) shared by the live tests."""
    server = start_server(
        tmp_path_factory.mktemp("live") / "serve.log", "--max-upload-mb", "2", "--timeout", "3"
    )
    yield server
    server.stop()
