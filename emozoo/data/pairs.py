"""Cross-dataset pseudo-pairs for training and testing the fusion models.

No dataset here records a face, a sentence and a voice of the same moment. A
pseudo-pair joins a face, a text and a speech clip that share a *label*, each drawn
from its own unimodal dataset. They teach a fusion head to combine evidence; they
are not recordings of one person, and results on them are not results on real
multimodal data. Every model card trained on them says so.

Pair lists are fixed by a seed and built from one split of each source at a time:
the ``test`` pairs use only test items (FER2013 PrivateTest, the text test splits,
RAVDESS actors 21-24), so no test item is ever in a training pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emozoo.data.records import Records, concat_records

MODALITY_ORDER = ("face", "text", "audio")

#: Sources of each pair split: modality -> [(dataset, split), ...].
PAIR_SOURCES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "train": {
        "face": [("fer2013", "Training")],
        "text": [("carer_emotion", "train"), ("goemotions", "train"), ("meld_text", "train")],
        "audio": [("ravdess_speech", "train"), ("tess", "all")],
    },
    "val": {
        "face": [("fer2013", "PublicTest")],
        "text": [("carer_emotion", "validation"), ("goemotions", "dev"), ("meld_text", "dev")],
        "audio": [("ravdess_speech", "val")],
    },
    "test": {
        "face": [("fer2013", "PrivateTest")],
        "text": [("carer_emotion", "test"), ("goemotions", "test"), ("meld_text", "test")],
        "audio": [("ravdess_speech", "test")],
    },
}


@dataclass
class PairList:
    """Indices into one face, one text and one audio :class:`Records` (``-1`` = missing).

    ``present`` is ``(n, 3)`` float32 in face/text/audio order.
    """

    face: np.ndarray
    text: np.ndarray
    audio: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def present(self) -> np.ndarray:
        return np.stack([self.face >= 0, self.text >= 0, self.audio >= 0], axis=1).astype(
            np.float32
        )

    def with_modalities(self, modalities) -> PairList:
        """The same pairs with only ``modalities`` kept (for missing-modality evaluation)."""
        keep = {
            m: getattr(self, m) if m in modalities else np.full_like(self.labels, -1)
            for m in MODALITY_ORDER
        }
        return PairList(**keep, labels=self.labels, label_names=self.label_names)

    def subset(self, indices) -> PairList:
        """The pairs at ``indices``."""
        indices = np.asarray(indices, dtype=np.int64)
        return PairList(
            self.face[indices],
            self.text[indices],
            self.audio[indices],
            self.labels[indices],
            self.label_names,
        )


def build_pairs(
    face: Records,
    text: Records,
    audio: Records,
    num_pairs: int,
    seed: int = 0,
    full_probability: float = 0.5,
) -> PairList:
    """Draw ``num_pairs`` label-matched pseudo-pairs, classes balanced.

    Each pair takes a label uniformly among the classes present in any source, then one
    item of that label from each source that has one. With probability
    ``1 - full_probability`` a random non-empty subset of its modalities is dropped
    (set to -1), so the fusion model learns to work with missing inputs.
    """
    sources = {"face": face, "text": text, "audio": audio}
    label_sets = {r.label_names for r in sources.values()}
    if len(label_sets) != 1:
        raise ValueError(f"Sources disagree on the label set: {label_sets}")
    label_names = face.label_names
    rng = np.random.default_rng(seed)
    by_class = {
        m: [np.flatnonzero(r.labels == c) for c in range(len(label_names))]
        for m, r in sources.items()
    }
    classes = [
        c for c in range(len(label_names)) if any(len(by_class[m][c]) for m in MODALITY_ORDER)
    ]
    labels = rng.choice(classes, size=num_pairs)
    picks = {}
    for m in MODALITY_ORDER:
        column = np.full(num_pairs, -1, np.int64)
        for c in classes:
            rows = np.flatnonzero(labels == c)
            if len(by_class[m][c]):
                column[rows] = rng.choice(by_class[m][c], size=len(rows))
        picks[m] = column
    drop = rng.random(num_pairs) >= full_probability
    for i in np.flatnonzero(drop):
        available = [m for m in MODALITY_ORDER if picks[m][i] >= 0]
        keep_count = rng.integers(1, len(available)) if len(available) > 1 else 1
        kept = set(rng.choice(available, size=keep_count, replace=False))
        for m in available:
            if m not in kept:
                picks[m][i] = -1
    return PairList(
        picks["face"], picks["text"], picks["audio"], labels.astype(np.int64), label_names
    )


def load_pair_sources(split: str, root=None) -> dict[str, Records]:
    """The face, text and audio :class:`Records` that ``split`` pairs are drawn from."""
    from emozoo.data.datasets import load_source

    if split not in PAIR_SOURCES:
        raise ValueError(f"Pair splits are {list(PAIR_SOURCES)}, got {split!r}")
    return {
        m: concat_records([load_source(name, s, root=root) for name, s in sources])
        for m, sources in PAIR_SOURCES[split].items()
    }


#: Default pair counts and seeds: fixed so that every run sees the same lists.
PAIR_DEFAULTS = {"train": (30_000, 0, 0.5), "val": (2_000, 1, 1.0), "test": (3_000, 2, 1.0)}


def load_pairs(split: str, root=None, num_pairs: int | None = None, seed: int | None = None):
    """``(pairs, sources)`` for the standard ``train`` / ``val`` / ``test`` pseudo-pair split.

    Validation and test pairs keep all available modalities; evaluate missing-modality
    robustness with :meth:`PairList.with_modalities`.
    """
    sources = load_pair_sources(split, root)
    default_count, default_seed, full_probability = PAIR_DEFAULTS[split]
    pairs = build_pairs(
        sources["face"],
        sources["text"],
        sources["audio"],
        num_pairs or default_count,
        seed=default_seed if seed is None else seed,
        full_probability=full_probability,
    )
    return pairs, sources


def pair_banks(pairs: PairList, sources: dict[str, Records], preprocessor) -> dict[str, np.ndarray]:
    """Faces, token ids and the decoded clips that ``pairs`` use, as arrays."""
    import keras

    from emozoo.data.audio_io import load_clip

    size = preprocessor.face.image_size
    faces = sources["face"].items
    if faces.shape[1:] != (size, size):
        faces = preprocessor.face(faces)[..., 0].astype(np.uint8)
    texts = sources["text"].items
    token_ids = preprocessor.text.from_items(texts)
    used_audio = np.unique(pairs.audio[pairs.audio >= 0])
    clips = np.zeros((len(sources["audio"]), preprocessor.audio.num_samples), np.float32)
    progress = keras.utils.Progbar(len(used_audio), unit_name="clip")
    for n, i in enumerate(used_audio):
        clips[i] = load_clip(
            sources["audio"].items[i],
            preprocessor.audio.sample_rate,
            preprocessor.audio.num_samples,
        )
        if n % 50 == 0 or n == len(used_audio) - 1:
            progress.update(n + 1)
    return {"face": faces, "text": token_ids, "audio": clips, "decoded": used_audio}


def bank_inputs(banks: dict[str, np.ndarray], modality: str, index) -> np.ndarray:
    """Model inputs of the bank items at ``index`` (faces get their channel axis)."""
    items = banks[modality][index]
    if modality == "face":
        return items[..., None].astype(np.float32)
    return items


def pairs_dataset(
    pairs: PairList,
    sources: dict[str, Records],
    preprocessor,
    *,
    batch_size: int = 64,
    shuffle: bool = True,
    augment=False,
    seed: int = 0,
    banks: dict | None = None,
):
    """A batched ``tf.data.Dataset`` of ``(inputs, label)`` for a fusion model.

    Faces and token ids are held in memory; audio clips are decoded once (with a
    progress bar) and held too. Batches are gathered by index, so a pair list of any
    length costs no extra memory. Pass the same (initially empty) ``banks`` dict to
    several calls over the same sources and pairs (or subsets of them, such as
    :meth:`PairList.with_modalities`) to decode and tokenize only once.
    """
    import tensorflow as tf

    from emozoo.data.pipeline import AUTOTUNE, augment_dataset

    if set(preprocessor.modalities) != set(MODALITY_ORDER):
        raise ValueError("Pseudo-pairs feed multimodal models (face, text and audio inputs)")
    banks = banks if banks is not None else {}
    if not banks:
        banks.update(pair_banks(pairs, sources, preprocessor))
    faces, token_ids, clips = banks["face"], banks["text"], banks["audio"]
    missing_clips = np.setdiff1d(np.unique(pairs.audio[pairs.audio >= 0]), banks["decoded"])
    if len(missing_clips):
        raise ValueError("The banks were built for other pairs; pass banks=None")
    size = preprocessor.face.image_size

    def gather(face_idx, text_idx, audio_idx):
        face = np.where((face_idx >= 0)[:, None, None], faces[np.maximum(face_idx, 0)], 0).astype(
            np.float32
        )
        text = np.where((text_idx >= 0)[:, None], token_ids[np.maximum(text_idx, 0)], 0).astype(
            np.int32
        )
        audio = np.where((audio_idx >= 0)[:, None], clips[np.maximum(audio_idx, 0)], 0).astype(
            np.float32
        )
        return face[..., None], text, audio

    def load(face_idx, text_idx, audio_idx, label):
        face, text, audio = tf.numpy_function(
            gather,
            [face_idx, text_idx, audio_idx],
            [tf.float32, tf.int32, tf.float32],
            stateful=False,
        )
        face.set_shape([None, size, size, 1])
        text.set_shape([None, preprocessor.text.sequence_length])
        audio.set_shape([None, preprocessor.audio.num_samples])
        inputs = {"face": face, "text": text, "audio": audio}
        for m, idx in (("face", face_idx), ("text", text_idx), ("audio", audio_idx)):
            inputs[f"{m}_present"] = tf.cast(idx >= 0, tf.float32)[:, None]
        return inputs, tf.cast(label, tf.int32)

    ds = tf.data.Dataset.from_tensor_slices((pairs.face, pairs.text, pairs.audio, pairs.labels))
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(load, num_parallel_calls=AUTOTUNE, deterministic=True)
    if augment:
        ds = augment_dataset(ds, augment, seed)
    return ds.prefetch(AUTOTUNE)


__all__ = [
    "PAIR_DEFAULTS",
    "PAIR_SOURCES",
    "PairList",
    "build_pairs",
    "load_pair_sources",
    "load_pairs",
    "pair_banks",
    "pairs_dataset",
]
