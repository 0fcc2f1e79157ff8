"""The JSON shapes of ``emozoo serve``, as Pydantic models for validation and the OpenAPI
document (the prediction body is what ``emozoo predict --json`` prints)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """Every refusal (4xx) and failure (5xx) answers this."""

    detail: str = Field(description="what was wrong, in words")
    code: str = Field(description="a short machine-readable reason, e.g. too_large")
    field: str | None = Field(None, description="the form field or batch item at fault")
    request_id: str = Field(description="also in the X-Request-ID header and the access log")


class FaceBody(BaseModel):
    box: list[int] = Field(description="x, y, width, height in image pixels")
    angle: float = Field(description="degrees the face was turned to level the eyes")
    aligned: bool
    top: str | None
    confidence: float | None
    probabilities: dict[str, float]
    contributions: dict[str, float] | None = None
    by_modality: dict[str, dict[str, float]] | None = None


class PredictionBody(BaseModel):
    """``Prediction.to_dict()``: the JSON of ``emozoo predict --json``."""

    model: str
    top: str | None = Field(description="the most probable label; null when nothing was usable")
    confidence: float | None
    probabilities: dict[str, float]
    modalities_used: list[str]
    not_used: dict[str, str] = Field(description="inputs given but not used, with the reason")
    contributions: dict[str, float] = Field(
        description="leave-one-modality-out: how much each modality raises the top label"
    )
    by_modality: dict[str, dict[str, float]] = Field(description="each modality on its own")
    faces: list[FaceBody] = Field(description="one per detected face, largest first")
    warnings: list[str]
    sources: dict[str, Any] = Field(description="what was read: upload names, text, audio length")


class BatchItem(BaseModel):
    """One sample of a batch: any subset of image, audio and text."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(
        None, description="base64 of a JPEG, PNG, BMP, WebP or TIFF file (a data: URL works too)"
    )
    audio: str | None = Field(
        None, description="base64 of a WAV, FLAC, OGG, MP3 or AIFF file (a data: URL works too)"
    )
    text: str | None = Field(None, description="what was said or written")
    detect_faces: bool | None = Field(
        None, description="false: the image is already a face crop (default true)"
    )


class BatchRequest(BaseModel):
    """The body of ``POST /v1/predict/batch``."""

    model_config = ConfigDict(extra="forbid")

    items: list[BatchItem] = Field(min_length=1, description="the samples, answered in order")


class BatchBody(BaseModel):
    results: list[PredictionBody] = Field(description="one prediction per item, in order")
