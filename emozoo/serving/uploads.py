"""Uploads from bytes in memory to what the recognizer takes: RGB arrays, waveforms, text.

The type of an upload is read from its first bytes (magic numbers), never from the
declared content type or file name. Image dimensions and audio durations are read from
the file's header and checked against :class:`~emozoo.serving.limits.Limits` before
anything is decoded, so a small file that declares 100,000 x 100,000 pixels or an hour
of audio is refused without allocating for it. Nothing is written to disk.
"""

from __future__ import annotations

import io
import warnings
import wave
from dataclasses import dataclass

import cv2
import numpy as np
import soundfile as sf

from emozoo.preprocessing.audio import MIN_DURATION_S
from emozoo.serving.limits import InputError, Limits, too_large

#: The smallest image side the face detector can use (as in ``load_image``).
MIN_IMAGE_SIDE = 8


@dataclass(frozen=True)
class Format:
    """A file format recognised from its first bytes.

    ``family`` is ``"image"``, ``"sound"`` or ``"other"``; ``readable`` says whether the
    server decodes it; ``pillow`` is Pillow's name for the format (images only).
    """

    name: str
    family: str
    readable: bool
    pillow: str | None = None

    @property
    def description(self) -> str:
        kind = {"image": "image", "sound": "audio"}.get(self.family, "file")
        return f"{self.name} {kind}"


JPEG = Format("JPEG", "image", True, "JPEG")
PNG = Format("PNG", "image", True, "PNG")
BMP = Format("BMP", "image", True, "BMP")
WEBP = Format("WebP", "image", True, "WEBP")
TIFF = Format("TIFF", "image", True, "TIFF")
GIF = Format("GIF", "image", False)
HEIC = Format("HEIC", "image", False)
WAV = Format("WAV", "sound", True)
FLAC = Format("FLAC", "sound", True)
OGG = Format("OGG", "sound", True)
MP3 = Format("MP3", "sound", True)
AIFF = Format("AIFF", "sound", True)
WEBM = Format("WebM/Matroska", "sound", False)
M4A = Format("MP4/M4A", "sound", False)
PDF = Format("PDF", "other", False)
ZIP = Format("ZIP", "other", False)

IMAGE_FORMATS = "JPEG, PNG, BMP, WebP or TIFF"
AUDIO_FORMATS = "WAV, FLAC, OGG (Vorbis or Opus), MP3 or AIFF"


def sniff(data: bytes) -> Format | None:
    """The format of ``data`` by its magic number, or ``None`` when none matches.

    >>> sniff(b"\\x89PNG\\r\\n\\x1a\\n....").name, sniff(b"RIFF\\0\\0\\0\\0WAVEfmt ").name
    ('PNG', 'WAV')
    >>> sniff(b"hello") is None
    True
    """
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head.startswith(b"BM") and len(data) >= 26:
        return BMP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return MP3  # an ID3 tag, or the frame sync of an MPEG layer III frame
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    if head[4:8] == b"ftyp":
        return HEIC if head[8:12] in (b"heic", b"heix", b"mif1", b"avif") else M4A
    if head.startswith(b"%PDF"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    return None


def _wrong_type(field: str, found: Format | None, wanted: str, formats: str) -> InputError:
    """415 for an upload of the wrong or an unsupported type, saying what the bytes are."""
    if found is None:
        what = "matches no format the server reads (checked from its first bytes)"
    elif found.readable:
        what = f"holds {found.description}, not {wanted} (the type is read from the bytes)"
    else:
        what = f"holds {found.description}, which is not supported"
    hint = " (the web page converts recordings to WAV)" if found is WEBM else ""
    return InputError(
        415, "unsupported_type", f"the {field} upload {what}; send {formats}{hint}", field
    )


def image_size(data: bytes, found: Format, field: str = "image") -> tuple[int, int]:
    """``(width, height)`` from the image's header (Pillow reads the header only)."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert found.pillow is not None  # an image format
        try:
            with Image.open(io.BytesIO(data), formats=[found.pillow]) as header:
                return header.size
        except Image.DecompressionBombError:
            limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            raise InputError(
                413,
                "too_large",
                f"the {field} declares more than {limit:,} pixels in its header; "
                "it was refused before decoding",
                field,
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise InputError(
                422,
                "undecodable",
                f"the {field} upload looks like {found.description} but its header cannot be "
                f"read ({error}); it may be corrupt or truncated",
                field,
            ) from None


def decode_image(data: bytes, limits: Limits, field: str = "image") -> np.ndarray:
    """An RGB uint8 array from the bytes of a JPEG, PNG, BMP, WebP or TIFF file.

    Raises :class:`InputError`: 415 for another type, 413 when the header declares more
    pixels than ``limits.max_image_pixels``, 422 when it cannot be decoded.
    """
    found = sniff(data)
    if found is None or found.family != "image" or not found.readable:
        raise _wrong_type(field, found, "an image", IMAGE_FORMATS)
    width, height = image_size(data, found, field)
    if width * height > limits.max_image_pixels:
        raise too_large(
            f"the {field} ({width}x{height}, by its header)",
            f"{width * height:,} pixels",
            f"{limits.max_image_pixels:,} pixels",
            field,
        )
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(
            422,
            "undecodable",
            f"the {field} upload ({found.description}) could not be decoded; it may be "
            "corrupt or truncated",
            field,
        )
    if bgr.shape[0] * bgr.shape[1] > limits.max_image_pixels:  # the header was wrong
        raise too_large(
            f"the decoded {field}", f"{bgr.shape[0] * bgr.shape[1]:,} pixels", "its header", field
        )
    if min(bgr.shape[:2]) < MIN_IMAGE_SIDE:
        raise InputError(
            422,
            "too_small",
            f"the {field} is {bgr.shape[1]}x{bgr.shape[0]} pixels; at least "
            f"{MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} is needed",
            field,
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def declared_seconds(data: bytes, found: Format) -> float:
    """The duration an audio file's header declares (libsndfile; for WAV also the RIFF
    data size, which libsndfile caps at what the file holds)."""
    info = sf.info(io.BytesIO(data))
    seconds = info.frames / info.samplerate if info.samplerate > 0 else 0.0
    if found is WAV:
        try:
            with wave.open(io.BytesIO(data)) as header:
                frame_bytes = header.getsampwidth() * header.getnchannels()
                unknown = header.getnframes() * frame_bytes > 0xFFFFFFFF - frame_bytes
                if header.getframerate() > 0 and not unknown:  # streamed WAVs write ~4 GiB
                    seconds = max(seconds, header.getnframes() / header.getframerate())
        except (wave.Error, EOFError, ValueError):
            pass  # float or extensible WAV: libsndfile's count stands
    return seconds


def decode_audio(data: bytes, limits: Limits, field: str = "audio") -> tuple[np.ndarray, int]:
    """``(mono float32 waveform, sample rate)`` from the bytes of an audio file.

    The duration is read from the header first and refused (413) over
    ``limits.max_audio_seconds``; decoding stops at the limit whatever the header says.
    """
    found = sniff(data)
    if found is None or found.family != "sound" or not found.readable:
        raise _wrong_type(field, found, "audio", AUDIO_FORMATS)

    def undecodable(error: Exception) -> InputError:
        return InputError(
            422,
            "undecodable",
            f"the {field} upload ({found.description}) could not be decoded ({error}); it may "
            "be corrupt or truncated",
            field,
        )

    try:
        seconds = declared_seconds(data, found)
        if seconds > limits.max_audio_seconds:
            raise too_large(
                f"the {field} (by its header)",
                f"{seconds:.1f} s long",
                f"{limits.max_audio_seconds:g} s",
                field,
            )
        with sf.SoundFile(io.BytesIO(data)) as file:
            rate = file.samplerate
            most = int(limits.max_audio_seconds * rate) + 1
            waveform = file.read(frames=most, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise undecodable(error) from None
    if len(waveform) >= int(limits.max_audio_seconds * rate) + 1:
        raise too_large(
            f"the decoded {field}",
            f"longer than {limits.max_audio_seconds:g} s",
            f"{limits.max_audio_seconds:g} s",
            field,
        )
    if len(waveform) < MIN_DURATION_S * rate:
        raise InputError(
            422,
            "too_short",
            f"the {field} lasts {len(waveform) / rate:.3f} s; at least {MIN_DURATION_S} s is needed",
            field,
        )
    if not np.all(np.isfinite(waveform)):
        raise InputError(422, "undecodable", f"the {field} holds NaN or infinite samples", field)
    return waveform.mean(axis=1, dtype=np.float32), int(rate)


def decode_text(raw: bytes | bytearray, limits: Limits, field: str = "text") -> str:
    """The text of a form field: strictly UTF-8 (400 otherwise), at most
    ``limits.max_text_chars`` characters (413)."""
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            400,
            "not_utf8",
            f"the {field} field is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset "
            f"{error.start}); send UTF-8 text",
            field,
        ) from None
    return check_text(text.removeprefix("\ufeff"), limits, field)


def check_text(text: str, limits: Limits, field: str = "text") -> str:
    """``text`` if it has at most ``limits.max_text_chars`` characters and no lone
    surrogate (which JSON's ``\\udc80`` escapes can carry)."""
    if len(text) > limits.max_text_chars:
        raise too_large(
            f"the {field}", f"{len(text):,} characters", f"{limits.max_text_chars:,}", field
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            400,
            "not_utf8",
            f"the {field} holds a lone surrogate (U+{ord(text[error.start]):04X}) at character "
            f"{error.start}; send valid Unicode text",
            field,
        ) from None
    return text


def parse_flag(raw: str, field: str) -> bool:
    """A yes/no form field: ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``."""
    value = {"true": True, "1": True, "yes": True, "on": True}.get(raw.strip().lower())
    if value is None:
        value = {"false": False, "0": False, "no": False, "off": False}.get(raw.strip().lower())
    if value is None:
        raise InputError(
            400, "bad_field", f"{field} must be true or false, got {raw[:20]!r}", field
        )
    return value
