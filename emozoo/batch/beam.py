"""The batch job as an Apache Beam pipeline (``pip install "emozoo[beam]"``).

``RunInference`` with :class:`EmotionModelHandler`: each worker builds the recognizer
once (``load_model``: the LiteRT runner, no TensorFlow) and runs batches of items
through :func:`~emozoo.batch.rows.predict_rows`, the function the local runner uses, so
the rows are the same. Rows already in the output are kept and their items skipped;
Beam's own writers write the whole output file at the end.

Runners: ``DirectRunner`` (the default) runs in this process on Beam's FnApiRunner
(``--direct_running_mode=in_memory|multi_threading|multi_processing``,
``--direct_num_workers=N``); Beam's own DirectRunner would first try the Prism runner,
which downloads a binary. Any other ``--runner`` (``DataflowRunner``, ``FlinkRunner``,
``SparkRunner``, ``PrismRunner``) is Beam's, with its usual pipeline options.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from emozoo.batch.inputs import BatchItem
from emozoo.batch.outputs import (
    csv_header,
    encode_csv,
    encode_json,
    output_format,
    parquet_record,
    parquet_schema,
    read_rows,
)
from emozoo.batch.rows import predict_rows, row_columns

#: Runner names that mean "in this process" (run on Beam's FnApiRunner).
IN_PROCESS = (None, "DirectRunner", "FnApiRunner")


class EmotionModelHandler(ModelHandler):
    """Beam's ``ModelHandler`` for emozoo: items in, output rows out.

    Args:
        model: a registered model name.
        backend: the recognizer's backend (``"lite"``: the shipped LiteRT build).
        video_every: seconds between the analysed frames of a video.
        max_faces: keep the N largest faces of each photo.
        min_batch_size, max_batch_size: the sizes of the batches Beam forms.

    >>> with beam.Pipeline() as p:  # doctest: +SKIP
    ...     rows = p | beam.Create(items) | RunInference(EmotionModelHandler())
    """

    def __init__(
        self,
        model: str = "cnn_lstm_fusion",
        backend: str = "lite",
        video_every: float = 0.5,
        max_faces: int | None = None,
        min_batch_size: int = 1,
        max_batch_size: int = 32,
    ):
        super().__init__()
        self.model = model
        self.backend = backend
        self.video_every = video_every
        self.max_faces = max_faces
        self._batch = {"min_batch_size": min_batch_size, "max_batch_size": max_batch_size}

    def load_model(self):
        """The recognizer, built once per worker."""
        from emozoo.inference import EmotionRecognizer

        return EmotionRecognizer(self.model, backend=self.backend, max_faces=self.max_faces)

    def run_inference(
        self, batch: Sequence[BatchItem], model, inference_args: dict | None = None
    ) -> Iterable[PredictionResult]:
        """One :class:`PredictionResult` per item: the item and its output row."""
        rows = predict_rows(model, list(batch), video_every=self.video_every)
        return [PredictionResult(item, row) for item, row in zip(batch, rows, strict=True)]

    def batch_elements_kwargs(self) -> dict:
        return dict(self._batch)

    def get_metrics_namespace(self) -> str:
        return "emozoo"


def write_output(rows, out: str, columns: Sequence[str]):
    """Write a PCollection of rows to ``out`` (one file, named exactly ``out``)."""
    kind = output_format(out)
    if kind == "parquet":
        return (
            rows
            | "Parquet records" >> beam.Map(parquet_record)
            | "Write Parquet"
            >> beam.io.WriteToParquet(
                out, parquet_schema(columns), num_shards=1, shard_name_template=""
            )
        )
    if kind == "csv":
        lines = rows | "CSV records" >> beam.Map(encode_csv, columns)
        header = csv_header(columns)
    else:
        lines = rows | "JSON records" >> beam.Map(encode_json)
        header = None
    return lines | "Write" >> beam.io.WriteToText(
        out, num_shards=1, shard_name_template="", header=header
    )


def pipeline_runner(options: PipelineOptions):
    """The runner for ``options``: Beam's in-process FnApiRunner for ``DirectRunner``
    (or no runner), else the runner's name for Beam to resolve."""
    name = options.view_as(StandardOptions).runner
    if name in IN_PROCESS:
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner

        return FnApiRunner()
    return name


def run_beam(
    items: Sequence[BatchItem],
    out: str | Path,
    pipeline_args: Sequence[str] = (),
    *,
    model: str = "cnn_lstm_fusion",
    backend: str = "lite",
    video_every: float = 0.5,
    max_faces: int | None = None,
    max_batch_size: int = 32,
) -> dict:
    """Run the batch job as a Beam pipeline; returns counts (``items``, ``skipped``,
    ``run``).

    Args:
        items: from :func:`~emozoo.batch.inputs.list_inputs`.
        out: the output file (``.csv``, ``.jsonl``, ``.parquet``; any path Beam's
            FileSystems write, such as ``gs://bucket/results.jsonl``).
        pipeline_args: Beam pipeline options (``["--runner=DataflowRunner", ...]``).

    >>> run_beam(items, "results.jsonl", ["--direct_num_workers=2",
    ...          "--direct_running_mode=multi_processing"])  # doctest: +SKIP
    """
    from emozoo.registry import get_entry

    if get_entry(model).speaker_normalisation is not None:
        # Beam batches items as it likes; a speaker's items must be standardised together.
        raise ValueError(
            f"{model} standardises each speaker's inputs over all their items, which Beam's "
            "batching cannot keep together: run it with --runner local (which groups "
            "items by speaker)"
        )
    out = str(out)
    columns = row_columns(get_entry(model).labels)
    existing = read_rows(out, columns)
    done = {row["key"] for row in existing}
    todo = [item for item in items if item.key not in done]
    counts = {"items": len(items), "skipped": len(items) - len(todo), "run": len(todo)}
    if not todo:
        return counts
    options = PipelineOptions(list(pipeline_args))
    handler = EmotionModelHandler(
        model, backend, video_every, max_faces, max_batch_size=max_batch_size
    )
    with beam.Pipeline(runner=pipeline_runner(options), options=options) as pipeline:
        new = (
            pipeline
            | "Items" >> beam.Create(todo)
            | "Predict" >> RunInference(handler)
            | "Rows" >> beam.Map(lambda result: result.inference)
        )
        if existing:
            old = pipeline | "Rows already there" >> beam.Create(existing)
            new = (new, old) | "All rows" >> beam.Flatten()
        write_output(new, out, columns)
    return counts
