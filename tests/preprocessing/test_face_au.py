"""Facial action units: the OpenFace and py-feat readers and the AU preprocessor."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.preprocessing import AU_NAMES, FaceAUPreprocessor
from emozoo.preprocessing.face_au import (
    AUReadError,
    au_vector,
    read_au_csv,
    read_openface_csv,
    read_pyfeat_csv,
)
from tests.preprocessing.helpers import openface_csv


def test_openface_reader_skips_failed_and_unsure_frames_and_averages(tmp_path):
    path = openface_csv(
        tmp_path / "clip.csv",
        [(0.00, 0.98, 1, 1.0), (0.04, 0.98, 1, 3.0), (0.08, 0.10, 1, 50.0), (0.12, 0.0, 0, 99.0)],
    )
    values = read_openface_csv(path)
    assert values.shape == (1, 35)
    np.testing.assert_allclose(values[0], 2.0)  # mean of the two good frames


def test_openface_reader_averages_windows(tmp_path):
    path = openface_csv(
        tmp_path / "clip.csv",
        [(0.0, 0.9, 1, 1.0), (0.5, 0.9, 1, 3.0), (1.0, 0.9, 1, 5.0), (1.5, 0.9, 1, 7.0)],
    )
    np.testing.assert_allclose(read_openface_csv(path, window_s=1.0)[:, 0], [2.0, 6.0])


def test_openface_reader_errors_name_the_file(tmp_path):
    path = openface_csv(tmp_path / "bad.csv", [(0.0, 0.1, 1, 1.0), (0.1, 0.9, 0, 1.0)])
    with pytest.raises(AUReadError, match="bad.csv.*no frame"):
        read_openface_csv(path)
    with pytest.raises(AUReadError, match="does not exist"):
        read_openface_csv(tmp_path / "missing.csv")


def test_pyfeat_columns_map_onto_openface(tmp_path):
    path = tmp_path / "fex.csv"
    path.write_text(
        "frame,FaceScore,AU01,AU12,AU43\n0,0.99,0.2,0.8,0.5\n1,0.99,0.4,0.6,0.5\n2,0.1,1,1,1\n"
    )
    values = read_pyfeat_csv(path)[0]
    index = {name: i for i, name in enumerate(AU_NAMES)}
    assert values[index["AU01_r"]] == pytest.approx(0.3 * 5)
    assert values[index["AU12_r"]] == pytest.approx(0.7 * 5)
    assert values[index["AU12_c"]] == pytest.approx(1.0)
    assert values[index["AU01_c"]] == pytest.approx(0.0)
    assert np.isnan(values[index["AU45_r"]])  # py-feat has no blink unit
    np.testing.assert_allclose(read_au_csv(path), read_pyfeat_csv(path))


def test_preprocessor_takes_arrays_dicts_and_files(tmp_path):
    pre = FaceAUPreprocessor()
    assert pre(np.zeros(35)).shape == (1, 35)
    assert pre(np.zeros((4, 35))).shape == (4, 35)
    row = pre({"AU12_r": 2.5})[0]
    assert row[AU_NAMES.index("AU12_r")] == 2.5 and np.isnan(row[0])
    path = openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 1.0)])
    assert pre([str(path), {"AU06": 0.5}]).shape == (2, 35)
    with pytest.raises(ValueError, match="35 values"):
        pre(np.zeros(34))
    with pytest.raises(ValueError, match="Unknown AU names"):
        au_vector({"AU12_r": 1.0, "AU99_r": 1.0})
