"""Knowledge distillation: train a small student on a big teacher's soft labels.

The teacher (one registered model, or an ensemble whose probabilities are averaged)
is run **once** per item and augmented copy, and its outputs are cached on disk with the
student's inputs of the same copy, so that the epochs that follow cost only the
student's own steps and an interrupted run resumes without re-running the teacher.

The loss mixes the teacher's tempered distribution and the hard label::

    loss = alpha * T**2 * KL(teacher_T || student_T) + (1 - alpha) * CE(label, student)

Items without a label (``-1``: a folder of your own unlabelled photos or clips) count
too: their loss is the teacher term alone. Copy 0 of every item is the clean item; the
others are augmented the same way for teacher and student (faces: flip, affine,
brightness, contrast, erasing on the shared 48x48 crop; speech: speed, gain, noise and
shift on the waveform, some with babble or a telephone channel; text: word dropout and
an adjacent-word swap on the string).

>>> student = emozoo.load("audio_lstm")  # doctest: +SKIP
>>> data = DistillationData.from_records(emozoo.data.load_source("ravdess_speech", "train"))  # doctest: +SKIP
>>> distill(student, data, teacher="audio_whisper", val_ds=val, log_dir="runs/student")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import keras
import numpy as np
from keras import ops

from emozoo.data.custom import AUDIO_SUFFIXES, IMAGE_SUFFIXES, read_face_image
from emozoo.models import get_labels
from emozoo.preprocessing.audio import AudioPreprocessor, fit_length, read_audio, resample
from emozoo.preprocessing.face import FacePreprocessor
from emozoo.preprocessing.text import TextPreprocessor
from emozoo.training.cache_keys import digest
from emozoo.training.recipe import Recipe

if TYPE_CHECKING:
    import tensorflow as tf

    from emozoo.data.records import Records
    from emozoo.preprocessing import ModalityPreprocessor, Preprocessor

    #: A teacher or student preprocessor as given: a model's, or its modality's.
    _GivenPreprocessor: TypeAlias = (
        Preprocessor | FacePreprocessor | AudioPreprocessor | TextPreprocessor
    )
    #: A teacher: a registered model name, a model, or a list of them (an ensemble).
    _Teacher: TypeAlias = str | keras.Model | Sequence[str | keras.Model]

#: Probabilities are clipped here before the logarithm (a float32 softmax can give 0).
EPSILON = 1e-7
#: Items of one step of the teacher's and the student's preprocessing.
CHUNK = 256
#: Shares of a speech item's augmented copies with another clip mixed in as babble (5-20 dB)
#: and sent through a telephone channel: the recording conditions speech cards report.
BABBLE_SHARE = 0.3
PHONE_SHARE = 0.2
#: Bumped whenever augmented copies change, so that cached teacher outputs of older
#: copies are not read back as if they were the new ones.
COPIES_REVISION = 2


@keras.saving.register_keras_serializable(package="emozoo")
class DistillationLoss(keras.losses.Loss):  # type: ignore[misc]  # keras ships no types
    """Soft-label loss over packed targets ``[one-hot label | labelled flag | teacher log-p]``.

    A target row of width ``num_classes`` (a plain one-hot label, as validation data
    gives) is scored by the cross-entropy alone, so the same compiled model validates
    on ordinary labelled batches.
    """

    def __init__(
        self,
        num_classes: int,
        temperature: float = 4.0,
        alpha: float = 0.7,
        name: str = "distillation",
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(
                f"alpha (the teacher's share of the loss) must be in [0, 1], got {alpha}"
            )
        self.num_classes = int(num_classes)
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        c, t = self.num_classes, self.temperature
        log_p = ops.log(ops.clip(ops.cast(y_pred, "float32"), EPSILON, 1.0))
        y_true = ops.cast(y_true, "float32")
        cross_entropy = -ops.sum(y_true[:, :c] * log_p, axis=-1)
        if y_true.shape[-1] == c:
            return cross_entropy
        labelled = y_true[:, c]
        teacher = ops.softmax(y_true[:, c + 1 :] / t, axis=-1)
        student = ops.log_softmax(log_p / t, axis=-1)
        teacher_log = ops.log(ops.clip(teacher, EPSILON, 1.0))
        kl = ops.sum(teacher * (teacher_log - student), axis=-1) * (t * t)
        return self.alpha * kl + (1.0 - self.alpha) * labelled * cross_entropy

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "temperature": self.temperature,
            "alpha": self.alpha,
        }


@keras.saving.register_keras_serializable(package="emozoo")
class LabelAccuracy(keras.metrics.Metric):  # type: ignore[misc]  # keras ships no types
    """Accuracy on the rows that carry a label, reading the one-hot part of packed targets
    (``"accuracy"``, so that checkpoints and early stopping watch it as usual)."""

    def __init__(self, num_classes: int, name: str = "accuracy", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.labelled = self.add_variable(shape=(), initializer="zeros", name="labelled")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        hard = ops.cast(y_true, "float32")[:, : self.num_classes]
        has_label = ops.cast(ops.sum(hard, axis=-1) > 0, "float32")
        hit = ops.cast(ops.argmax(hard, axis=-1) == ops.argmax(y_pred, axis=-1), "float32")
        self.correct.assign_add(ops.sum(hit * has_label))
        self.labelled.assign_add(ops.sum(has_label))

    def result(self) -> Any:
        return self.correct / ops.maximum(self.labelled, 1.0)

    def reset_state(self) -> None:
        self.correct.assign(0.0)
        self.labelled.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes}


@dataclass
class DistillationData:
    """The items a student learns from: raw inputs of one modality, labels or ``-1``.

    ``items`` are what the modality's stored items are: face crops (uint8 arrays) or
    image paths, audio file paths, or texts.
    """

    modality: str
    items: list[Any]
    labels: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        if len(self.items) != len(self.labels):
            raise ValueError(f"{len(self.items)} items but {len(self.labels)} labels")
        if not len(self.items):
            raise ValueError("No items to distil on")

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def from_records(cls, records: Records) -> DistillationData:
        """Labelled items of :class:`emozoo.data.Records` (a dataset split, a folder)."""
        return cls(records.modality, list(records.items), records.labels, repr(records))

    @classmethod
    def from_folder(cls, folder: str | Path, modality: str) -> DistillationData:
        """Every photo (``modality="face"``) or clip (``"audio"``) under ``folder``,
        unlabelled: the teacher's soft labels are all the student learns from them."""
        suffixes = {"face": IMAGE_SUFFIXES, "audio": AUDIO_SUFFIXES}.get(modality)
        if suffixes is None:
            raise ValueError(f"A folder holds photos (face) or clips (audio), not {modality}")
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"Folder {root} does not exist")
        files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in suffixes)
        if not files:
            raise ValueError(f"No {'/'.join(suffixes)} files under {root}")
        return cls(modality, files, np.full(len(files), -1), f"unlabelled {root}")

    def __add__(self, other: DistillationData) -> DistillationData:
        if other.modality != self.modality:
            raise ValueError(f"Cannot join {self.modality} items with {other.modality} items")
        return DistillationData(
            self.modality,
            self.items + other.items,
            np.concatenate([self.labels, other.labels]),
            f"{self.source} + {other.source}",
        )


def _augment_text(text: str, rng: np.random.Generator) -> str:
    words = text.split()
    kept = [w for w in words if rng.random() >= 0.1] or words
    if len(kept) > 2 and rng.random() < 0.5:
        i = int(rng.integers(len(kept) - 1))
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return " ".join(kept)


def _babble(clips: list[np.ndarray], i: int, rng: np.random.Generator) -> np.ndarray | None:
    """Another clip of the chunk to mix under clip ``i`` as babble (a share
    :data:`BABBLE_SHARE` of the augmented copies), else ``None``."""
    if len(clips) < 2 or rng.random() >= BABBLE_SHARE:
        return None
    j = int(rng.integers(len(clips) - 1))
    return clips[j + (j >= i)]


def _phone(clip: np.ndarray, sample_rate: int) -> np.ndarray:
    """``clip`` through a telephone channel (300-3400 Hz at an 8 kHz rate, 8-bit mu-law)."""
    from emozoo.evaluation.conditions import phone_band

    narrow: np.ndarray = phone_band(clip[None], sample_rate)[0]
    return narrow


class _Copies:
    """Teacher and student inputs of one chunk of items, for one copy (0: clean)."""

    def __init__(
        self,
        student_pre: ModalityPreprocessor,
        teacher_pres: Sequence[ModalityPreprocessor],
        seed: int,
    ):
        self.student_pre = student_pre
        self.teacher_pres = list(teacher_pres)
        self.seed = seed
        if isinstance(student_pre, FacePreprocessor):
            shapes = {p.input_shape for p in [student_pre, *self.teacher_pres]}
            if len(shapes) > 1:
                raise ValueError(
                    f"teacher and student take faces of different shapes {sorted(shapes)}; "
                    "distil between face models of one input size"
                )

    def _raw(self, items: list[Any]) -> list[Any]:
        if isinstance(self.student_pre, FacePreprocessor):
            size = self.student_pre.image_size
            return [
                read_face_image(i, size) if isinstance(i, (str, Path)) else np.asarray(i)
                for i in items
            ]
        if isinstance(self.student_pre, AudioPreprocessor):
            rate = self.student_pre.sample_rate
            out = []
            for path in items:
                wave, file_rate = read_audio(path)
                out.append(resample(wave, file_rate, rate))
            return out
        return [str(i) for i in items]

    def __call__(
        self, items: list[Any], start: int, copy: int
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        raw = self._raw(items)
        rng = np.random.default_rng([self.seed, copy, start])
        # One modality's preprocessors (the audio branch uses AudioPreprocessor's own).
        pres: list[Any] = [self.student_pre, *self.teacher_pres]
        if isinstance(self.student_pre, AudioPreprocessor):
            if copy:
                from emozoo.training.frozen_features import perturb

                rate = self.student_pre.sample_rate
                longest = max(p.num_samples for p in pres)
                raw = [
                    perturb(fit_length(w, longest), rng, rate, longest, other=_babble(raw, i, rng))
                    for i, w in enumerate(raw)
                ]
                raw = [_phone(w, rate) if rng.random() < PHONE_SHARE else w for w in raw]
            inputs = [p(raw, sample_rate=self.student_pre.sample_rate) for p in pres]
        elif isinstance(self.student_pre, TextPreprocessor):
            if copy:
                raw = [_augment_text(t, rng) for t in raw]
            inputs = [p(raw) for p in pres]
        else:
            inputs = [p(raw) for p in pres]
            if copy:
                import tensorflow as tf

                from emozoo.data.augment import FaceAugment

                seed = tf.constant([self.seed + copy, start], tf.int32)
                augmented = np.asarray(FaceAugment()(tf.constant(inputs[0]), seed))
                inputs = [augmented] * len(pres)
        return inputs[0], inputs[1:]


def teacher_targets(
    teachers: Sequence[keras.Model],
    student_preprocessor: ModalityPreprocessor,
    teacher_preprocessors: Sequence[ModalityPreprocessor],
    data: DistillationData,
    *,
    copies: int,
    seed: int,
    cache_dir: str | Path,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(student inputs, teacher log-probabilities)``, each ``(n, 1 + copies, ...)``.

    The teachers run once per item and copy; each copy's arrays are saved in
    ``cache_dir`` (``copy<k>.student.npy``, ``copy<k>.teacher.npy``) as soon as they are
    done and read back on the next call, so an interrupted run resumes where it stopped.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    make = _Copies(student_preprocessor, teacher_preprocessors, seed)
    students, targets = [], []
    for copy in range(1 + copies):
        x_path, t_path = cache / f"copy{copy}.student.npy", cache / f"copy{copy}.teacher.npy"
        if x_path.is_file() and t_path.is_file():
            students.append(np.load(x_path, mmap_mode="r"))
            targets.append(np.load(t_path))
            continue
        bar = keras.utils.Progbar(len(data), unit_name="item") if progress else None
        if progress:
            print(
                f"teacher outputs, copy {copy} of {copies} ({'clean' if not copy else 'augmented'})"
            )
        x_parts, t_parts = [], []
        for start in range(0, len(data), CHUNK):
            chunk = data.items[start : start + CHUNK]
            student_x, teacher_xs = make(chunk, start, copy)
            probabilities = np.mean(
                [
                    np.asarray(t.predict({data.modality: x}, batch_size=64, verbose=0))
                    for t, x in zip(teachers, teacher_xs, strict=True)
                ],
                axis=0,
            )
            x_parts.append(student_x)
            t_parts.append(np.log(np.clip(probabilities, EPSILON, 1.0)).astype(np.float32))
            if bar is not None:
                bar.add(len(chunk))
        np.save(x_path, np.concatenate(x_parts))
        np.save(t_path, np.concatenate(t_parts))
        students.append(np.load(x_path, mmap_mode="r"))
        targets.append(np.load(t_path))
    return np.stack(students, axis=1), np.stack(targets, axis=1)


def packed_targets(labels: np.ndarray, teacher_log_probabilities: np.ndarray) -> np.ndarray:
    """Rows ``[one-hot label (zeros if -1) | labelled flag | teacher log-p]`` (float32)."""
    num_classes = teacher_log_probabilities.shape[-1]
    labels = np.asarray(labels).reshape(-1)
    labelled = labels >= 0
    one_hot = np.zeros((len(labels), num_classes), np.float32)
    one_hot[np.flatnonzero(labelled), labels[labelled]] = 1.0
    return np.concatenate(
        [one_hot, labelled[:, None].astype(np.float32), teacher_log_probabilities], axis=-1
    )


def distillation_dataset(
    modality: str,
    student_inputs: np.ndarray,
    teacher_log_probabilities: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int = 0,
) -> tf.data.Dataset:
    """Shuffled batches of ``({modality: x}, packed target)``; each epoch draws one
    copy of every item at random (the teacher's outputs of that very copy)."""
    import tensorflow as tf

    n: int
    copies: int
    n, copies = student_inputs.shape[:2]
    targets = np.stack(
        [packed_targets(labels, teacher_log_probabilities[:, c]) for c in range(copies)], axis=1
    )
    rng = np.random.default_rng(seed)

    def epoch() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        order = rng.permutation(n)
        chosen = rng.integers(copies, size=n)
        for start in range(0, n, batch_size):
            rows, cols = order[start : start + batch_size], chosen[start : start + batch_size]
            yield {modality: np.asarray(student_inputs[rows, cols])}, targets[rows, cols]

    x_spec = tf.TensorSpec((None, *student_inputs.shape[2:]), student_inputs.dtype)
    y_spec = tf.TensorSpec((None, targets.shape[-1]), tf.float32)
    return tf.data.Dataset.from_generator(epoch, output_signature=({modality: x_spec}, y_spec))


def _teacher_models(teacher: _Teacher) -> list[tuple[keras.Model, Any]]:
    """``[(model, preprocessor)]`` of a teacher name, model, or a list of them (ensemble)."""
    import emozoo

    teachers = [teacher] if isinstance(teacher, (str, keras.Model)) else list(teacher)
    if not teachers:
        raise ValueError("Give a teacher: a registered model name, a model, or a list of them")
    out: list[tuple[keras.Model, Any]] = []
    for t in teachers:
        if isinstance(t, str):
            out.append((emozoo.load(t), emozoo.load_preprocessor(t)))
        else:
            out.append((t, getattr(t, "preprocessor", None)))
    return out


def teacher_description(teacher: _Teacher) -> str:
    """A teacher (or an ensemble) in words, for logs and cards."""
    names = [teacher] if isinstance(teacher, (str, keras.Model)) else list(teacher)
    names = [t if isinstance(t, str) else t.name for t in names]
    return names[0] if len(names) == 1 else "ensemble of " + " + ".join(names)


def distill(
    student: keras.Model,
    data: DistillationData,
    teacher: _Teacher,
    val_ds: tf.data.Dataset | None = None,
    *,
    student_preprocessor: _GivenPreprocessor | None = None,
    teacher_preprocessors: Sequence[_GivenPreprocessor] | None = None,
    temperature: float = 4.0,
    alpha: float = 0.7,
    copies: int = 2,
    batch_size: int = 64,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    **fit_options: Any,
) -> keras.callbacks.History:
    """Train ``student`` on ``teacher``'s soft labels (and the hard labels it has).

    Args:
        student: a model with a classifier over the teacher's labels, e.g.
            ``emozoo.load("face_cnn", weights=None)``; it ends up with the trained weights.
        data: :class:`DistillationData` (labelled, unlabelled, or both joined with ``+``).
        teacher: a registered model name, a model, or a list of them (an ensemble:
            their probabilities are averaged).
        val_ds: labelled validation batches ``(inputs, label)``, as for :func:`fit`.
        student_preprocessor, teacher_preprocessors: the modality preprocessors; default
            the registered ones (``emozoo.load_preprocessor(name)``).
        temperature: softens both distributions in the teacher term (``T``).
        alpha: the teacher term's share of the loss; ``1 - alpha`` goes to the labels.
        copies: augmented copies per item besides the clean one.
        cache_dir: where teacher outputs are kept (default ``runs/distill/<digest>``).
        fit_options: passed to :func:`emozoo.training.fit` (epochs, learning_rate,
            log_dir, freeze="none" is the default here, ...).

    Returns:
        The ``History`` of :func:`emozoo.training.fit`, its summary naming the teacher.
    """
    import emozoo
    from emozoo.training.finetune import fit

    labels = get_labels(student)
    if labels is None:
        raise ValueError(f"The student {student.name!r} has no classifier (include_top=True)")
    teachers = _teacher_models(teacher)
    for model, _ in teachers:
        if tuple(get_labels(model) or ()) != tuple(labels):
            raise ValueError(
                f"teacher {model.name} predicts {get_labels(model)}, the student {list(labels)}; "
                "distil between models of one label set"
            )
    if copies < 0:
        raise ValueError(f"copies must be 0 or more, got {copies}")
    if data.labels.max() >= len(labels):
        raise ValueError(f"label index {int(data.labels.max())} is outside {len(labels)} classes")
    student_pre = _modality_preprocessor(
        student_preprocessor or emozoo.load_preprocessor(student.name), data.modality
    )
    given = teacher_preprocessors or [p for _, p in teachers]
    if any(p is None for p in given):
        raise ValueError("Give teacher_preprocessors for teachers passed as models")
    teacher_pres = [_modality_preprocessor(p, data.modality) for p in given]
    key = digest(
        [teacher_description(teacher)]
        + [int(m.count_params()) for m, _ in teachers]
        + [float(np.asarray(w).sum()) for m, _ in teachers for w in m.weights[-2:]],
        [_settings(p) for p in [student_pre, *teacher_pres]],
        [
            hashlib.sha256(i.tobytes()).hexdigest() if isinstance(i, np.ndarray) else str(i)
            for i in data.items
        ],
        data.labels.tolist(),
        copies,
        seed,
        COPIES_REVISION,
    )
    cache = Path(cache_dir) if cache_dir is not None else Path("runs") / "distill" / key
    x, teacher_lp = teacher_targets(
        [m for m, _ in teachers],
        student_pre,
        teacher_pres,
        data,
        copies=copies,
        seed=seed,
        cache_dir=cache,
    )
    train_ds = distillation_dataset(data.modality, x, teacher_lp, data.labels, batch_size, seed)
    fit_options.setdefault("freeze", "none")
    fit_options.setdefault("encoder_lr_scale", 1.0)
    history = fit(
        student,
        train_ds,
        val_ds,
        loss=DistillationLoss(len(labels), temperature, alpha),
        seed=seed,
        **fit_options,
    )
    history.summary["teacher"] = teacher_description(teacher)
    history.summary["distillation"] = {
        "temperature": temperature,
        "alpha": alpha,
        "copies": copies,
        "items": len(data),
        "unlabelled": int((data.labels < 0).sum()),
        "cache": str(cache),
    }
    return history


def _settings(pre: ModalityPreprocessor) -> dict[str, Any]:
    """A modality preprocessor's public settings (what its inputs depend on)."""
    public = {k: v for k, v in vars(pre).items() if not k.startswith("_")}
    return {"class": type(pre).__name__, **public}


def _modality_preprocessor(pre: _GivenPreprocessor, modality: str) -> ModalityPreprocessor:
    """The ``modality`` part of a model's preprocessor (or ``pre`` itself if it is one)."""
    if isinstance(pre, (FacePreprocessor, AudioPreprocessor, TextPreprocessor)):
        return pre
    return pre.for_modality(modality)


def distill_recipe(
    model: keras.Model,
    recipe: Recipe,
    preprocessor: _GivenPreprocessor | None,
    val_ds: tf.data.Dataset | None,
    *,
    seed: int,
    cache_dir: str | Path,
    fit_options: dict[str, Any],
) -> keras.callbacks.History:
    """A recipe's ``distill`` block: the student ``model`` on its teacher's soft labels
    over the recipe's ``train`` sources (and ``unlabelled`` folders)::

        distill: {teacher: audio_whisper, temperature: 4, alpha: 0.7, copies: 4,
                  unlabelled: [~/clips]}

    ``fit_options``: flat :func:`~emozoo.training.fit` options (the recipe's schedule,
    ``log_dir``, ``verbose``); the hard labels' loss has no label smoothing.
    """
    from emozoo.data.recipes import records_for

    block = recipe.distill
    if block is None:
        raise ValueError(f"{recipe.model}'s recipe has no distill block")
    data = DistillationData.from_records(records_for(recipe.train))
    for folder in block.unlabelled:
        data = data + DistillationData.from_folder(folder, data.modality)
    options = {k: v for k, v in fit_options.items() if k != "label_smoothing"}
    return distill(
        model,
        data,
        block.teacher,
        val_ds,
        student_preprocessor=preprocessor,
        temperature=float(block.temperature),
        alpha=float(block.alpha),
        copies=int(block.copies),
        batch_size=int(recipe.batch_size),
        cache_dir=cache_dir,
        seed=seed,
        **options,
    )
