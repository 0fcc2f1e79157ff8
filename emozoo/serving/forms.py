"""Request bodies read in memory as they stream in: multipart forms and JSON.

The body size limit is enforced by :class:`~emozoo.serving.middleware.BodyLimit` on
every chunk; here a multipart body is split into its parts (python-multipart's streaming
parser, no temporary files), unknown and repeated fields are refused as soon as their
headers arrive, and a body that ends before its closing boundary is a 400.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Any

from emozoo.serving.limits import InputError


@dataclass
class Part:
    """One field of a multipart form: its name, the file name sent (if any) and its bytes."""

    name: str
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _malformed(message: str) -> InputError:
    return InputError(400, "malformed_body", f"malformed multipart body: {message}")


def multipart_boundary(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` content type (415 for any other type)."""
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        shown = kind.decode("latin-1") or "none"
        raise InputError(
            415,
            "unsupported_type",
            f"the request's content type is {shown}; send multipart/form-data "
            "(e.g. curl -F image=@photo.jpg -F text='...')",
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise _malformed("the Content-Type header has no boundary")
    return boundary


async def read_multipart(
    chunks: AsyncIterator[bytes], content_type: str | None, fields: Collection[str]
) -> dict[str, Part]:
    """The parts of a multipart body, by field name; only ``fields`` are accepted.

    Raises :class:`InputError`: 415 for another content type, 400 for a malformed or
    truncated body, an unknown field or a field given twice.
    """
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    boundary = multipart_boundary(content_type)
    parts: dict[str, Part] = {}
    state: dict[str, Any] = {
        "current": None,
        "header": b"",
        "value": b"",
        "disposition": None,
        "ended": False,
    }

    def on_part_begin():
        state["current"], state["disposition"] = None, None

    def on_header_field(data, start, end):
        state["header"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        if state["header"].strip().lower() == b"content-disposition":
            state["disposition"] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished():
        if state["disposition"] is None:
            raise _malformed("a part has no Content-Disposition header")
        _, options = parse_options_header(state["disposition"])
        if b"name" not in options:
            raise _malformed('a part\'s Content-Disposition has no name="..."')
        try:
            name = options[b"name"].decode("utf-8")
            filename = options[b"filename"].decode("utf-8") if b"filename" in options else None
        except UnicodeDecodeError:
            raise _malformed("a field name or file name is not UTF-8") from None
        if name not in fields:
            raise InputError(
                400,
                "unknown_field",
                f"unknown field {name[:40]!r}; the fields are {', '.join(sorted(fields))}",
                name[:40],
            )
        if name in parts:
            raise InputError(400, "repeated_field", f"the field {name!r} is given twice", name)
        state["current"] = parts[name] = Part(name, filename)

    def on_part_data(data, start, end):
        state["current"].data += data[start:end]

    def on_end():
        state["ended"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_end": on_end,
        },
    )
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as error:
        raise _malformed(str(error) or type(error).__name__) from None
    if not state["ended"]:
        raise _malformed(
            "it ends before its closing boundary (a truncated upload, or a wrong boundary)"
        )
    return parts
