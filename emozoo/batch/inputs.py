"""What a batch job reads: a folder, a glob or a manifest CSV, listed as keyed items.

Every item has a stable ``key`` (the output's row key, which a re-run uses to skip work
already done):

- a folder: each photo, audio clip, text file (``.txt``) and video under it (recursive,
  sorted), keyed by its path relative to the folder (``sub/photo.jpg``);
- a glob (``"photos/*.jpg"``, ``"data/**/*.wav"``): each match, keyed by the path as the
  glob returns it;
- a manifest CSV with any of the columns ``face_path, text, audio_path, au_path``
  (``au_path``: an OpenFace 2 or py-feat CSV of facial action units, for models that
  take ``face_au``; relative paths are read from the manifest's folder) and an optional
  ``id`` column: each row, keyed by
  its ``id``, else by ``<manifest name>:<row number>`` (``pairs.csv:1`` is the first row
  below the header). An optional ``speaker`` column names who speaks or is filmed in the
  row, for models with per-speaker normalisation (``au_whisper_fusion_per_speaker``).
"""

from __future__ import annotations

import csv
import glob
from dataclasses import asdict, dataclass
from pathlib import Path

from emozoo.inference.media import IMAGE_EXTENSIONS

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg")
TEXT_EXTENSIONS = (".txt",)
#: Manifest columns that name a sample's inputs (``label`` and others are ignored).
MANIFEST_INPUTS = ("face_path", "text", "audio_path", "au_path")
#: A manifest column that, when present, gives each row's key.
MANIFEST_KEY = "id"
#: A manifest column naming each row's speaker (per-speaker normalisation groups by it).
MANIFEST_SPEAKER = "speaker"


@dataclass(frozen=True)
class BatchItem:
    """One sample of a batch job: its key and its inputs (paths, or a text).

    ``image``, ``audio`` and ``video`` are paths; ``text`` is the text itself and
    ``text_file`` a path to read it from; ``face_au`` is the path of an OpenFace 2 or
    py-feat action-unit CSV; ``speaker`` who speaks or is filmed (a manifest's
    ``speaker`` column). ``error`` is set when the input listing already knows the item
    cannot be run (a manifest row with no input).
    """

    key: str
    image: str | None = None
    text: str | None = None
    audio: str | None = None
    video: str | None = None
    text_file: str | None = None
    face_au: str | None = None
    speaker: str | None = None
    error: str | None = None

    @property
    def inputs(self) -> dict[str, str]:
        """The inputs that are set, as ``{name: value}`` (the rows' ``inputs`` column)."""
        return {
            name: value
            for name, value in asdict(self).items()
            if name not in ("key", "error", "speaker") and value is not None
        }


def item_for_file(path: Path, key: str) -> BatchItem | None:
    """The item a media file makes, by its extension (``None`` for other files)."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return BatchItem(key, image=str(path))
    if suffix in AUDIO_EXTENSIONS:
        return BatchItem(key, audio=str(path))
    if suffix in VIDEO_EXTENSIONS:
        return BatchItem(key, video=str(path))
    if suffix in TEXT_EXTENSIONS:
        return BatchItem(key, text_file=str(path))
    return None


def _folder_items(root: Path) -> list[BatchItem]:
    items = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.DS_Store, .git, ...)
        item = item_for_file(path, relative.as_posix())
        if item is not None:
            items.append(item)
    return items


def _glob_items(pattern: str) -> list[BatchItem]:
    items = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        path = Path(match)
        if path.is_file():
            item = item_for_file(path, match)
            if item is not None:
                items.append(item)
    return items


def read_manifest_items(path: str | Path) -> list[BatchItem]:
    """The rows of a manifest CSV as items (see the module docstring).

    Raises:
        FileNotFoundError: the manifest does not exist.
        ValueError: it has none of the input columns, or two rows share an ``id``.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Manifest {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if not any(c in columns for c in MANIFEST_INPUTS):
            raise ValueError(
                f"Manifest {path} has none of the columns {list(MANIFEST_INPUTS)} "
                f"(its header: {columns})"
            )
        rows = list(reader)

    def file(value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        given = Path(value).expanduser()
        return str(given if given.is_absolute() else path.parent / given)

    items: list[BatchItem] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        key = (row.get(MANIFEST_KEY) or "").strip() or f"{path.name}:{number}"
        if key in seen:
            raise ValueError(
                f"Manifest {path}: rows {seen[key]} and {number} have the same id {key!r}"
            )
        seen[key] = number
        text = row.get("text")
        item = BatchItem(
            key,
            image=file(row.get("face_path")),
            text=text if text and text.strip() else None,
            audio=file(row.get("audio_path")),
            face_au=file(row.get("au_path")),
            speaker=(row.get(MANIFEST_SPEAKER) or "").strip() or None,
        )
        if not item.inputs:
            item = BatchItem(
                key, error="manifest row has no face_path, text, audio_path or au_path"
            )
        items.append(item)
    return items


def list_inputs(source: str | Path) -> list[BatchItem]:
    """The items of a folder, a glob or a manifest CSV (or one media file), in a stable order.

    >>> [item.key for item in list_inputs("photos/")]  # doctest: +SKIP
    ['a.jpg', 'b.png', 'talks/interview.mp4']

    Raises:
        FileNotFoundError: ``source`` is neither an existing folder, a manifest, nor a
            glob with matches.
        ValueError: a manifest is malformed, or ``source`` is a file of another kind.
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        return _folder_items(path)
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return read_manifest_items(path)
        item = item_for_file(path, text)
        if item is None:
            raise ValueError(
                f"{path} is neither a folder, a glob, a manifest (.csv) nor a photo, audio, "
                "text or video file"
            )
        return [item]
    if glob.has_magic(text):
        items = _glob_items(str(Path(text).expanduser()) if text.startswith("~") else text)
        if not items:
            raise FileNotFoundError(f"No photo, audio, text or video file matches {text!r}")
        return items
    raise FileNotFoundError(f"{text} does not exist (give a folder, a glob or a manifest CSV)")
