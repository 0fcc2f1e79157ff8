"""A model's LiteRT build in parts: one file per modality encoder, one for the head.

Why parts: a fused model's encoders are registered models of their own
(``vgg_minilm_whisper_fusion`` takes ``face_vgg``, ``text_minilm`` and ``audio_whisper``
frozen), so one embedding file per encoder serves every model built on it; an absent
modality costs nothing at inference (its file is not even opened); and each encoder
gets the weight format its parity allows (MiniLM keeps 99%+ agreement with int8
dynamic-range weights, Whisper's layer statistics need float16 weights, a face CNN runs
in int8 weights and activations at its float accuracy).

A part is a batch-1 SavedModel converted to builtin LiteRT operators, as
:mod:`emozoo.export.tflite` does for whole models. Encoder parts take the modality's
preprocessed input (named as the modality) and give ``embedding``; the head part takes
each modality's embedding (named as the modality) and, for a fused model, its
``<modality>_present`` flag, and gives ``probabilities``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emozoo.export.flatbuffer import non_builtin_operators
from emozoo.export.launcher import ConverterError
from emozoo.export.runtime import OUTPUT_NAME

if TYPE_CHECKING:
    import keras

#: The output name of an encoder part.
EMBEDDING_OUTPUT = "embedding"


@dataclass
class LiteParts:
    """A Keras model cut for a parts build.

    Attributes:
        encoders: ``{modality: keras.Model}``, preprocessed input to embedding.
        head: embeddings (and presence flags, for a fused model) to probabilities.
        sources: ``{modality: registered model}`` whose embedding each encoder computes
            with the same weights (the encoder file can be shared with that model).
    """

    encoders: dict[str, Any]
    head: Any
    sources: dict[str, str]


def _same_weights(a: keras.Model, b: keras.Model) -> bool:
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(
        x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wb, strict=True)
    )


def unimodal_parts(model: keras.Model, modality: str) -> tuple[keras.Model, keras.Model]:
    """``(encoder, head)`` of a one-modality model with an ``embedding`` layer: the
    encoder ends at it, the head is the layers after it (dropout, classifier) over a
    new input named ``modality``."""
    import keras

    embedding = model.get_layer("embedding")
    encoder = keras.Model(model.inputs, embedding.output, name=f"{modality}_encoder")
    after = model.layers[model.layers.index(embedding) + 1 :]
    inputs = keras.Input(tuple(embedding.output.shape[1:]), name=modality)
    x = inputs
    for layer in after:
        x = layer(x)
    return encoder, keras.Model({modality: inputs}, x, name=f"{model.name}_head")


def _free_length_twin(entry: Any, model: keras.Model) -> keras.Model:
    """``model``'s weights in ``entry``'s architecture built for inputs of any length
    where a modality allows it (text), so that its encoder part runs a short text at a
    short length; ``model`` itself when no modality does."""
    from emozoo.preprocessing import MODALITY_PREPROCESSORS
    from emozoo.registry.loading import build_model

    if not any(MODALITY_PREPROCESSORS[m].variable_length for m in entry.modalities):
        return model
    twin = build_model(entry, labels=_labels(model, entry), variable_length=True)
    twin.set_weights(model.get_weights())
    return twin


def _labels(model: keras.Model, entry: Any) -> list[str]:
    from emozoo.models import get_labels

    return list(get_labels(model) or entry.labels)


def split_for_lite(name: str, model: keras.Model | None = None) -> LiteParts:
    """Cut registered model ``name`` (its shipped weights, or ``model``) into parts.

    A fused model is cut at its ``<modality>_encoder`` sub-models; each encoder whose
    weights equal a registered one-modality model's (the ``encoders`` its card names)
    is marked as that model's, so the build reuses that model's encoder file.
    """
    from emozoo.models.fusion.compose import split_fused
    from emozoo.registry import get_entry, load
    from emozoo.registry.loading import builder_kwargs

    entry = get_entry(name)
    model = model if model is not None else load(name)
    model = _free_length_twin(entry, model)
    modalities = tuple(entry.modalities)
    if len(modalities) == 1:
        encoder, head = unimodal_parts(model, modalities[0])
        return LiteParts({modalities[0]: encoder}, head, {modalities[0]: name})
    cut = split_fused(model, entry.architecture, builder_kwargs(entry), entry.labels)
    if cut is None:
        raise ValueError(f"{name} has no <modality>_encoder sub-models to cut at")
    encoders, head = cut
    named = dict(entry.encoders)
    sources = {}
    for modality, encoder in encoders.items():
        source = named.get(modality)
        if source and tuple(get_entry(source).modalities) == (modality,):
            own, _ = unimodal_parts(load(source), modality)
            if _same_weights(own, encoder):
                sources[modality] = source
                continue
        sources[modality] = name
    return LiteParts(dict(encoders), head, sources)


#: Weight formats of a part; ``None`` is float32.
PART_QUANTIZE = (None, "float16", "dynamic", "int8")


def _takes_any_length(model: keras.Model) -> bool:
    """Whether an input of ``model`` has a free second (steps) dimension."""
    return any(len(x.shape) > 1 and x.shape[1] is None for x in model.inputs)


def convert_part(
    model: keras.Model,
    path: Path,
    quantize: str | None,
    output_name: str,
    representative: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write ``model`` as a batch-1 LiteRT file of builtin operators at ``path``.

    ``quantize``: ``None`` (float32), ``"float16"`` or ``"dynamic"`` weights, or
    ``"int8"`` weights and activations calibrated on ``representative`` (the part's
    inputs by name, real ones: made-up inputs calibrate poorly), with the layers int8
    cannot represent kept in float32 (:mod:`emozoo.export.quantization`).
    ``representative``: ``{input name: array}``, a few hundred rows of the part's own
    inputs (for an encoder, ``{modality: preprocessed inputs}``).

    Raises:
        ValueError: an unknown format; calibration inputs without int8 or int8 without
            them; int8 for a recurrent encoder that takes inputs of any length.
        ConverterError: the converter failed or wrote non-builtin operators.
    """
    from emozoo.export import common
    from emozoo.export.quantization import float_layers
    from emozoo.export.savedmodel import write_archive
    from emozoo.export.source import export_copy, has_recurrent_layers
    from emozoo.export.tflite import convert_saved_model

    if quantize not in PART_QUANTIZE:
        raise ValueError(f"a part is float32, float16, dynamic or int8, not {quantize!r}")
    if (quantize == "int8") != (representative is not None):
        raise ValueError("representative inputs calibrate int8, and only int8")
    # Integer calibration of a recurrent while loop crashes the converter, so int8 unrolls
    # recurrent layers, which needs a fixed number of steps.
    unroll = quantize == "int8" and has_recurrent_layers(model)
    if unroll and _takes_any_length(model):
        raise ValueError(
            f"{model.name} takes inputs of any length: its recurrent layers cannot be "
            "unrolled for int8 (keep it float32 or dynamic)"
        )
    copy = export_copy(model, unroll=unroll, lite=True, quantize=quantize)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=".emozoo-export-", dir=path.parent) as tmp_dir:
        tmp = Path(tmp_dir)
        write_archive(copy, tmp / "saved_model", batch_size=1, output_name=output_name)
        calibration = None
        if representative is not None:
            calibration = tmp / "representative.npz"
            arrays: dict[str, Any] = {f"input:{k}": v for k, v in representative.items()}
            np.savez(calibration, **arrays)
        flat = convert_saved_model(
            tmp / "saved_model",
            tmp / "part.tflite",
            quantize,
            calibration,
            what=f"The LiteRT conversion of {model.name} (quantize={quantize})",
            float_layers=float_layers(copy) if quantize == "int8" else None,
        )
        foreign = non_builtin_operators(flat)
        if foreign:
            raise ConverterError(f"{model.name}: non-builtin operators {foreign}")
        staged = tmp / path.name
        staged.write_bytes(flat)
        common.replace_path(staged, path)
    return path


class PartsInterpreter:
    """Run a parts build row by row on the LiteRT interpreter (build-time checks; the
    inference layer has its own runner over the card)."""

    def __init__(
        self,
        encoder_files: dict[str, Path],
        head_file: Path,
        multimodal: bool,
        preprocessor: Any = None,
    ):
        """``preprocessor``: the model's; with it, the rows of an encoder of free input
        length are cut as the inference runner cuts them (``run_length``)."""
        from emozoo.export.runtime import interpreter_class

        interpreter, self.runtime = interpreter_class()

        def runner(path: Path) -> Any:  # a LiteRT signature runner
            it = interpreter(model_path=str(path))
            it.allocate_tensors()
            return it.get_signature_runner("serving_default")

        self.encoders = {m: runner(p) for m, p in encoder_files.items()}
        self.head = runner(head_file)
        self.multimodal = multimodal
        self.preprocessor = preprocessor

    def embed(self, modality: str, inputs: np.ndarray) -> np.ndarray:
        """Embeddings of a batch of preprocessed inputs, one row at a time."""
        run = self.encoders[modality]
        detail = run.get_input_details()[modality]
        dtype = np.dtype(detail["dtype"])
        signature = detail["shape_signature"]
        free = self.preprocessor is not None and len(signature) > 1 and int(signature[1]) == -1
        pre = self.preprocessor.for_modality(modality) if free else None
        rows = []
        for x in inputs:
            if pre is not None:  # the signature runner resizes its input to the row's
                x = x[: pre.run_length(x)]
            rows.append(run(**{modality: np.asarray(x[None], dtype)})[EMBEDDING_OUTPUT][0])
        return np.stack(rows)

    def predict(self, inputs: dict[str, np.ndarray], present: tuple[str, ...]) -> np.ndarray:
        """Probabilities of the rows of ``inputs`` with only ``present`` modalities used
        (the others get zero embeddings and a presence flag of 0)."""
        n = len(next(iter(inputs.values())))
        embeddings = {m: self.embed(m, inputs[m]) for m in present}
        details = self.head.get_input_details()
        out = []
        for i in range(n):
            feed = {}
            for key, detail in details.items():
                if key.endswith("_present"):
                    value = np.full((1, 1), float(key[: -len("_present")] in present))
                elif key in embeddings:
                    value = embeddings[key][i : i + 1]
                else:
                    value = np.zeros(detail["shape"])
                feed[key] = np.asarray(value, np.dtype(detail["dtype"]))
            out.append(self.head(**feed)[OUTPUT_NAME][0])
        return np.stack(out)


__all__ = [
    "EMBEDDING_OUTPUT",
    "PART_QUANTIZE",
    "LiteParts",
    "PartsInterpreter",
    "convert_part",
    "split_for_lite",
    "unimodal_parts",
]
