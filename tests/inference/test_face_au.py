"""The recognizer on facial action units: dicts, arrays and OpenFace files."""

from __future__ import annotations

import numpy as np
import pytest

from tests.preprocessing.helpers import openface_csv


def test_recognizer_predicts_from_aus_dicts_and_openface_files(tmp_path):
    from emozoo.inference import EmotionRecognizer

    rec = EmotionRecognizer("face_au")
    result = rec.predict(face_au={"AU06_r": 2.5, "AU12_r": 3.0, "AU06_c": 1, "AU12_c": 1})
    assert result.modalities_used == ["face_au"] and result.top in rec.labels
    path = openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 0.5), (0.04, 0.9, 1, 0.7)])
    from_file = rec.predict(face_au=str(path))
    same = rec.predict(face_au=np.full(35, 0.6, np.float32))
    assert from_file.probabilities == pytest.approx(same.probabilities, abs=1e-5)
    batch = rec.predict_batch(face_aus=np.zeros((3, 35), np.float32))
    assert len(batch) == 3
    with pytest.raises(ValueError, match="cannot use image"):
        rec.predict(image=np.zeros((48, 48, 3), np.uint8))
