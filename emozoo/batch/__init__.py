"""Emotions of many files at once: ``emozoo batch INPUT --out results.csv|.jsonl|.parquet``.

Modules: ``inputs`` (a folder, a glob or a manifest CSV as keyed items), ``rows`` (one
output row per item, the same for every runner), ``outputs`` (CSV, JSON Lines,
Parquet; resumable), ``local`` (the job in this process) and ``beam`` (the same job as an
Apache Beam pipeline, ``pip install "emozoo[beam]"``; imported on its own).

>>> from emozoo import EmotionRecognizer
>>> from emozoo.batch import list_inputs, read_rows, run_local
>>> run_local(EmotionRecognizer(), list_inputs("photos/"), "results.csv")  # doctest: +SKIP
>>> read_rows("results.csv")[0]["top"]  # doctest: +SKIP
'happy'
"""

from emozoo.batch.inputs import BatchItem, list_inputs, read_manifest_items
from emozoo.batch.local import BatchSummary, run_local
from emozoo.batch.outputs import output_format, read_rows
from emozoo.batch.rows import predict_rows, row_columns

__all__ = [
    "BatchItem",
    "BatchSummary",
    "list_inputs",
    "output_format",
    "predict_rows",
    "read_manifest_items",
    "read_rows",
    "row_columns",
    "run_local",
]
