"""Knowledge distillation: the loss, the teacher-output cache, unlabelled data, the CLI."""

from __future__ import annotations

import json

import cv2
import keras
import numpy as np
import pytest

import emozoo
from emozoo.cli import main
from emozoo.registry import get_entry, unregister_model
from emozoo.training import fit
from emozoo.training.distill import (
    DistillationData,
    DistillationLoss,
    LabelAccuracy,
    distill,
    packed_targets,
)
from tests.models.helpers import SMALL_FACE
from tests.training.conftest import LABELS
from tests.training.worker import synthetic_faces

SIZE = SMALL_FACE["image_size"]


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_the_loss_is_hinton_distillation_plus_cross_entropy():
    rng = np.random.default_rng(0)
    student = _softmax(rng.normal(size=(6, 4))).astype("float32")
    teacher_log = np.log(_softmax(rng.normal(size=(6, 4)) * 2)).astype("float32")
    labels = np.array([0, 1, 2, 3, -1, -1])
    y = packed_targets(labels, teacher_log)
    t, alpha = 3.0, 0.6
    got = np.asarray(DistillationLoss(4, t, alpha)(y, student))

    soft_t = _softmax(teacher_log / t)
    soft_s = _softmax(np.log(student) / t)
    kl = (soft_t * (np.log(soft_t) - np.log(soft_s))).sum(-1) * t * t
    ce = np.array([-np.log(student[i, k]) if k >= 0 else 0.0 for i, k in enumerate(labels)])
    expected = np.mean(alpha * kl + (1 - alpha) * ce)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # A plain one-hot target (validation batches) is scored by the cross-entropy alone.
    one_hot = y[:4, :4]
    plain = np.asarray(DistillationLoss(4, t, alpha)(one_hot, student[:4]))
    np.testing.assert_allclose(plain, ce[:4].mean(), rtol=1e-5)
    # A student that matches the teacher has no teacher term left.
    same = np.asarray(DistillationLoss(4, t, 1.0)(y, np.exp(teacher_log)))
    assert abs(float(same)) < 1e-5


def test_label_accuracy_ignores_unlabelled_rows():
    metric = LabelAccuracy(3)
    y = packed_targets(np.array([0, 1, -1]), np.zeros((3, 3), np.float32))
    pred = np.array([[0.9, 0.1, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]], np.float32)
    metric.update_state(y, pred)
    assert float(metric.result()) == pytest.approx(0.5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        DistillationLoss(3, temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        DistillationLoss(3, alpha=1.5)
    with pytest.raises(ValueError, match="2 items but 3 labels"):
        DistillationData("face", [1, 2], [0, 1, 2])


@pytest.fixture(scope="module")
def teacher(tiny_base, tmp_path_factory):
    """A tiny face model trained on the synthetic faces, registered as a teacher."""
    folder = tmp_path_factory.mktemp("teacher")
    x, y = synthetic_faces(64, len(LABELS), SIZE, seed=1)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model = emozoo.load(tiny_base, weights=None, labels=LABELS)
    fit(model, ds, ds, epochs=6, freeze="none", learning_rate=3e-3, verbose=0, seed=0)
    path = folder / "teacher.weights.h5"
    model.save_weights(path)
    emozoo.register_model(
        "tiny_teacher", base=tiny_base, weights=path, labels=LABELS, overwrite=True
    )
    yield "tiny_teacher"
    unregister_model("tiny_teacher")


def _faces_folder(folder, count, seed):
    x, _ = synthetic_faces(count, len(LABELS), SIZE, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i, face in enumerate(x["face"]):
        cv2.imwrite(str(folder / f"{i:03d}.png"), face[..., 0].astype("uint8"))
    return folder


def _brightness_model(name: str) -> keras.Model:
    """A small model without batch normalisation (whose moving averages need more steps
    than a unit test takes): mean brightness features, then the classifier."""
    from emozoo.models.base import finish_model

    face = keras.Input((SIZE, SIZE, 1), name="face")
    x = keras.layers.Rescaling(1 / 255.0)(face)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(16, activation="tanh")(x)
    return finish_model(
        {"face": face}, x, name=name, include_top=True, labels=LABELS, num_classes=None, dropout=0
    )


def test_a_student_learns_the_teacher_from_unlabelled_photos(tiny_base, tmp_path, monkeypatch):
    import tensorflow as tf

    x, y = synthetic_faces(64, len(LABELS), SIZE, seed=1)
    teacher = _brightness_model("teacher")
    labelled = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    fit(
        teacher, labelled, labelled, epochs=20, freeze="none", learning_rate=1e-2, verbose=0, seed=0
    )
    pre = emozoo.load_preprocessor(tiny_base).face

    photos = _faces_folder(tmp_path / "mine", 48, seed=7)
    data = DistillationData.from_folder(photos, "face")
    assert (data.labels == -1).all() and len(data) == 48
    inputs = pre([cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in data.items])
    wanted = teacher.predict({"face": inputs}, verbose=0).argmax(-1)
    assert len(set(wanted)) >= 3  # a teacher with something to teach

    def agreement(model):
        return float((model.predict({"face": inputs}, verbose=0).argmax(-1) == wanted).mean())

    student = _brightness_model("student")
    before = agreement(student)
    cache = tmp_path / "cache"
    history = distill(
        student,
        data,
        teacher,
        student_preprocessor=pre,
        teacher_preprocessors=[pre],
        temperature=2.0,
        alpha=1.0,
        copies=1,
        batch_size=8,
        cache_dir=cache,
        epochs=20,
        learning_rate=1e-2,
        verbose=0,
    )
    assert sorted(p.name for p in cache.iterdir()) == [
        "copy0.student.npy",
        "copy0.teacher.npy",
        "copy1.student.npy",
        "copy1.teacher.npy",
    ]
    assert history.summary["teacher"] == "teacher"
    assert history.summary["distillation"]["unlabelled"] == 48
    after = agreement(student)
    assert after >= 0.85 and after > before, (before, after)
    # The augmented copy differs from the clean one; the teacher saw the same copy.
    clean, augmented = np.load(cache / "copy0.student.npy"), np.load(cache / "copy1.student.npy")
    assert not np.allclose(clean, augmented)
    np.testing.assert_allclose(
        np.load(cache / "copy0.teacher.npy"),
        np.log(np.clip(teacher.predict({"face": clean}, verbose=0), 1e-7, 1)),
        atol=1e-5,
    )

    # A second run reads the teacher's outputs from the cache: the teacher never runs.
    def no_teacher(*args, **kwargs):
        raise AssertionError("the teacher ran again")

    monkeypatch.setattr(keras.Model, "predict", no_teacher)
    again = _brightness_model("student")
    distill(
        again,
        data,
        teacher,
        student_preprocessor=pre,
        teacher_preprocessors=[pre],
        copies=1,
        cache_dir=cache,
        epochs=1,
        verbose=0,
    )


def test_teacher_and_student_must_share_labels(teacher, tiny_base, tmp_path):
    student = emozoo.load(tiny_base, weights=None, labels=["a", "b"])
    data = DistillationData("face", [np.zeros((SIZE, SIZE), np.uint8)], [0])
    with pytest.raises(ValueError, match="one label set"):
        distill(student, data, teacher, cache_dir=tmp_path, epochs=1)


def test_cli_distils_labelled_and_unlabelled_data(
    teacher, tiny_base, face_manifest, tmp_path, capsys
):
    photos = _faces_folder(tmp_path / "unlabelled", 16, seed=9)
    args = [
        "train",
        "--model",
        tiny_base,
        "--weights",
        "none",
        "--teacher",
        teacher,
        "--manifest",
        str(face_manifest),
        "--unlabelled",
        str(photos),
        "--copies",
        "1",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--out",
        str(tmp_path / "run"),
        "--name",
        "tiny_student",
        "--verbose",
        "0",
    ]
    try:
        assert main(args) == 0
        result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert result["name"] == "tiny_student" and result["epochs"] == 2
        entry = get_entry("tiny_student")
        assert entry.labels == tuple(LABELS)  # the teacher's, no --labels needed
        assert "soft labels of tiny_teacher" in entry.weights.training_data
        assert "--teacher tiny_teacher" in entry.weights.recipe
        cached = sorted(p.name for p in (tmp_path / "run" / "teacher_outputs").iterdir())
        assert len(cached) == 4
        # 32 manifest rows less the 20% held out for validation, and 16 unlabelled photos.
        assert np.load(tmp_path / "run" / "teacher_outputs" / "copy0.teacher.npy").shape == (40, 4)
    finally:
        unregister_model("tiny_student")


def test_cli_refuses_unlabelled_data_without_a_teacher(tiny_base, tmp_path, capsys):
    code = main(["train", "--model", tiny_base, "--unlabelled", str(tmp_path), "--labels", "a,b"])
    assert code == 2
    assert "--manifest is required" in capsys.readouterr().err


def test_speech_copies_mix_in_babble_from_another_clip_of_the_chunk():
    from emozoo.training import distill as distill_module

    clips = [np.full(8, float(i), np.float32) for i in range(4)]
    rng = np.random.default_rng(0)
    picks = [distill_module._babble(clips, 2, rng) for _ in range(400)]
    mixed = [p for p in picks if p is not None]
    share = len(mixed) / len(picks)
    assert abs(share - distill_module.BABBLE_SHARE) < 0.08, share
    assert {int(p[0]) for p in mixed} == {0, 1, 3}  # never the clip itself
    assert distill_module._babble(clips[:1], 0, rng) is None  # nothing else to mix


def test_speech_copies_through_the_phone_channel_lose_the_band_above_it():
    from emozoo.training.distill import _phone

    rate = 16000
    t = np.arange(rate) / rate
    low, high = 0.3 * np.sin(2 * np.pi * 1000 * t), 0.3 * np.sin(2 * np.pi * 6000 * t)
    out = _phone((low + high).astype(np.float32), rate)
    spectrum = np.abs(np.fft.rfft(out))
    assert out.shape == (rate,) and out.dtype == np.float32
    assert spectrum[6000] < 0.01 * spectrum[1000]  # 1 Hz bins: 6 kHz gone, 1 kHz kept


def test_cached_teacher_outputs_follow_how_copies_are_augmented(monkeypatch):
    from emozoo.training import distill as distill_module
    from emozoo.training.pretrain import teacher_digest
    from emozoo.training.recipe import Recipe

    recipe = Recipe.for_model("audio_lstm_distilled")
    preprocessing = get_entry("audio_lstm_distilled").preprocessing
    before = teacher_digest(recipe.distill, preprocessing)
    monkeypatch.setattr(distill_module, "COPIES_REVISION", distill_module.COPIES_REVISION + 1)
    assert teacher_digest(recipe.distill, preprocessing) != before
