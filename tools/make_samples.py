"""Build the demo samples shipped in ``emozoo/assets/samples/`` (run once; outputs are committed).

    python tools/make_samples.py --astronaut /path/to/skimage/data/astronaut.png

- ``astronaut.jpg``: scikit-image's ``astronaut.png`` (Eileen Collins, a NASA photograph
  in the public domain), re-encoded as JPEG quality 85. Get the PNG from the
  scikit-image wheel (``pip download --no-deps scikit-image`` and unzip
  ``skimage/data/astronaut.png``).
- ``<name>.wav``: the sample's sentence spoken by espeak-ng (Debian package
  ``espeak-ng``), resampled to 16 kHz mono 16-bit PCM.
- ``samples.json``: the samples (name, sentence, files), read by ``emozoo demo``.

The sentences were written for this project. Prints the files and their sizes, then one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

from emozoo.preprocessing.audio import resample, to_mono

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "emozoo" / "assets" / "samples"

#: name -> (sentence, espeak-ng arguments: voice, pitch 0-99, words per minute, amplitude)
SAMPLES = {
    "happy": (
        "We made it! The launch went perfectly and I have never felt so proud.",
        ["-v", "en-us+f3", "-p", "75", "-s", "170", "-a", "150"],
    ),
    "angry": (
        "Nobody told me the flight was cancelled. This is completely unacceptable!",
        ["-v", "en-us+m3", "-p", "35", "-s", "185", "-a", "200"],
    ),
    "sad": (
        "She moved away last week, and the house feels so empty without her.",
        ["-v", "en-us+m1", "-p", "25", "-s", "115", "-a", "90"],
    ),
}


def speak(sentence: str, args: list[str], path: Path, rate: int = 16000) -> float:
    """Synthesize ``sentence`` with espeak-ng into a 16 kHz mono 16-bit WAV; its duration."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng not found: apt-get install -y espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", *args, "-w", str(raw), sentence], check=True)
        waveform, source_rate = sf.read(str(raw), dtype="float32")
    waveform = resample(to_mono(waveform), source_rate, rate)
    waveform = 0.9 * waveform / max(float(np.abs(waveform).max()), 1e-6)
    sf.write(str(path), waveform, rate, subtype="PCM_16")
    return len(waveform) / rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--astronaut", required=True, help="skimage/data/astronaut.png")
    parser.add_argument("--out", default=str(SAMPLES_DIR))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    image = cv2.imread(args.astronaut)
    if image is None:
        raise SystemExit(f"cannot read {args.astronaut}")
    cv2.imwrite(
        str(out / "astronaut.jpg"),
        image,
        [cv2.IMWRITE_JPEG_QUALITY, 85, cv2.IMWRITE_JPEG_OPTIMIZE, 1],
    )
    samples = []
    for i, (name, (sentence, espeak_args)) in enumerate(SAMPLES.items()):
        duration = speak(sentence, espeak_args, out / f"{name}.wav")
        samples.append(
            {
                "name": name,
                "image": "astronaut.jpg" if i == 0 else None,
                "text": sentence,
                "audio": f"{name}.wav",
                "audio_seconds": round(duration, 2),
            }
        )
    (out / "samples.json").write_text(json.dumps({"samples": samples}, indent=2) + "\n")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    for name, size in sizes.items():
        print(f"{name:<16} {size / 1024:7.1f} KiB")
    total = sum(sizes.values())
    print(f"{'total':<16} {total / 1024:7.1f} KiB")
    print(json.dumps({"total_bytes": total, "files": sizes}))


if __name__ == "__main__":
    main()
