"""Choose the voice activity detector: speed and accuracy of each on speech and non-speech.

Speech: RAVDESS test clips (actors 21-24) and TESS clips, clean and under white noise at
10 and 0 dB SNR (speech under noise must still count as speech). Non-speech, generated
here with a fixed seed: digital silence, a -60 dBFS noise floor, white, pink and brown
noise at -30 to -10 dBFS, pure tones (100 Hz to 3 kHz), a sweep, a tone with vibrato,
and synthesized music (chords of harmonic notes with envelopes, and noise-burst drums).
A clip "has speech" when the detector finds at least 0.25 s of it (the recognizer's rule).

    python tools/evaluate_vad.py [--per-type 30] [--speech 120] [--methods silero webrtc ten]

Prints a table per detector and ends with one JSON line (with the CPU's model and flags).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emozoo.evaluation.machine import machine_info  # noqa: E402
from emozoo.inference.speech import METHODS, SAMPLE_RATE, SpeechDetector  # noqa: E402

SECONDS = 3.0


def _scaled(x: np.ndarray, dbfs: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x**2)) + 1e-12
    return (x / rms * 10 ** (dbfs / 20)).astype(np.float32)


def _colored(rng, n: int, exponent: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    return np.fft.irfft(spectrum / freqs ** (exponent / 2), n)


def _music(rng, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    beat = int(SAMPLE_RATE * rng.uniform(0.3, 0.6))
    for start in range(0, n, beat * 2):  # a chord every two beats
        root = 110 * 2 ** (rng.integers(0, 24) / 12)
        for interval in (0, 4, 7, 12):
            f = root * 2 ** (interval / 12)
            piece = slice(start, min(n, start + beat * 2))
            local = t[piece] - t[start]
            envelope = np.exp(-local * rng.uniform(1, 4))
            for harmonic in range(1, 6):
                out[piece] += envelope * np.sin(2 * np.pi * f * harmonic * local) / harmonic**1.5
    for start in range(0, n, beat):  # drums: short decaying noise bursts
        length = min(n - start, int(0.08 * SAMPLE_RATE))
        out[start : start + length] += (
            rng.normal(size=length) * np.exp(-np.arange(length) / (0.015 * SAMPLE_RATE)) * 0.8
        )
    return out


def non_speech(per_type: int, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Generated clips without speech, ``per_type`` of each kind."""
    rng = np.random.default_rng(seed)
    n = int(SECONDS * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    kinds = {
        "silence": lambda: np.zeros(n),
        "noise floor -60 dBFS": lambda: _scaled(rng.normal(size=n), -60),
        "white noise": lambda: _scaled(rng.normal(size=n), rng.uniform(-30, -10)),
        "pink noise": lambda: _scaled(_colored(rng, n, 1.0), rng.uniform(-30, -10)),
        "brown noise": lambda: _scaled(_colored(rng, n, 2.0), rng.uniform(-30, -10)),
        "tone": lambda: _scaled(np.sin(2 * np.pi * rng.uniform(100, 3000) * t), -15),
        "sweep": lambda: _scaled(
            np.sin(2 * np.pi * (100 * t + (rng.uniform(500, 3000) - 100) * t**2 / (2 * SECONDS))),
            -15,
        ),
        "vibrato tone": lambda: _scaled(
            np.sin(
                2 * np.pi * rng.uniform(150, 600) * t
                + 8 * np.sin(2 * np.pi * rng.uniform(4, 7) * t)
            ),
            -15,
        ),
        "music": lambda: _scaled(_music(rng, n), rng.uniform(-25, -12)),
    }
    return {
        k: [np.clip(make(), -1, 1).astype(np.float32) for _ in range(per_type)]
        for k, make in kinds.items()
    }


def speech(count: int, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """RAVDESS test and TESS clips, clean and under white noise."""
    from emozoo.data import load_source
    from emozoo.data.datasets.common import DatasetNotFoundError
    from emozoo.inference.media import load_audio

    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {}
    for name, split in (("ravdess_speech", "test"), ("tess", "all")):
        try:
            records = load_source(name, split)
        except DatasetNotFoundError as error:
            print(f"skipping {name}: {error}")
            continue
        picks = rng.choice(len(records), size=min(count, len(records)), replace=False)
        clips = [load_audio(records.items[i]).waveform for i in sorted(picks)]
        out[f"{name} clean"] = clips
        for snr in (10, 0):
            noisy = []
            for clip in clips:
                power = np.mean(clip**2) + 1e-12
                noise = rng.normal(size=len(clip)) * np.sqrt(power / 10 ** (snr / 10))
                noisy.append(np.clip(clip + noise, -1, 1).astype(np.float32))
            out[f"{name} + white noise {snr} dB SNR"] = noisy
    return out


def evaluate(method: str, speech_sets: dict, other_sets: dict) -> dict:
    """Share of clips judged correctly per set, and milliseconds per second of audio."""
    detector = SpeechDetector(method)
    detector.frames(np.zeros(SAMPLE_RATE, np.float32))  # load outside the timing
    rows, seconds, spent = {}, 0.0, 0.0
    for sets, wanted in ((speech_sets, True), (other_sets, False)):
        for name, clips in sets.items():
            right = 0
            for clip in clips:
                start = time.perf_counter()
                found = detector.has_speech(clip)
                spent += time.perf_counter() - start
                seconds += len(clip) / SAMPLE_RATE
                right += found == wanted
            rows[name] = right / len(clips)
    speech_rows = [rows[k] for k in speech_sets]
    other_rows = [rows[k] for k in other_sets]
    return {
        "per_set": {k: round(v, 4) for k, v in rows.items()},
        "speech_recall": round(float(np.mean(speech_rows)), 4) if speech_rows else None,
        "non_speech_rejection": round(float(np.mean(other_rows)), 4),
        "balanced_accuracy": round(float(np.mean([np.mean(speech_rows), np.mean(other_rows)])), 4)
        if speech_rows
        else None,
        "ms_per_audio_second": round(1000 * spent / seconds, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=30, help="generated clips per kind")
    parser.add_argument("--speech", type=int, default=120, help="clips per speech corpus")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = parser.parse_args(argv)
    speech_sets = speech(args.speech)
    other_sets = non_speech(args.per_type)
    results = {}
    for method in args.methods:
        try:
            results[method] = evaluate(method, speech_sets, other_sets)
        except ImportError as error:
            results[method] = {"error": str(error)}
            print(f"{method}: {error}")
            continue
        r = results[method]
        print(
            f"\n{method}: balanced accuracy {r['balanced_accuracy']}, "
            f"{r['ms_per_audio_second']} ms per second of audio"
        )
        for name, value in r["per_set"].items():
            print(f"  {name:<42} {100 * value:5.1f}%")
    print(json.dumps({"machine": machine_info(), "clips_per_kind": args.per_type, "vad": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
