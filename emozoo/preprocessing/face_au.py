"""Facial action units -> the ``face_au`` models' input: 35 OpenFace 2 AU values, float32.

The ``face_au`` modality is what a face-analysis toolkit measures, not face pixels: the
17 OpenFace 2 AU intensities (``AU01_r`` ... ``AU45_r``, 0-5) and 18 presences
(``AU01_c`` ... ``AU45_c``; over a clip or a window, the share of frames, 0-1), as means
over the clip or window. Readers:

- :func:`read_openface_csv`: OpenFace 2 ``FeatureExtraction`` output (column names with
  a leading space, one row per frame); frames with ``success == 0`` or a low
  ``confidence`` are skipped, the rest averaged over the whole file or over windows.
- :func:`read_pyfeat_csv` / :func:`pyfeat_au_vector`: py-feat's detector output, whose
  ``AUxx`` columns (0-1) map onto OpenFace's where the unit exists in both.

AUs a source lacks are ``NaN``; the model's standardisation layer reads a ``NaN`` as the
training mean, so a partial vector still goes in.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from emozoo.preprocessing.base import ModalityPreprocessor, SkipCallback

_INTENSITY_UNITS = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
_PRESENCE_UNITS = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 28, 45)
#: The 35 OpenFace 2 AU columns, in the model's input order.
AU_NAMES: tuple[str, ...] = tuple(f"AU{u:02d}_r" for u in _INTENSITY_UNITS) + tuple(
    f"AU{u:02d}_c" for u in _PRESENCE_UNITS
)
#: OpenFace 2 frames below this landmark-tracking confidence are skipped.
MIN_CONFIDENCE = 0.75
#: py-feat's AU values are 0-1; OpenFace's intensities are 0-5.
PYFEAT_INTENSITY_SCALE = 5.0


class AUReadError(ValueError):
    """An AU file is missing, unreadable, or holds no usable frame; the message names it."""


def _read_rows(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """``(stripped column names, rows)`` of a CSV file (OpenFace pads names with spaces)."""
    path = Path(path)
    if not path.is_file():
        raise AUReadError(f"AU file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise AUReadError(f"AU file {path} is empty") from None
        rows = [row for row in reader if row]
    return header, rows


def _column(header: list[str], rows: list[list[str]], name: str, path) -> np.ndarray:
    try:
        index = header.index(name)
    except ValueError:
        raise AUReadError(f"AU file {path} has no column {name!r}") from None
    try:
        return np.array([float(row[index]) for row in rows], np.float64)
    except (ValueError, IndexError) as error:
        raise AUReadError(f"AU file {path}: column {name!r} is not numeric ({error})") from None


def window_means(values: np.ndarray, times: np.ndarray | None, window_s: float | None):
    """Means of ``values`` (frames x features) over the whole clip (``window_s=None``) or
    over consecutive windows of ``window_s`` seconds by ``times``; empty windows dropped."""
    if window_s is not None and window_s <= 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    with warnings.catch_warnings():  # an AU the source lacks stays NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        if window_s is None or times is None:
            return np.nanmean(values, axis=0, keepdims=True)
        bins = np.floor((times - times.min()) / window_s).astype(np.int64)
        return np.stack([np.nanmean(values[bins == b], axis=0) for b in np.unique(bins)])


def read_openface_csv(
    path: str | Path, window_s: float | None = None, min_confidence: float = MIN_CONFIDENCE
) -> np.ndarray:
    """``(windows, 35)`` float32 AU means of an OpenFace 2 ``FeatureExtraction`` CSV.

    Frames with ``success == 0`` or ``confidence < min_confidence`` are skipped; the
    others are averaged over the file (one row) or over ``window_s``-second windows by
    ``timestamp``. AU columns the file lacks (``-aus`` not asked for, an older OpenFace)
    are ``NaN``; a file with none of them, or no usable frame, is an :class:`AUReadError`.
    """
    header, rows = _read_rows(path)
    keep = np.ones(len(rows), bool)
    if "success" in header:
        keep &= _column(header, rows, "success", path) != 0
    if "confidence" in header:
        keep &= _column(header, rows, "confidence", path) >= min_confidence
    if not keep.any():
        raise AUReadError(
            f"AU file {path}: no frame with success == 1 and confidence >= {min_confidence} "
            f"(of {len(rows)} frames)"
        )
    found = [name for name in AU_NAMES if name in header]
    if not found:
        raise AUReadError(f"AU file {path} has none of the OpenFace AU columns ({AU_NAMES[0]}...)")
    values = np.full((int(keep.sum()), len(AU_NAMES)), np.nan)
    for i, name in enumerate(AU_NAMES):
        if name in found:
            values[:, i] = _column(header, rows, name, path)[keep]
    times = _column(header, rows, "timestamp", path)[keep] if "timestamp" in header else None
    return window_means(values, times, window_s).astype(np.float32)


def pyfeat_au_vector(values: Mapping[str, float]) -> np.ndarray:
    """35 OpenFace-ordered AU values from py-feat's ``{"AU01": 0.7, ...}`` (0-1 each).

    An AU both know becomes its intensity (``x 5``, OpenFace's 0-5 scale) and its
    presence (``>= 0.5``); AUs py-feat does not detect (for example AU45) are ``NaN``.
    """
    out = np.full(len(AU_NAMES), np.nan, np.float32)
    for i, name in enumerate(AU_NAMES):
        value = values.get(name[:4])
        if value is None or not np.isfinite(float(value)):
            continue
        value = float(value)
        out[i] = value * PYFEAT_INTENSITY_SCALE if name.endswith("_r") else float(value >= 0.5)
    return out


def read_pyfeat_csv(path: str | Path, window_s: float | None = None) -> np.ndarray:
    """``(windows, 35)`` AU means of a py-feat result CSV (``Fex.to_csv``), faces with a
    ``FaceScore`` below 0.5 skipped; columns mapped by :func:`pyfeat_au_vector`."""
    header, rows = _read_rows(path)
    units = [name for name in header if len(name) == 4 and name.startswith("AU")]
    if not units:
        raise AUReadError(f"AU file {path} has no py-feat AU columns (AU01, AU02, ...)")
    keep = np.ones(len(rows), bool)
    if "FaceScore" in header:
        scores = _column(header, rows, "FaceScore", path)
        keep &= np.nan_to_num(scores, nan=0.0) >= 0.5
    if not keep.any():
        raise AUReadError(f"AU file {path}: no face with FaceScore >= 0.5")
    columns = {name: _column(header, rows, name, path)[keep] for name in units}
    values = np.stack(
        [pyfeat_au_vector({n: c[i] for n, c in columns.items()}) for i in range(int(keep.sum()))]
    )
    times = None
    for name in ("approx_time", "timestamp"):
        if name in header:
            times = _column(header, rows, name, path)[keep]
            break
    return window_means(values.astype(np.float64), times, window_s).astype(np.float32)


def read_au_csv(path: str | Path, window_s: float | None = None) -> np.ndarray:
    """AU means of an OpenFace 2 or a py-feat CSV, told apart by their column names."""
    header, _ = _read_rows(path)
    if any(name in header for name in AU_NAMES):
        return read_openface_csv(path, window_s=window_s)
    return read_pyfeat_csv(path, window_s=window_s)


def au_vector(values: Mapping[str, float]) -> np.ndarray:
    """35 AU values from ``{AU name: value}``: OpenFace names (``AU12_r``, ``AU12_c``) as
    they are, py-feat names (``AU12``) mapped; the ones not given are ``NaN``."""
    if any(name in values for name in AU_NAMES):
        unknown = [k for k in values if k not in AU_NAMES]
        if unknown:
            raise ValueError(f"Unknown AU names {unknown}; expected some of {list(AU_NAMES)}")
        return np.array([float(values.get(n, np.nan)) for n in AU_NAMES], np.float32)
    if not any(str(k).startswith("AU") for k in values):
        raise ValueError(f"No AU values given; expected keys like {AU_NAMES[0]} or AU01")
    return pyfeat_au_vector(values)


class FaceAUPreprocessor(ModalityPreprocessor):
    """Turn action-unit measurements into a ``(batch, 35)`` float32 array.

    Accepts an array of 35 values (OpenFace order, :data:`AU_NAMES`) or a batch of them,
    a dict of AU names (OpenFace's ``AU12_r``/``AU12_c`` or py-feat's ``AU12``) or a
    list of dicts, or a path to an OpenFace 2 / py-feat CSV (its frames averaged; one
    row per ``window_s`` window when set). Values are kept raw: the model standardises.
    """

    modality = "face_au"
    input_note = (
        "float32 OpenFace 2 action units, 17 intensities (0-5) then 18 presences (0-1), "
        "means over a clip or window; NaN where unknown (read as the training mean)"
    )

    def __init__(self, window_s: float | None = None, **_ignored):
        self.window_s = None if window_s is None else float(window_s)

    def _rows(self, value) -> np.ndarray:
        if isinstance(value, (str, Path)):
            return read_au_csv(value, window_s=self.window_s)
        if isinstance(value, Mapping):
            return au_vector(value)[None]
        array = np.asarray(value, np.float32)
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2 or array.shape[1] != len(AU_NAMES):
            raise ValueError(
                f"AU input must hold {len(AU_NAMES)} values per sample (order: {AU_NAMES[0]} "
                f"... {AU_NAMES[-1]}); got shape {array.shape}"
            )
        return array

    def __call__(self, raw, **_options) -> np.ndarray:
        if isinstance(raw, (str, Path, Mapping)) or (
            isinstance(raw, np.ndarray) and raw.dtype != object
        ):
            return self._rows(raw)
        if not isinstance(raw, Sequence) or len(raw) == 0:
            raise ValueError("No AU values given")
        if all(isinstance(v, (int, float, np.floating, np.integer)) for v in raw):
            return self._rows(np.asarray(raw, np.float32))
        return np.concatenate([self._rows(v) for v in raw])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (len(AU_NAMES),)

    def model_kwargs(self) -> dict:
        return {"num_units": len(AU_NAMES)}

    def from_items(self, items) -> np.ndarray:
        """Stored items are AU arrays already (or CSV paths, read here)."""
        return self(items)

    def dataset(self, items, labels, skip: SkipCallback | None = None, where: str = ""):
        import tensorflow as tf  # lazy: TensorFlow start-up only where a pipeline is built

        values = np.asarray(self.from_items(items), np.float32)
        return tf.data.Dataset.from_tensor_slices((values, np.asarray(labels, np.int32)))

    def synthetic(self, n, rng, token_rows=None):
        """Intensities 0-5 (mostly low) and presences 0-1."""
        intensities = rng.gamma(1.0, 0.6, (n, len(_INTENSITY_UNITS))).clip(0, 5)
        presences = rng.uniform(0, 1, (n, len(_PRESENCE_UNITS)))
        return np.concatenate([intensities, presences], axis=1).astype(np.float32)

    def metadata(self) -> dict:
        return {"au_names": list(AU_NAMES)}

    @staticmethod
    def params_from_input_shape(shape, params):
        return dict(params)
