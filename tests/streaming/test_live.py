"""``emozoo live`` on a generated video used as the stream: tracking, the timeline, the
annotated video, audio sources and the command."""

from __future__ import annotations

import csv
import functools
import http.server
import sys
import threading
import types

import cv2
import numpy as np
import pytest

from emozoo.cli import main
from emozoo.inference.faces import to_gray
from emozoo.streaming import (
    FaceTracker,
    LiveAnalyzer,
    LiveSettings,
    MicrophoneAudio,
    StreamAudio,
    TrackAudio,
    VideoSource,
    run_live,
)

FRAMES = 60  # the stream fixture: 2 s at 30 fps


def read_timeline(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_faces_are_tracked_between_detections(rec, stream):
    tracker = FaceTracker(rec.detector, detect_every=10)
    boxes = []
    with VideoSource(path=stream) as source:
        for frame in source:
            gray = to_gray(frame.bgr, order="bgr")
            faces = tracker.update(frame.bgr, gray)
            assert [f.track for f in faces] == [0]  # one face, one id throughout
            boxes.append(faces[0].box)
            assert faces[0].detected == (frame.index % 10 == 0)
    assert len(boxes) == FRAMES and tracker.detections == FRAMES // 10
    xs = [x for x, *_ in boxes]
    assert max(xs) - min(xs) > 20  # the face drifts, and the boxes follow it
    # Followed boxes stay close to where the detector puts the face.
    with VideoSource(path=stream) as source:
        frame = next(f for f in source if f.index == 15)
    (found,) = rec.detector.detect(cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2RGB))
    assert abs(found.box[0] - boxes[15][0]) < 12 and abs(found.box[1] - boxes[15][1]) < 12


def test_a_video_file_as_the_stream(rec, stream, has_ffmpeg, tmp_path):
    out, timeline = tmp_path / "annotated.mp4", tmp_path / "timeline.csv"
    pre = rec.runner.preprocessor
    with (
        VideoSource(path=stream) as source,
        TrackAudio(stream, pre.audio.sample_rate, pre.audio.num_samples) as audio,
    ):
        stats = run_live(rec, source, audio, LiveSettings(), out=out, csv_path=timeline)
    rows = read_timeline(timeline)
    assert stats.frames == FRAMES and len(rows) == FRAMES  # one face in every frame
    assert [int(r["frame"]) for r in rows] == list(range(FRAMES))
    times = [float(r["time"]) for r in rows]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == pytest.approx(59 / 30, 1e-3)
    assert {r["track"] for r in rows} == {"0"} and all(len(r["box"].split()) == 4 for r in rows)
    assert {r["top"] for r in rows} <= set(rec.labels) and all(r["top"] for r in rows)
    for r in rows:
        assert abs(sum(float(r[label]) for label in rec.labels) - 1) < 2e-3
    # The network ran on the face in one frame of three; the window averages up to 10.
    assert [r["inferred"] for r in rows[:6]] == ["1", "0", "0", "1", "0", "0"]
    assert stats.face_estimates == FRAMES // 3 and max(int(r["window"]) for r in rows) == 10
    assert stats.detections == FRAMES // 10
    if has_ffmpeg:  # the speech joins the face once a third of a window (1 s) was heard
        assert {r["modalities"] for r in rows[:30]} == {"face"} and rows[29]["audio_top"] == ""
        assert {r["modalities"] for r in rows[30:]} == {"face+audio"}
        assert rows[30]["audio_top"] in rec.labels and stats.audio_estimates == 1
    video = cv2.VideoCapture(str(out))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    video.release()
    assert stats.rtf is not None and stats.duration_s == pytest.approx(2.0)


def test_frames_without_a_face_get_an_audio_row(rec, tmp_path):
    blank = tmp_path / "blank.mp4"
    writer = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for _ in range(10):
        writer.write(np.full((240, 320, 3), 128, np.uint8))
    writer.release()
    with VideoSource(path=blank) as source:
        results = list(LiveAnalyzer(rec).analyze(source, fps=source.fps))
    assert len(results) == 10
    assert all(len(r.rows) == 1 and r.rows[0]["track"] is None for r in results)
    assert all(r.rows[0]["top"] is None for r in results)  # no face, no sound


def test_settings_are_checked(rec):
    with pytest.raises(ValueError, match="infer_every"):
        LiveAnalyzer(rec, LiveSettings(infer_every=0))
    analyzer = LiveAnalyzer(rec, LiveSettings(infer_every=10, window=0.2))
    with pytest.raises(ValueError, match="widen the window"):
        next(analyzer.analyze([], fps=30))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(stream):
    """The stream fixture served over HTTP on the loopback interface."""
    handler = functools.partial(_QuietHandler, directory=str(stream.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{stream.name}"
    server.shutdown()
    server.server_close()


def test_a_url_is_read_as_a_live_stream(rec, served, has_ffmpeg):
    if not has_ffmpeg:
        pytest.skip("imageio-ffmpeg is not installed: the sample video is not streamable")
    pre = rec.runner.preprocessor
    with VideoSource(url=served, max_seconds=1.0) as source:
        assert source.live and (source.width, source.height) == (640, 480)
        frames = list(source)
    times = [f.time for f in frames]
    assert frames and times == sorted(times) and times[-1] <= 1.0
    assert len(frames) + source.dropped >= 25  # paced at the stream's speed
    audio = StreamAudio(served, pre.audio.sample_rate, pre.audio.num_samples)
    try:
        for _ in range(100):
            if audio.window(1.0) is not None:
                break
            threading.Event().wait(0.05)
        assert audio.window(1.0) is not None and "stream" in audio.notice
    finally:
        audio.close()


def test_the_microphone(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # not installed
    with pytest.raises(RuntimeError, match="pip install sounddevice"):
        MicrophoneAudio(16000, 48000)

    class FakeStream:  # calls back with a second of tone, as PortAudio would
        def __init__(self, samplerate, channels, dtype, device, callback):
            self.callback, self.rate = callback, samplerate

        def start(self):
            tone = 0.2 * np.sin(np.arange(self.rate, dtype=np.float32) / 5)
            self.callback(tone[:, None], self.rate, None, None)

        def stop(self):
            pass

        def close(self):
            pass

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(InputStream=FakeStream))
    with MicrophoneAudio(16000, 48000) as mic:
        window = mic.window(1.0)
        assert window.shape == (48000,) and window[:16000].any() and not window[16000:].any()
        assert mic.window(0.9) is None  # under a third of a window heard by then


def test_the_command(rec, stream, tmp_path, capsys, monkeypatch):
    import emozoo.inference

    monkeypatch.setattr(emozoo.inference, "EmotionRecognizer", lambda *a, **k: rec)
    out, timeline = tmp_path / "a.mp4", tmp_path / "t.csv"
    code = main(["live", str(stream), "--headless", "--out", str(out), "--csv", str(timeline)])
    printed = capsys.readouterr().out
    assert code == 0 and "real-time factor" in printed and "face 0:" in printed
    assert out.stat().st_size > 10_000 and len(read_timeline(timeline)) == FRAMES
    # Headless without outputs: a status line per second of stream.
    assert main(["live", str(stream), "--headless", "--max-seconds", "1.5", "--no-audio"]) == 0
    status = [line for line in capsys.readouterr().out.splitlines() if " s  face 0:" in line]
    assert len(status) == 2 and "(face)" in status[0]
    # No display and nothing to write: a clear error.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["live", str(stream)]) == 2
    assert "--headless" in capsys.readouterr().err
    assert main(["live", str(tmp_path / "missing.mp4"), "--headless"]) == 2
    assert "does not exist" in capsys.readouterr().err
