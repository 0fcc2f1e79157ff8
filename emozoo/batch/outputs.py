"""Batch results on disk: CSV, JSON Lines or Parquet, chosen by the output's extension.

The same encoding serves both runners: the local runner appends rows as it goes (a
killed run leaves every finished chunk on disk), the Beam runner writes whole files
with Beam's own writers. Reading an output back gives the rows as :func:`predict_rows`
made them, whatever the format (``inputs`` and ``not_used`` are JSON text in CSV and
Parquet cells, objects in JSON Lines).

A run cut short can leave half a row at the end of a CSV or JSON Lines file; reading
drops it (and the local runner trims it before appending). Parquet cannot be appended
to: the local runner keeps the new rows in ``<output>.partial.jsonl`` while it runs and
merges them into the Parquet file at the end (or at the start of the next run, if it was
killed).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
#: Columns of text (the rest are probabilities); of these, JSON objects and optional ones.
TEXT_COLUMNS = ("key", "inputs", "top", "modalities", "not_used", "error")
JSON_COLUMNS = ("inputs", "not_used")
OPTIONAL_TEXT = ("top", "error")
#: Where the local runner keeps a Parquet output's new rows until it merges them.
JOURNAL_SUFFIX = ".partial.jsonl"


def output_format(path: str | Path) -> str:
    """``"csv"``, ``"jsonl"`` or ``"parquet"``, from ``path``'s extension."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"--out {path}: unknown format {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def _is_remote(path: str | Path) -> bool:
    return "://" in str(path)


def read_bytes(path: str | Path) -> bytes | None:
    """The bytes of ``path`` (a local path, or any path Beam's FileSystems can open, such
    as ``gs://``), or ``None`` when it does not exist."""
    if _is_remote(path):
        from apache_beam.io.filesystems import FileSystems

        if not FileSystems.exists(str(path)):
            return None
        with FileSystems.open(str(path)) as f:
            return f.read()
    path = Path(path)
    return path.read_bytes() if path.is_file() else None


# -- encoding ----------------------------------------------------------------------
def _cell(column: str, value) -> str:
    if value is None:
        return ""
    if column in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    return repr(float(value)) if column not in TEXT_COLUMNS else str(value)


def csv_header(columns: Sequence[str]) -> str:
    """The CSV header line (without its line end)."""
    return encode_csv(dict(zip(columns, columns, strict=True)), columns, header=True)


def encode_csv(row: dict, columns: Sequence[str], header: bool = False) -> str:
    """One CSV record (without its line end; a text with line breaks stays quoted)."""
    buffer = io.StringIO()
    cells = list(row.values()) if header else [_cell(c, row[c]) for c in columns]
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def encode_json(row: dict) -> str:
    """One JSON Lines record (without its line end)."""
    return json.dumps(row, ensure_ascii=False)


def parquet_schema(columns: Sequence[str]):
    """The Parquet (pyarrow) schema of the rows: text columns as strings (``inputs``
    and ``not_used`` as JSON text), the rest as float64."""
    import pyarrow

    return pyarrow.schema(
        [(c, pyarrow.string() if c in TEXT_COLUMNS else pyarrow.float64()) for c in columns]
    )


def parquet_record(row: dict) -> dict:
    """A row as Parquet stores it (``inputs`` and ``not_used`` as JSON text)."""
    return {
        c: json.dumps(v, ensure_ascii=False) if c in JSON_COLUMNS else v for c, v in row.items()
    }


# -- decoding ----------------------------------------------------------------------
def _decode_cell(column: str, text: str):
    if column in JSON_COLUMNS:
        return json.loads(text) if text else {}
    if column in TEXT_COLUMNS:
        return None if (text == "" and column in OPTIONAL_TEXT) else text
    return float(text) if text != "" else None


def _check_columns(found: Sequence[str], columns: Sequence[str] | None, where: str) -> None:
    if columns is not None and list(found) != list(columns):
        raise ValueError(
            f"{where} holds other columns ({', '.join(found)}) than this model's "
            f"({', '.join(columns)}); give another --out, or the model that wrote it"
        )


def _csv_rows(text: str, columns, where: str) -> tuple[list[dict], bool]:
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return [], False
    header, body = records[0], records[1:]
    partial = not text.endswith("\n")
    if partial and not body:  # the header itself was cut short
        return [], True
    _check_columns(header, columns, where)
    if partial:
        body = body[:-1]
    rows: list[dict] = []
    for number, record in enumerate(body, start=2):
        if len(record) != len(header):
            if number == len(body) + 1:  # a last record cut inside a quoted text
                return rows, True
            raise ValueError(
                f"{where}: record {number} has {len(record)} fields, not {len(header)}"
            )
        rows.append({c: _decode_cell(c, v) for c, v in zip(header, record, strict=True)})
    return rows, partial


def _json_rows(text: str, columns, where: str) -> tuple[list[dict], bool]:
    lines = text.split("\n")
    partial = lines[-1] != ""  # the text after the last line end: a record cut short
    rows = []
    for number, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: line {number} is not JSON ({error})") from None
        _check_columns(list(row), columns, where)
        rows.append(row)
    return rows, partial


def _parquet_rows(data: bytes, columns, where: str) -> list[dict]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    _check_columns(table.column_names, columns, where)
    return [
        {c: (json.loads(v) if c in JSON_COLUMNS and v is not None else v) for c, v in r.items()}
        for r in table.to_pylist()
    ]


def read_rows(path: str | Path, columns: Sequence[str] | None = None) -> list[dict]:
    """The rows of an output file (``[]`` if it does not exist); a last row cut short is
    left out. With ``columns``, a file with other columns is a ``ValueError``.

    >>> rows = read_rows("results.csv")  # doctest: +SKIP
    >>> rows[0]["key"], rows[0]["top"]  # doctest: +SKIP
    ('photo.jpg', 'happy')
    """
    return _read_existing(path, columns)[0]


def _read_existing(path, columns) -> tuple[list[dict], bool]:
    """``(rows, cut)``: the complete rows of ``path`` and whether its end was cut short.
    For Parquet, the rows of its journal (a killed local run) are included."""
    if output_format(path) == "parquet":
        rows, journal, cut = _parquet_parts(path, columns)
        return rows + journal, cut
    data = read_bytes(path)
    if data is None:
        return [], False
    text = data.decode("utf-8")
    if output_format(path) == "csv":
        return _csv_rows(text, columns, str(path))
    return _json_rows(text, columns, str(path))


def _parquet_parts(path, columns) -> tuple[list[dict], list[dict], bool]:
    """A Parquet output's rows, its journal's rows, and whether the journal was cut."""
    data = read_bytes(path)
    rows = _parquet_rows(data, columns, str(path)) if data else []
    journal = read_bytes(f"{path}{JOURNAL_SUFFIX}")
    if not journal:
        return rows, [], False
    more, cut = _json_rows(journal.decode("utf-8"), columns, f"{path}{JOURNAL_SUFFIX}")
    return rows, more, cut


def write_rows(path: str | Path, rows: Iterable[dict], columns: Sequence[str]) -> None:
    """Write a whole local output file (atomically: a temporary file, then a rename)."""
    path = Path(path)
    kind = output_format(path)
    if kind == "csv":
        _write_lines(path, [csv_header(columns), *(encode_csv(row, columns) for row in rows)])
    elif kind == "jsonl":
        _write_lines(path, (encode_json(row) for row in rows))
    else:
        import pyarrow
        import pyarrow.parquet as pq

        records = [parquet_record(r) for r in rows]
        table = pyarrow.Table.from_pylist(records, schema=parquet_schema(columns))
        temporary = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, path)


class LocalOutput:
    """An output file the local runner adds rows to, chunk by chunk.

    Opening it reads the rows already there (``done``: their keys), so that a re-run
    skips them, and trims a row cut short by a killed run. Each :meth:`write` reaches
    the disk before it returns.
    """

    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.format = output_format(self.path)
        self.columns = list(columns)
        if self.format == "parquet":
            rows, journal, cut = _parquet_parts(self.path, self.columns)
            existing = rows + journal
            self._pending: list[dict] | None = existing  # merged into the Parquet file by close()
            self._target = Path(f"{self.path}{JOURNAL_SUFFIX}")
            if cut:
                _write_lines(self._target, (encode_json(row) for row in journal))
        else:
            existing, cut = _read_existing(self.path, self.columns)
            self._pending = None
            self._target = self.path
            if cut:
                write_rows(self.path, existing, self.columns)
        self.existing = len(existing)
        self.done = {row["key"] for row in existing}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self._target.exists() or self._target.stat().st_size == 0
        self._file = self._target.open("a", encoding="utf-8", newline="")
        if new_file and self.format == "csv":
            self._file.write(csv_header(self.columns) + "\n")
            self._file.flush()
        self.written = 0

    def write(self, rows: Sequence[dict]) -> None:
        """Append ``rows`` and flush them to disk."""
        for row in rows:
            line = encode_csv(row, self.columns) if self.format == "csv" else encode_json(row)
            self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        if self._pending is not None:
            self._pending.extend(rows)
        self.written += len(rows)

    def close(self) -> None:
        """Close the file; a Parquet output gets its old and new rows, its journal goes."""
        self._file.close()
        if self._pending is not None:
            if self._target.stat().st_size or not self.path.exists():
                write_rows(self.path, self._pending, self.columns)
            self._target.unlink(missing_ok=True)

    def __enter__(self) -> LocalOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path`` atomically (a temporary file, then a rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(temporary, path)
