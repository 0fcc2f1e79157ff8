"""SavedModel exports: a named serving signature, labels and constants carried."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emozoo.export import (
    SavedModelRunner,
    read_labels,
    read_metadata,
    read_vocabulary,
    to_saved_model,
)
from emozoo.labels import EMOTIONS
from tests.export.helpers import samples_for, tiny_fusion


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_fusion()
    samples = samples_for(model, 8)
    path = tmp_path_factory.mktemp("sm") / "fusion_sm"
    return model, samples, path, to_saved_model(model, path, parity_data=samples)


def test_serving_signature_names_the_inputs(exported):
    import tensorflow as tf

    model, samples, path, result = exported
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    inputs = serve.structured_input_signature[1]
    assert set(inputs) == {t.name for t in model.inputs}
    assert inputs["text"].dtype == tf.int32 and inputs["face"].shape.as_list() == [None, 32, 32, 1]
    assert set(serve.structured_outputs) == {"probabilities"}
    batch = {k: tf.constant(v[:3]) for k, v in samples.inputs.items()}
    probabilities = serve(**batch)["probabilities"].numpy()
    np.testing.assert_allclose(
        probabilities, model.predict_on_batch(samples.take(3).inputs), atol=1e-5
    )


def test_labels_and_metadata_travel_in_the_export(exported):
    import tensorflow as tf

    model, samples, path, result = exported
    described = tf.saved_model.load(str(path)).signatures["metadata"]()
    assert [b.decode() for b in described["labels"].numpy()] == list(EMOTIONS)
    assert json.loads(described["metadata"].numpy().decode())["labels"] == list(EMOTIONS)
    assert read_labels(path) == list(EMOTIONS)
    meta = read_metadata(path)
    assert meta["export"]["format"] == "saved_model"
    assert meta["preprocessing"]["audio"]["num_samples"] == 8000
    assert meta["preprocessing"]["text"]["padding_id"] == 0
    vocabulary = read_vocabulary(path)
    assert vocabulary[:4] == ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]
    assert len(vocabulary) == meta["preprocessing"]["text"]["vocabulary_size"]


def test_parity_report_beside_the_folder(exported):
    model, samples, path, result = exported
    report = json.loads(path.with_name("fusion_sm.parity.json").read_text())
    assert report["passed"] and report["format"] == "saved_model"
    assert report["max_abs_diff"] < 1e-5 and report["top1_agreement"] == 1.0
    assert SavedModelRunner(path).predict(samples.take(2).inputs).shape == (2, len(EMOTIONS))


def test_exporting_again_replaces_the_older_export(tmp_path):
    from tests.export.helpers import tiny_face

    face = tiny_face()
    path = tmp_path / "face_sm"
    to_saved_model(face, path, parity_data=samples_for(face, 4))
    (path / "assets.extra" / "stale.txt").write_text("old")
    again = to_saved_model(face, path, parity_data=samples_for(face, 2))
    assert again.parity.samples == 2 and not (path / "assets.extra" / "stale.txt").exists()
