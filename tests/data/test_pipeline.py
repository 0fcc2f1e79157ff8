"""tf.data pipelines: shapes, augmentation, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

import emozoo
from emozoo.data import Records, load_source
from emozoo.data.audio_io import AudioReadError
from emozoo.data.augment import AudioAugment, TextAugment
from emozoo.data.pipeline import SkipReport, make_dataset
from emozoo.labels import EMOTIONS


def batches(ds, n=2):
    return [(x, y.numpy()) for x, y in ds.take(n)]


@pytest.fixture(scope="module")
def face_records(data_root):
    return load_source("fer2013", "PublicTest").subset(np.arange(256))


@pytest.fixture(scope="module")
def text_records(data_root):
    return load_source("carer_emotion", "test").subset(np.arange(200))


@pytest.fixture(scope="module")
def audio_records(data_root):
    return load_source("ravdess_speech", "test").subset(np.arange(0, 240, 20))


def test_face_pipeline_shapes_and_augmentation(face_records):
    pre = emozoo.load_preprocessor("face_cnn")
    plain = batches(make_dataset(face_records, pre, batch_size=64, shuffle=False))
    augmented = batches(
        make_dataset(face_records, pre, batch_size=64, shuffle=False, augment=True, seed=3)
    )
    for (x, y), (xa, ya) in zip(plain, augmented, strict=True):
        assert x["face"].shape == xa["face"].shape == (64, 48, 48, 1)
        assert x["face"].dtype == xa["face"].dtype == tf.float32
        np.testing.assert_array_equal(y, ya)
        assert np.abs(x["face"].numpy() - xa["face"].numpy()).mean() > 1.0
    np.testing.assert_array_equal(plain[0][1], face_records.labels[:64])
    np.testing.assert_array_equal(plain[0][0]["face"].numpy()[..., 0], face_records.items[:64])


@pytest.mark.parametrize("modality", ["face", "text", "audio"])
def test_same_seed_same_batches(modality, face_records, text_records, audio_records):
    records = {"face": face_records, "text": text_records, "audio": audio_records}[modality]
    pre = emozoo.load_preprocessor(
        {"face": "face_cnn", "text": "text_bilstm", "audio": "audio_lstm"}[modality]
    )

    def run(seed):
        ds = make_dataset(records, pre, batch_size=8, augment=True, seed=seed)
        return [(x[modality].numpy(), y) for x, y in batches(ds)]

    first, again, other = run(7), run(7), run(8)
    for (a, ya), (b, yb) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ya, yb)
    assert any(not np.array_equal(a, b) for (a, _), (b, _) in zip(first, other, strict=True))


def test_text_pipeline_tokenizes_in_graph(text_records):
    pre = emozoo.load_preprocessor("text_bilstm")
    (x, y), *_ = batches(make_dataset(text_records, pre, batch_size=16, shuffle=False))
    assert x["text"].dtype == tf.int32 and x["text"].shape == (16, 64)
    np.testing.assert_array_equal(x["text"].numpy(), pre.text(text_records.items[:16]))
    np.testing.assert_array_equal(y, text_records.labels[:16])


def test_text_augment_drops_and_swaps_but_keeps_shape():
    ids = tf.constant([[5, 6, 7, 8, 9, 0, 0, 0]] * 64, tf.int32)
    out = TextAugment(dropout=0.3, swap_probability=1.0)(ids, tf.constant([1, 2], tf.int64)).numpy()
    assert out.shape == (64, 8)
    assert ((out > 0).sum(axis=1) >= 1).all() and ((out > 0).sum(axis=1) <= 5).all()
    assert (out != ids.numpy()).any(axis=1).mean() > 0.5
    for row in out:  # tokens stay from the original text, padding stays at the end
        real = row[row > 0]
        assert set(real) <= {5, 6, 7, 8, 9} and (row[len(real) :] == 0).all()


def test_audio_pipeline_decodes_and_augments(audio_records):
    pre = emozoo.load_preprocessor("audio_lstm")
    plain = batches(make_dataset(audio_records, pre, batch_size=6, shuffle=False), 1)[0]
    augmented = batches(
        make_dataset(audio_records, pre, batch_size=6, shuffle=False, augment=True), 1
    )[0]
    assert plain[0]["audio"].shape == augmented[0]["audio"].shape == (6, 48000)
    np.testing.assert_array_equal(plain[1], augmented[1])
    a, b = plain[0]["audio"].numpy(), augmented[0]["audio"].numpy()
    assert not np.allclose(a, b) and np.abs(b).max() <= 1.0
    assert np.abs(a).max() > 0.01  # real speech, not silence


def test_audio_augment_snr_is_respected():
    clean = tf.constant(0.5 * np.sin(np.linspace(0, 2000, 16000))[None].repeat(32, 0), tf.float32)
    aug = AudioAugment(gain_db=(0, 0), snr_db=(20, 20), noise_probability=1.0, max_shift_s=0)
    noisy = aug(clean, tf.constant([0, 0], tf.int64)).numpy()
    noise = noisy - clean.numpy()
    snr = 10 * np.log10((clean.numpy() ** 2).mean() / (noise**2).mean())
    assert snr == pytest.approx(20, abs=0.5)


def test_unimodal_records_feed_a_fusion_model_with_presence_flags(face_records):
    pre = emozoo.load_preprocessor("cnn_lstm_fusion")
    (x, _), *_ = batches(make_dataset(face_records, pre, batch_size=4, shuffle=False), 1)
    assert x["face_present"].numpy().tolist() == [[1.0]] * 4
    assert x["text_present"].numpy().tolist() == x["audio_present"].numpy().tolist() == [[0.0]] * 4
    assert x["text"].shape == (4, 64) and x["audio"].shape == (4, 48000)
    assert x["text"].dtype == tf.int32 and not x["audio"].numpy().any()


def _audio_files(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(
        good,
        (0.1 * np.sin(np.linspace(0, 800, 22050 * 2))).astype(np.float32).repeat(2).reshape(-1, 2),
        22050,
    )
    short = tmp_path / "short.flac"
    sf.write(short, np.zeros(800, np.float32), 16000)  # 0.05 s
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wav file")
    missing = tmp_path / "missing.ogg"
    return good, short, corrupt, missing


@pytest.mark.parametrize(
    "bad_index, message",
    [
        (1, "short.flac lasts"),
        (2, "corrupt.wav could not be decoded"),
        (3, "missing.ogg does not exist"),
    ],
)
def test_bad_audio_raises_naming_the_file(tmp_path, bad_index, message):
    files = _audio_files(tmp_path)
    records = Records(
        "mine", "train", "audio", [str(files[0]), str(files[bad_index])], [0, 1], EMOTIONS
    )
    ds = make_dataset(records, emozoo.load_preprocessor("audio_lstm"), shuffle=False, batch_size=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        list(ds)


def test_bad_audio_skipped_on_request_and_reported(tmp_path):
    files = _audio_files(tmp_path)
    records = Records("mine", "train", "audio", [str(f) for f in files], [0, 1, 2, 3], EMOTIONS)
    report = SkipReport()
    ds = make_dataset(
        records,
        emozoo.load_preprocessor("audio_lstm"),
        shuffle=False,
        on_error="skip",
        report=report,
    )
    (x, y), *_ = list(ds)
    assert x["audio"].shape == (1, 48000) and y.numpy().tolist() == [0]
    assert report.count == 3
    assert {name.split("/")[-1] for name, _ in report.skipped} == {
        "short.flac",
        "corrupt.wav",
        "missing.ogg",
    }


def test_read_audio_errors(tmp_path):
    from emozoo.data.audio_io import load_clip

    good, short, corrupt, missing = _audio_files(tmp_path)
    clip = load_clip(good, 16000, 48000)
    assert clip.shape == (48000,) and np.abs(clip[:32000]).max() > 0.05
    for path in (short, corrupt, missing):
        with pytest.raises(AudioReadError, match=path.name):
            load_clip(path, 16000, 48000)


def test_empty_text_raises_or_is_skipped():
    pre = emozoo.load_preprocessor("text_bilstm")
    records = Records("mine", "train", "text", ["fine", "  ", "good"], [3, 4, 3], EMOTIONS)
    with pytest.raises(ValueError, match="text 1 is empty"):
        make_dataset(records, pre)
    report = SkipReport()
    ds = make_dataset(records, pre, on_error="skip", report=report, shuffle=False)
    assert sum(len(y) for _, y in ds) == 2 and report.count == 1


def test_pipeline_argument_errors(face_records):
    with pytest.raises(ValueError, match="the model takes text"):
        make_dataset(face_records, emozoo.load_preprocessor("text_bilstm"))
    with pytest.raises(ValueError, match="on_error"):
        make_dataset(face_records, emozoo.load_preprocessor("face_cnn"), on_error="ignore")
    with pytest.raises(ValueError, match="empty"):
        make_dataset(face_records.subset([]), emozoo.load_preprocessor("face_cnn"))


def test_shuffling_mixes_classes_of_class_sorted_sources(data_root):
    records = load_source("fer2013", "PublicTest")  # stored sorted by class
    assert (np.diff(records.labels) >= 0).mean() > 0.99
    ds = make_dataset(records, emozoo.load_preprocessor("face_cnn"), batch_size=64, seed=0)
    _, labels = next(iter(ds))
    assert len(np.unique(labels.numpy())) >= 6
