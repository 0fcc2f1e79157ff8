"""``emozoo demo``: the pretrained fusion model on the samples shipped with the package.

The samples (``emozoo/assets/samples/``, see its README.md): a public-domain NASA photo,
sentences written for emozoo and the same sentences spoken by the espeak-ng synthesizer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from emozoo.paths import ASSETS_DIR

SAMPLES_DIR = ASSETS_DIR / "samples"


def sample_path(name: str) -> Path:
    """Path of a bundled sample file (``astronaut.jpg``, ``happy.wav``, ...).

    >>> sample_path("astronaut.jpg").name
    'astronaut.jpg'
    """
    path = SAMPLES_DIR / name
    if not path.is_file():
        known = sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix in (".jpg", ".wav"))
        raise FileNotFoundError(f"No bundled sample {name!r}; bundled: {', '.join(known)}")
    return path


def load_samples() -> list[dict]:
    """The bundled samples: ``name`` (the emotion the sentence was written for), ``text``,
    and absolute ``image`` / ``audio`` paths (``None`` where a sample has none).

    >>> [s["name"] for s in load_samples()]
    ['happy', 'angry', 'sad']
    """
    data = json.loads((SAMPLES_DIR / "samples.json").read_text(encoding="utf-8"))
    samples = []
    for sample in data["samples"]:
        sample = dict(sample)
        for key in ("image", "audio"):
            sample[key] = str(sample_path(sample[key])) if sample.get(key) else None
        samples.append(sample)
    return samples


def _alone(prediction, modality: str) -> str:
    probabilities = prediction.by_modality.get(modality)
    if probabilities is None:
        if prediction.modalities_used == [modality]:
            probabilities = prediction.probabilities
        else:
            return "-"
    label = max(probabilities, key=probabilities.get)
    return f"{label} {probabilities[label]:.2f}"


def run_demo(
    model: str = "cnn_lstm_fusion",
    out: str | Path | None = "emozoo_demo.png",
    saliency_out: str | Path | None = None,
    echo: Callable[[str], None] = print,
    recognizer=None,
):
    """Predict the bundled samples, print a table and write a PNG; returns the predictions.

    Args:
        model: the registered model to run (any fused model).
        out: where the PNG goes (``None``: no figure).
        saliency_out: where the face saliency PNG goes (``None``: none).
        echo: where the text goes (``print``).
        recognizer: an existing :class:`EmotionRecognizer` to reuse.

    >>> predictions = run_demo(out=None)  # doctest: +SKIP
    """
    from emozoo.inference.media import load_image
    from emozoo.inference.plots import plot_demo, save_saliency
    from emozoo.inference.recognizer import EmotionRecognizer
    from emozoo.inference.results import format_table

    rec = recognizer or EmotionRecognizer(model)
    samples = load_samples()
    predictions, without_audio = [], []
    for sample in samples:
        predictions.append(
            rec.predict(
                image=sample["image"],
                text=sample["text"],
                audio=sample["audio"],
                saliency=saliency_out is not None and sample["image"] is not None,
            )
        )
        without_audio.append(rec.predict(image=sample["image"], text=sample["text"]))
    echo(f"emozoo demo: {rec.model_name} on {len(samples)} bundled samples ({SAMPLES_DIR})")
    echo("")
    for sample in samples:
        given = [k for k in ("image", "audio") if sample[k]]
        files = ", ".join(Path(sample[k]).name for k in given)
        echo(f'  {sample["name"]:<6} "{sample["text"]}"  [{files}]')
    echo("")
    header = [
        "sample",
        "prediction",
        "conf",
        "used",
        "face alone",
        "text alone",
        "audio alone",
        "without audio",
    ]
    rows = [
        [
            sample["name"],
            p.top or "-",
            "-" if p.confidence is None else f"{p.confidence:.2f}",
            "+".join(p.modalities_used),
            _alone(p, "face"),
            _alone(p, "text"),
            _alone(p, "audio"),
            f"{q.top} {q.confidence:.2f}" if q.ok else "-",
        ]
        for sample, p, q in zip(samples, predictions, without_audio, strict=True)
    ]
    echo(format_table(rows, header))
    echo("")
    echo("'sample' is the emotion each sentence was written to express. The speech is")
    echo("synthetic (espeak-ng), far from the acted human speech the audio encoder was")
    echo("trained on; the 'alone' columns show what each modality says by itself.")
    image_sample = next((s for s in samples if s["image"]), None)
    if out is not None:
        image = load_image(image_sample["image"])[0] if image_sample else None
        path = Path(out)
        plot_demo(predictions, [s["name"] for s in samples], image=image, path=path)
        echo(f"figure: {path}")
    if saliency_out is not None:
        with_face = next((p for p in predictions if p.faces), None)
        if with_face is not None:
            echo(f"saliency: {save_saliency(with_face, saliency_out)}")
    return predictions
