"""Emotions over time in a video: sampled frames, tracked faces, the audio track.

Frames are read with OpenCV. The audio track is decoded with the ffmpeg binary of the
``imageio-ffmpeg`` package (``pip install "emozoo[video]"``); without it, or when the
video has no audio track, the analysis uses the faces only and says so in ``notices``.
"""

from __future__ import annotations

import csv
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emozoo.inference.faces import iou
from emozoo.inference.media import SILENCE_DBFS, MediaError, level_dbfs
from emozoo.inference.results import format_table

#: Time steps whose faces and audio windows go through the network together.
CHUNK_STEPS = 64


class IoUTracker:
    """Greedy IoU tracking: a box continues the track whose last box it overlaps most.

    A track that goes unmatched for more than ``max_missed`` consecutive steps ends.

    >>> tracker = IoUTracker()
    >>> tracker.update([(0, 0, 10, 10)]), tracker.update([(1, 0, 10, 10), (50, 50, 10, 10)])
    ([0], [0, 1])
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 2):
        if not 0 < iou_threshold < 1:
            raise ValueError(f"iou_threshold must be in (0, 1), got {iou_threshold}")
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self._tracks: dict[int, tuple[tuple, int]] = {}  # id -> (last box, missed steps)
        self._next = 0

    def update(self, boxes) -> list[int]:
        """Track ids for ``boxes`` (one step); new ids for boxes that match no track."""
        pairs = sorted(
            (
                (iou(box, last), track, i)
                for i, box in enumerate(boxes)
                for track, (last, _) in self._tracks.items()
            ),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        taken = set()
        for overlap, track, i in pairs:
            if overlap < self.iou_threshold:
                break
            if ids[i] is None and track not in taken:
                ids[i] = track
                taken.add(track)
        for i, box in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self._next
                self._next += 1
            self._tracks[ids[i]] = (tuple(box), 0)
        for track, (last, missed) in list(self._tracks.items()):
            if track not in ids:
                if missed + 1 > self.max_missed:
                    del self._tracks[track]
                else:
                    self._tracks[track] = (last, missed + 1)
        return [int(i) for i in ids]


def extract_audio(path: str | Path, sample_rate: int = 16000) -> tuple[np.ndarray | None, str]:
    """The audio track of a video, mono float32 at ``sample_rate``, or ``None`` and why.

    Uses the ffmpeg binary shipped by the ``imageio-ffmpeg`` package.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        return None, (
            "audio track skipped: install the video extra (pip install 'emozoo[video]', "
            "which adds imageio-ffmpeg) to read it"
        )
    command = ffmpeg_audio_command(imageio_ffmpeg.get_ffmpeg_exe(), str(path), sample_rate)
    result = subprocess.run(command, capture_output=True, timeout=3600)
    waveform = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    if result.returncode != 0 and not len(waveform):
        message = result.stderr.decode(errors="replace").strip()
        if "does not contain any stream" in message:
            return None, "no audio track in the video"
        last = message.splitlines()[-1] if message else "no output"
        return None, f"audio track skipped: ffmpeg could not read it ({last})"
    if not len(waveform):
        return None, "no audio track in the video"
    return waveform, f"audio track used ({len(waveform) / sample_rate:.1f} s)"


@dataclass
class VideoAnalysis:
    """Per time step emotions of a video: one row per tracked face (or per step without one).

    Each row (a dict) has ``time`` (s), ``track`` (face track id, ``None`` for a step
    without a face), ``box`` (x, y, w, h or ``None``), ``top``, ``confidence``,
    ``modalities`` ("face+audio", ...), and one column per label with its probability.
    """

    path: str
    labels: tuple[str, ...]
    every: float
    duration_s: float
    fps: float
    rows: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> dict[str, list]:
        """``{column: values}``, in row order (what a DataFrame is built from)."""
        names = ["time", "track", "box", "top", "confidence", "modalities", *self.labels]
        return {name: [row.get(name) for row in self.rows] for name in names}

    @property
    def tracks(self) -> list[int]:
        """Face track ids, in order of first appearance."""
        return list(dict.fromkeys(r["track"] for r in self.rows if r["track"] is not None))

    def to_pandas(self):
        """The rows as a ``pandas.DataFrame`` (pandas is not an emozoo dependency)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.columns)

    def to_csv(self, path: str | Path) -> Path:
        """Write the rows as CSV (box as ``x y w h``); returns the path."""
        path = Path(path)
        columns = self.columns
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(columns))
            for row in zip(*columns.values(), strict=True):
                writer.writerow(
                    [
                        " ".join(map(str, v))
                        if isinstance(v, (list, tuple))
                        else (f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v))
                        for v in row
                    ]
                )
        return path

    def summary(self) -> list[dict]:
        """Per track (and ``None``: steps without a face): span, steps, dominant emotion."""
        out = []
        for track in [*self.tracks, None]:
            rows = [r for r in self.rows if r["track"] == track and r["top"] is not None]
            if not rows:
                continue
            mean = {label: float(np.mean([r[label] for r in rows])) for label in self.labels}
            top = max(mean, key=mean.get)
            out.append(
                {
                    "track": track,
                    "from_s": rows[0]["time"],
                    "to_s": rows[-1]["time"],
                    "steps": len(rows),
                    "dominant": top,
                    "mean_probability": round(mean[top], 4),
                }
            )
        return out

    def table(self, max_rows: int | None = 20) -> str:
        """The rows as a fixed-width text table (the first ``max_rows``)."""
        shown = self.rows if max_rows is None else self.rows[:max_rows]
        header = ["time", "track", "top", "conf", "modalities", *self.labels]
        body = [
            [
                f"{r['time']:.2f}",
                "-" if r["track"] is None else r["track"],
                r["top"] or "-",
                "-" if r["confidence"] is None else f"{r['confidence']:.2f}",
                r["modalities"] or "-",
                *("-" if r.get(label) is None else f"{r[label]:.2f}" for label in self.labels),
            ]
            for r in shown
        ]
        text = format_table(body, header)
        if len(shown) < len(self.rows):
            text += f"\n... {len(self.rows) - len(shown)} more rows"
        return text

    def plot(self, path: str | Path | None = None):
        """A timeline figure: one panel per face track (and one for steps without a
        face), stacked probabilities over time. Saved as PNG when ``path`` is given."""
        from emozoo.inference.plots import plot_timeline

        return plot_timeline(self, path)


def ffmpeg_audio_command(ffmpeg: str, source: str, sample_rate: int) -> list[str]:
    """The ffmpeg command that writes ``source``'s first audio track to standard output
    as mono float32 samples at ``sample_rate`` (a file, or a stream URL read live)."""
    return [ffmpeg, "-nostdin", "-v", "error", "-i", source, "-map", "0:a:0?", "-vn"] + [
        "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-",
    ]  # fmt: skip


def audio_window(
    waveform: np.ndarray, centre_s: float, rate: int, window: int
) -> np.ndarray | None:
    """The ``window`` samples of ``waveform`` centred on ``centre_s`` (kept inside it),
    or ``None`` when that stretch is silent or shorter than 0.1 s."""
    start = int(round(centre_s * rate)) - window // 2
    start = max(0, min(start, len(waveform) - window))
    piece = waveform[start : start + window]
    if len(piece) < rate * 0.1 or level_dbfs(piece) < SILENCE_DBFS:
        return None
    return np.pad(piece, (0, window - len(piece)))


def _steps(capture, fps: float, every: float, max_seconds: float | None):
    """``(time, RGB frame)`` for the first frame at or after each multiple of ``every``."""
    index, next_time = 0, 0.0
    while True:
        time = index / fps
        if max_seconds is not None and time > max_seconds:
            return
        if not capture.grab():
            return
        if time + 1e-9 >= next_time:
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                return
            yield time, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            while next_time <= time + 1e-9:
                next_time += every
        index += 1


def analyze_video(
    recognizer,
    path: str | Path,
    every: float = 0.5,
    *,
    audio: bool = True,
    max_seconds: float | None = None,
    iou_threshold: float = 0.3,
    progress: bool = True,
) -> VideoAnalysis:
    """Sample a frame every ``every`` seconds, find and track faces, add the audio track.

    Args:
        recognizer: an :class:`~emozoo.EmotionRecognizer` whose model takes faces and/or
            audio.
        path: a video file OpenCV can read (MP4, AVI, MKV, WebM, ...).
        every: seconds between analysed frames.
        audio: use the audio track (a window of the model's length centred on each step).
        max_seconds: stop after this many seconds of video.
        iou_threshold: minimum box overlap that continues a face track.
        progress: show a progress bar.

    Returns:
        A :class:`VideoAnalysis` (``.rows``, ``.table()``, ``.plot(path)``, ``.to_csv()``).

    Raises:
        FileNotFoundError: the file does not exist.
        MediaError: OpenCV cannot open or decode it.

    >>> from emozoo import EmotionRecognizer
    >>> timeline = EmotionRecognizer().analyze_video("interview.mp4")  # doctest: +SKIP
    >>> print(timeline.table())  # doctest: +SKIP
    """
    if every <= 0:
        raise ValueError(f"every must be positive (seconds), got {every}")
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"Video {path} does not exist")
    if not path.is_file():
        raise MediaError(f"Video {path} is not a file")
    runner = recognizer.runner
    use_face = runner.preprocessor.face is not None
    use_audio = audio and runner.preprocessor.audio is not None
    if not use_face and not use_audio:
        raise ValueError(f"{runner.name} takes neither faces nor audio; it cannot analyse a video")

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise MediaError(f"Video {path} could not be opened (corrupt or unsupported format)")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        notices = []
        if not np.isfinite(fps) or fps <= 0:
            fps = 25.0
            notices.append("frame rate unknown; assumed 25 fps")
        duration = frames / fps if frames > 0 else 0.0
        analysis = VideoAnalysis(str(path), runner.labels, every, duration, fps, notices=notices)

        waveform = None
        if use_audio:
            waveform, notice = extract_audio(path, recognizer.sample_rate)
            analysis.notices.append(notice)
            if notice.startswith("audio track skipped"):
                warnings.warn(notice, UserWarning, stacklevel=3)
            if waveform is not None:
                duration = max(duration, len(waveform) / recognizer.sample_rate)
                analysis.duration_s = duration
        elif audio and runner.preprocessor.audio is None:
            analysis.notices.append(f"audio track not used: {runner.name} takes no audio")

        total = (
            int(np.ceil(min(duration, max_seconds or duration) / every)) + 1 if duration else None
        )
        bar = None
        if progress:
            import keras

            bar = keras.utils.Progbar(total, unit_name="step")
        tracker = IoUTracker(iou_threshold=iou_threshold)
        chunk: list[tuple[float, list, list[int], np.ndarray | None]] = []
        decoded = 0
        for time, frame in _steps(capture, fps, every, max_seconds):
            decoded += 1
            faces = recognizer.detector.detect(frame, recognizer.max_faces) if use_face else []
            ids = tracker.update([f.box for f in faces])
            window = (
                audio_window(waveform, time, recognizer.sample_rate, recognizer.window)
                if waveform is not None
                else None
            )
            chunk.append((time, faces, ids, window))
            if len(chunk) >= CHUNK_STEPS:
                analysis.rows.extend(_run_chunk(runner, chunk))
                chunk = []
            if bar is not None:
                bar.update(min(decoded, total) if total else decoded)
        if chunk:
            analysis.rows.extend(_run_chunk(runner, chunk))
        if decoded == 0:
            raise MediaError(f"Video {path}: no frame could be decoded (corrupt or empty file)")
        if not duration:
            analysis.duration_s = analysis.rows[-1]["time"] if analysis.rows else 0.0
    finally:
        capture.release()
    return analysis


def _run_chunk(runner, chunk) -> list[dict]:
    """Rows for a chunk of steps: faces and audio windows encoded in batches, then the head."""
    pre = runner.preprocessor
    crops = [f.crop for _, faces, _, _ in chunk for f in faces]
    windows = [w for *_, w in chunk if w is not None]
    face_bank = runner.encode("face", pre.face(crops)) if crops else None
    audio_bank = runner.encode("audio", np.stack(windows)) if windows else None
    requests: dict[tuple[bool, bool], list[tuple[int | None, int | None]]] = {}
    plan = []
    f = a = 0
    for time, faces, ids, window in chunk:
        audio_at = None
        if window is not None:
            audio_at, a = a, a + 1
        targets = [
            (track, face, f + k) for k, (track, face) in enumerate(zip(ids, faces, strict=True))
        ]
        f += len(faces)
        if not targets:
            targets = [(None, None, None)]
        for track, face, face_at in targets:
            key = (face_at is not None, audio_at is not None)
            slot = None
            if any(key):
                requests.setdefault(key, []).append((face_at, audio_at))
                slot = (key, len(requests[key]) - 1)
            plan.append((time, track, face, slot, key))
    results = {}
    for key, members in requests.items():
        features = {}
        if key[0]:
            features["face"] = face_bank[[m[0] for m in members]]
        if key[1]:
            features["audio"] = audio_bank[[m[1] for m in members]]
        results[key] = runner.classify(features)
    rows = []
    for time, track, face, slot, key in plan:
        row = {
            "time": round(float(time), 3),
            "track": track,
            "box": None if face is None else [int(v) for v in face.box],
            "top": None,
            "confidence": None,
            "modalities": "+".join(
                m for m, used in zip(("face", "audio"), key, strict=True) if used
            ),
        }
        for label in runner.labels:
            row[label] = None
        if slot is not None:
            probabilities = results[slot[0]][slot[1]]
            best = int(np.argmax(probabilities))
            row["top"] = runner.labels[best]
            row["confidence"] = round(float(probabilities[best]), 4)
            for label, p in zip(runner.labels, probabilities, strict=True):
                row[label] = round(float(p), 4)
        rows.append(row)
    return rows
