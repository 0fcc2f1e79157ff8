"""The FastAPI app of ``emozoo serve``: the HTTP API, the web page and the offline docs.

>>> from emozoo import EmotionRecognizer
>>> from emozoo.serving.app import create_app
>>> app = create_app(EmotionRecognizer())  # doctest: +SKIP

Routes: ``POST /v1/predict`` (multipart: image, audio, text), ``POST /v1/predict/batch``
(JSON with base64 files), ``GET /v1/models``, ``GET /healthz``, ``GET /readyz``, the page
at ``/``, an offline API reference at ``/docs`` and the OpenAPI document at
``/openapi.json``. Every refusal is a JSON :class:`~emozoo.serving.schemas.ErrorBody`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect

import emozoo
from emozoo.registry import get_entry
from emozoo.serving.batching import (
    MicroBatcher,
    QueueFull,
    Sample,
    SampleError,
    default_max_batch,
)
from emozoo.serving.forms import Part, read_multipart
from emozoo.serving.limits import InputError, Limits
from emozoo.serving.middleware import CLIENT_CLOSED, AccessLog, BearerAuth, BodyLimit, request_id
from emozoo.serving.schemas import BatchBody, BatchRequest, ErrorBody, PredictionBody
from emozoo.serving.uploads import check_text, decode_audio, decode_image, decode_text, parse_flag

log = logging.getLogger("emozoo.serve")

STATIC = Path(__file__).with_name("static")
#: The inputs a request may carry, and the modality each one feeds.
INPUT_MODALITY = {"image": "face", "audio": "audio", "text": "text"}
PREDICT_FIELDS = (*INPUT_MODALITY, "detect_faces")
#: The page and the docs load nothing from elsewhere; the browser is told so.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _errors(*statuses: int) -> dict:
    words = {
        400: "malformed request: bad multipart or JSON, unknown field, text not UTF-8",
        401: "a bearer token is needed (when the server has one)",
        408: "the upload did not arrive within the request timeout",
        413: "too large: body, image pixels, audio duration, text length or batch size",
        415: "an upload's bytes are not a supported type, or the wrong content type",
        422: "an upload cannot be decoded or used by the model",
        503: "the queue is full (see Retry-After) or the server is not ready",
        504: "the prediction did not finish within the request timeout",
    }
    return {s: {"model": ErrorBody, "description": words[s]} for s in statuses}


PREDICT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "image": {
                        "type": "string",
                        "format": "binary",
                        "description": "a photo (JPEG, PNG, BMP, WebP or TIFF)",
                    },
                    "audio": {
                        "type": "string",
                        "format": "binary",
                        "description": "speech (WAV, FLAC, OGG, MP3 or AIFF)",
                    },
                    "text": {"type": "string", "description": "what was said or written (UTF-8)"},
                    "detect_faces": {
                        "type": "boolean",
                        "description": "false: the image is already a face crop (default true)",
                    },
                },
            }
        }
    },
}

BATCH_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}},
}


class ServerState:
    """What the routes share: the recognizer, its batcher, the limits, readiness."""

    def __init__(self, recognizer, limits: Limits, workers: int):
        self.recognizer = recognizer
        max_batch = limits.max_batch or default_max_batch(recognizer)
        self.limits = replace(limits, max_batch=max_batch)
        self.batcher = MicroBatcher(recognizer, limits.queue_size, max_batch, workers)
        self.ready = False
        self._models: dict | None = None

    def models(self) -> dict:
        """``GET /v1/models``: the served model's card and every registered model."""
        if self._models is None:
            served = self.recognizer.model_name
            self._models = {
                "served": emozoo.model_info(served, build=False),
                "models": [
                    {
                        "name": entry.name,
                        "description": entry.description,
                        "modalities": list(entry.modalities),
                        "labels": list(entry.labels),
                        "pretrained": entry.pretrained,
                    }
                    for entry in map(get_entry, emozoo.list_models())
                ],
                "limits": self.limits.to_dict(),
            }
        return self._models

    async def predict(self, samples: list[Sample]) -> list:
        """The predictions of ``samples`` through the micro-batcher (503 when it is full)."""
        if not self.ready:
            raise InputError(503, "not_ready", "the server is starting or stopping")
        try:
            future = self.batcher.submit(samples)
        except QueueFull as error:
            raise InputError(
                503,
                "busy",
                f"the server is busy ({error}); retry after a second",
                headers={"Retry-After": "1"},
            ) from None
        return await asyncio.wrap_future(future)


def decode_sample(
    state: ServerState,
    image: bytes | None,
    audio: bytes | None,
    text: str | None,
    detect_faces: bool | None,
) -> Sample:
    """A :class:`Sample` from uploaded bytes, every limit checked (runs in a worker thread)."""
    given = {"image": image, "audio": audio, "text": text}
    present = [name for name, value in given.items() if value is not None]
    if not present:
        raise InputError(400, "no_input", "give at least one of the fields image, audio, text")
    modalities = state.recognizer.modalities
    for name in present:
        if INPUT_MODALITY[name] not in modalities:
            raise InputError(
                422,
                "modality_not_taken",
                f"the model {state.recognizer.model_name} takes {', '.join(modalities)}; "
                f"it cannot use the {name} field",
                name,
            )
        if isinstance(given[name], (bytes, bytearray)) and not given[name]:
            raise InputError(400, "empty_upload", f"the {name} upload is empty (0 bytes)", name)
    return Sample(
        image=None if image is None else decode_image(image, state.limits),
        text=text,
        audio=None if audio is None else decode_audio(audio, state.limits),
        detect_faces=detect_faces,
    )


def _sample_from_parts(state: ServerState, parts: dict[str, Part]) -> tuple[Sample, dict]:
    def data(name: str) -> bytes | None:
        return bytes(parts[name].data) if name in parts else None

    text = parts.get("text")
    flag = parts.get("detect_faces")
    sample = decode_sample(
        state,
        data("image"),
        data("audio"),
        None if text is None else decode_text(text.data, state.limits),
        None if flag is None else parse_flag(flag.data.decode("utf-8", "replace"), "detect_faces"),
    )
    names = {n: parts[n].filename or "upload" for n in ("image", "audio") if n in parts}
    return sample, names


def _base64(value: str | None, field: str) -> bytes | None:
    if value is None:
        return None
    if value.startswith("data:"):  # a data: URL, as FileReader.readAsDataURL gives
        value = value.partition(",")[2]
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(400, "bad_base64", "not valid base64", field) from None


def _batch_samples(state: ServerState, body: bytes) -> list[Sample]:
    try:
        batch = BatchRequest.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            message = f"the body is not valid JSON: {first['msg']}"
            raise InputError(400, "malformed_body", message) from None
        where = (
            "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])[1:] or "body"
        )
        raise InputError(
            422, "invalid_batch", f"{where}: {first['msg']} ({error.error_count()} error(s))", where
        ) from None
    if len(batch.items) > state.limits.max_batch_items:
        raise InputError(
            413,
            "too_large",
            f"the batch has {len(batch.items)} items; the limit is {state.limits.max_batch_items}",
        )
    samples = []
    for i, item in enumerate(batch.items):
        where = f"items[{i}]"
        try:
            samples.append(
                decode_sample(
                    state,
                    _base64(item.image, "image"),
                    _base64(item.audio, "audio"),
                    None if item.text is None else check_text(item.text, state.limits),
                    item.detect_faces,
                )
            )
        except InputError as error:
            raise error.in_field(where) from None
    return samples


def _with_upload_names(prediction, names: dict[str, str]) -> dict:
    """The prediction's JSON, its sources naming the uploads instead of "image array"."""
    body = prediction.to_dict()
    for name, shown in names.items():
        if name in body["sources"]:
            body["sources"][name] = shown
    return body


def _timed_out(phase: str, limits: Limits) -> InputError:
    if phase == "upload":
        return InputError(
            408,
            "upload_timeout",
            f"the request body did not arrive within {limits.request_timeout_s:g} s",
        )
    return InputError(
        504, "timeout", f"the prediction did not finish within {limits.request_timeout_s:g} s"
    )


def _json_error(request: Request, error: InputError) -> JSONResponse:
    headers = dict(error.headers)
    if error.status in (408, 413):  # the body may be unread: this connection is done
        headers["Connection"] = "close"
    body = {**error.to_dict(), "request_id": request_id(request.scope)}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _custom_openapi(app: FastAPI):
    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            batch = BatchRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(batch.pop("$defs", {}))
            schemas["BatchRequest"] = batch
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(
    recognizer,
    *,
    limits: Limits | None = None,
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    workers: int = 1,
) -> FastAPI:
    """The ``emozoo serve`` app around one loaded recognizer.

    Args:
        recognizer: an :class:`~emozoo.inference.EmotionRecognizer`, shared by every
            request (it is thread-safe).
        limits: input, queue and time limits (:class:`~emozoo.serving.limits.Limits`).
        token: when given, ``/v1/`` routes need ``Authorization: Bearer <token>``.
        cors_origins: origins allowed to call the API from a browser (none by default).
        workers: threads running the model, each on a micro-batch at a time.
    """
    if getattr(recognizer, "speaker_normalisation", None) is not None:
        # A request carries one sample; these models standardise over a speaker's many.
        raise ValueError(
            f"{recognizer.model_name} standardises each speaker's inputs over many "
            "recordings, which one request does not carry: serve a model without per-speaker "
            "normalisation (or run emozoo batch with a speaker column)"
        )
    limits = limits or Limits()
    state = ServerState(recognizer, limits, workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.batcher.start()
        state.ready = True
        log.info("emozoo serve: model %s ready", recognizer.model_name)
        yield
        state.ready = False
        await run_in_threadpool(state.batcher.stop)

    app = FastAPI(
        title="emozoo",
        version=emozoo.__version__,
        description=(
            "Emotion recognition from a photo, a voice recording and a text, any subset "
            f"(model {recognizer.model_name}). Inputs travel in the request body only."
        ),
        docs_url=None,  # FastAPI's Swagger UI loads from a CDN; /docs below is offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.emozoo = state
    app.openapi = _custom_openapi(app)  # type: ignore[method-assign]  # FastAPI's documented way

    @app.exception_handler(InputError)
    async def refused(request: Request, error: InputError):
        return _json_error(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _json_error(request, InputError(error.status_code, code, str(error.detail)))

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception):
        log.error("request %s failed", request_id(request.scope), exc_info=error)
        return _json_error(
            request,
            InputError(500, "internal_error", "internal error; the server log has the details"),
        )

    @app.post(
        "/v1/predict",
        summary="Predict from a photo, an audio clip and a text (multipart, any subset)",
        openapi_extra={"requestBody": PREDICT_BODY},
        responses={
            200: {"model": PredictionBody},
            **_errors(400, 401, 408, 413, 415, 422, 503, 504),
        },
    )
    async def predict(request: Request) -> Response:
        """The answer is the JSON of `emozoo predict --json`. Files are typed by their
        bytes, not by their declared content type."""
        phase = "upload"
        try:
            with anyio.fail_after(limits.request_timeout_s):
                parts = await read_multipart(
                    request.stream(), request.headers.get("content-type"), PREDICT_FIELDS
                )
                phase = "predict"
                sample, names = await run_in_threadpool(_sample_from_parts, state, parts)
                (prediction,) = await state.predict([sample])
        except TimeoutError:
            raise _timed_out(phase, limits) from None
        except ClientDisconnect:
            return Response(status_code=CLIENT_CLOSED)
        except SampleError as error:
            raise InputError(422, "unusable_input", str(error.error)) from None
        return JSONResponse(_with_upload_names(prediction, names))

    @app.post(
        "/v1/predict/batch",
        summary="Predict many samples in one request (JSON, files in base64)",
        openapi_extra={"requestBody": BATCH_BODY},
        responses={200: {"model": BatchBody}, **_errors(400, 401, 408, 413, 415, 422, 503, 504)},
    )
    async def predict_batch(request: Request) -> Response:
        """Items are answered in order; an unusable item fails the request with a 4xx
        naming it (`items[2].image: ...`)."""
        kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise InputError(
                415, "unsupported_type", f"send application/json, not {kind or 'no content type'}"
            )
        phase = "upload"
        try:
            with anyio.fail_after(limits.request_timeout_s):
                body = await request.body()
                phase = "predict"
                samples = await run_in_threadpool(_batch_samples, state, body)
                predictions = await state.predict(samples)
        except TimeoutError:
            raise _timed_out(phase, limits) from None
        except ClientDisconnect:
            return Response(status_code=CLIENT_CLOSED)
        except SampleError as error:
            where = f"items[{error.index}]"
            raise InputError(422, "unusable_input", f"{where}: {error.error}", where) from None
        return JSONResponse({"results": [p.to_dict() for p in predictions]})

    @app.get("/v1/models", summary="The served model's card, every registered model, the limits")
    def models() -> dict:
        return state.models()

    @app.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: the model is loaded and requests are taken",
        responses={503: {"description": "starting or stopping"}},
    )
    def readyz() -> Response:
        ready = state.ready and state.batcher.running
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "model": recognizer.model_name,
                "queued": state.batcher.waiting,
                "batches": state.batcher.batches,
                "samples": state.batcher.samples,
            },
            status_code=200 if ready else 503,
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Added innermost first: the access log sees every answer, CORS answers preflights
    # before the token is asked for, and the body limit guards every route.
    app.add_middleware(BodyLimit, max_bytes=limits.max_upload_bytes)
    if token:
        app.add_middleware(BearerAuth, token=token)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(AccessLog)
    return app
