"""Video analysis: sampled frames, tracked faces, the audio track, bad files."""

from __future__ import annotations

import pytest

from emozoo.inference import MediaError, VideoAnalysis, extract_audio
from emozoo.inference.demo import sample_path


def test_frames_are_sampled_and_faces_tracked(rec, videos, tmp_path):
    analysis = rec.analyze_video(videos["silent"], every=0.5, progress=False)
    assert isinstance(analysis, VideoAnalysis)
    times = sorted({r["time"] for r in analysis.rows})
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert analysis.tracks == [0, 1]  # the first face keeps its id; a second one joins
    first = [r for r in analysis.rows if r["track"] == 0]
    assert len(first) == 6 and all(r["modalities"] == "face" for r in first)
    assert [r["box"][0] for r in first] == sorted(r["box"][0] for r in first)  # moving right
    assert all(abs(sum(r[k] for k in analysis.labels) - 1) < 1e-3 for r in analysis.rows)
    assert any("no audio track" in n for n in analysis.notices)
    summary = analysis.summary()
    assert [s["track"] for s in summary] == [0, 1] and summary[0]["steps"] == 6
    assert "time" in analysis.table() and len(analysis.columns["time"]) == len(analysis)
    analysis.plot(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 1000
    lines = analysis.to_csv(tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].startswith("time,track,box,top") and len(lines) == len(analysis) + 1


def test_the_audio_track_is_used(rec, videos):
    if videos["with_audio"] is None:
        pytest.skip("imageio-ffmpeg is not installed (pip install 'emozoo[video]')")
    analysis = rec.analyze_video(videos["with_audio"], every=1.0, progress=False)
    assert any(n.startswith("audio track used") for n in analysis.notices)
    assert {r["modalities"] for r in analysis.rows} == {"face+audio"}
    muted = rec.analyze_video(videos["with_audio"], every=1.0, audio=False, progress=False)
    assert {r["modalities"] for r in muted.rows} == {"face"}
    waveform, notice = extract_audio(videos["with_audio"])
    assert waveform is not None and len(waveform) > 16000 * 2.5, notice


def test_max_seconds(rec, videos):
    analysis = rec.analyze_video(videos["silent"], every=0.5, max_seconds=1.0, progress=False)
    assert max(r["time"] for r in analysis.rows) <= 1.0


def test_bad_videos_are_clear_errors(rec, videos, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        rec.analyze_video(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="corrupt.mp4"):
        rec.analyze_video(videos["corrupt"], progress=False)
    with pytest.raises(MediaError, match="not a file"):
        rec.analyze_video(tmp_path)
    with pytest.raises(ValueError, match="every"):
        rec.analyze_video(videos["silent"], every=0)
    not_a_video = tmp_path / "clip.mp4"
    not_a_video.write_bytes(sample_path("happy.wav").read_bytes())
    with pytest.raises(MediaError):
        rec.analyze_video(not_a_video, progress=False)


def test_without_imageio_ffmpeg_the_audio_is_skipped_with_a_notice(rec, videos, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails
    waveform, notice = extract_audio(videos["silent"])
    assert waveform is None and "emozoo[video]" in notice
    with pytest.warns(UserWarning, match="audio track skipped"):
        analysis = rec.analyze_video(videos["silent"], every=1.0, progress=False)
    assert {r["modalities"] for r in analysis.rows} == {"face"}


def test_the_names_video_held_before_its_split_still_import():
    from emozoo.inference import media, results, tracking, video, video_io

    assert video.IoUTracker is tracking.IoUTracker
    assert video.VideoAnalysis is results.VideoAnalysis
    assert video.extract_audio is video_io.extract_audio
    assert video.ffmpeg_audio_command is video_io.ffmpeg_audio_command
    assert video.audio_window is media.audio_window
