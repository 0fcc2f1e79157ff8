"""What ``emozoo serve`` accepts: size, duration, pixel and text limits, and the 4xx error.

No web framework here: :class:`InputError` carries an HTTP status, a short code and a
message that says what was wrong; the app turns it into a JSON answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits of one server; every one is checked before the work it guards.

    Attributes:
        max_upload_bytes: the whole request body (refused from ``Content-Length`` when it
            declares more, else cut off while streaming).
        max_audio_seconds: an audio upload's duration, read from its header before decoding.
        max_image_pixels: an image's width times height, read from its header.
        max_text_chars: characters of the text field (after UTF-8 decoding).
        max_batch_items: samples in one ``/v1/predict/batch`` request.
        request_timeout_s: reading the body plus waiting for the prediction.
        queue_size: requests waiting for the model; beyond it the server answers 503.
        max_batch: samples a worker gives the model at once (micro-batching); ``None``
            chooses: 32 where the network runs a batch in one call (Keras), 1 where it
            runs row by row anyway (LiteRT), so that batching would only add latency.
    """

    max_upload_bytes: int = 20 * MB
    max_audio_seconds: float = 60.0
    max_image_pixels: int = 40_000_000
    max_text_chars: int = 10_000
    max_batch_items: int = 32
    request_timeout_s: float = 30.0
    queue_size: int = 64
    max_batch: int | None = None

    def __post_init__(self):
        for name, value in asdict(self).items():
            if value is not None and not value > 0:
                raise ValueError(f"limit {name} must be positive, got {value}")

    def to_dict(self) -> dict:
        """The limits as JSON-ready numbers (what ``GET /v1/models`` reports)."""
        return asdict(self)


class InputError(Exception):
    """A request the server refuses: an HTTP status, a short code and a clear message.

    ``field`` names the form field or batch item at fault (``None`` for the request);
    ``headers`` are added to the answer (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def in_field(self, field: str) -> InputError:
        """The same error, naming ``field`` (prefixed to an inner field name if any)."""
        named = field if self.field is None else f"{field}.{self.field}"
        return InputError(self.status, self.code, f"{named}: {self.message}", named, self.headers)

    def to_dict(self) -> dict:
        return {"detail": self.message, "code": self.code, "field": self.field}


def too_large(what: str, size: str, limit: str, field: str | None = None) -> InputError:
    """413: ``what`` is ``size``, over ``limit``."""
    return InputError(413, "too_large", f"{what} is {size}; the limit is {limit}", field)
