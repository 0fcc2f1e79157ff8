"""ASGI middleware of ``emozoo serve``: access log, bearer token, body size limit.

Plain ASGI classes (no ``BaseHTTPMiddleware``), so that request bodies stream through
them chunk by chunk and a client that goes away is seen as such.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from emozoo.serving.limits import InputError

ACCESS_LOGGER = "emozoo.serve.access"
#: A request id the client may choose (``X-Request-ID``); anything else is replaced.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: The status logged for a request whose client went away before the answer.
CLIENT_CLOSED = 499


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def request_id(scope) -> str:
    """The id of a request: the client's ``X-Request-ID`` when sane, else a new one."""
    state = scope.get("state") or {}
    return state.get("request_id") or uuid.uuid4().hex


def error_body(error: InputError, scope) -> bytes:
    return json.dumps({**error.to_dict(), "request_id": request_id(scope)}).encode()


async def send_error(error: InputError, scope, send, close: bool = False) -> None:
    """Answer ``error`` as JSON from middleware (before the app runs)."""
    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    if close:  # the body was not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    body = error_body(error, scope)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One JSON line per request on the ``emozoo.serve.access`` logger.

    Fields: time, request id, method, path (never the query string), status, latency,
    bytes in and out, client address. Nothing of the request's content is logged.
    The request id is echoed in the ``X-Request-ID`` response header.
    """

    def __init__(self, app, logger: logging.Logger | None = None):
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = _header(scope, b"x-request-id")
        rid = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        seen: dict[str, Any] = {"status": None, "in": 0, "out": 0, "gone": False}

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                seen["in"] += len(message.get("body", b""))
            elif message["type"] == "http.disconnect":
                seen["gone"] = True
            return message

        async def tagging_send(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                seen["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, tagging_send)
        finally:
            status = seen["status"] or (CLIENT_CLOSED if seen["gone"] else 500)
            client = scope.get("client") or (None, None)
            self.logger.info(
                json.dumps(
                    {
                        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                        "request_id": rid,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "latency_ms": round(1000 * (time.perf_counter() - start), 2),
                        "bytes_in": seen["in"],
                        "bytes_out": seen["out"],
                        "client": client[0],
                    }
                )
            )


class BearerAuth:
    """Requests under ``prefix`` need ``Authorization: Bearer <token>`` (else 401)."""

    def __init__(self, app, token: str, prefix: str = "/v1/"):
        if not token:
            raise ValueError("the bearer token must not be empty")
        self.app = app
        self.token = token.encode()
        self.prefix = prefix

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and scope["path"].startswith(self.prefix)
            and scope["method"] != "OPTIONS"  # CORS preflights carry no credentials
        ):
            scheme, _, given = (_header(scope, b"authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self.token
            ):
                missing = not given
                error = InputError(
                    401,
                    "unauthorized",
                    "this server needs a bearer token: send 'Authorization: Bearer <token>'"
                    if missing
                    else "the bearer token is wrong",
                    headers={"WWW-Authenticate": 'Bearer realm="emozoo"'},
                )
                await send_error(error, scope, send, close=True)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse bodies over ``max_bytes``: from ``Content-Length`` before reading a byte,
    else (chunked uploads, or a client sending more than it declared) as soon as the
    running count passes the limit, by raising a 413 :class:`InputError` from
    ``receive``."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> InputError:
        return InputError(
            413,
            "too_large",
            f"the request body is {size}; the limit is {self.max_bytes:,} bytes",
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                error = InputError(400, "malformed_body", "Content-Length is not a number")
                await send_error(error, scope, send, close=True)
                return
            if int(declared) > self.max_bytes:
                size = f"{int(declared):,} bytes by its Content-Length"
                await send_error(self._too_large(size), scope, send, close=True)
                return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large(f"over {self.max_bytes:,} bytes (cut off while reading)")
            return message

        await self.app(scope, limited_receive, send)


def configure_access_log(stream=None, level: int = logging.INFO) -> logging.Logger:
    """Write the access log's JSON lines, bare, to ``stream`` (standard error)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(level)
    logger.propagate = False
    if not any(getattr(h, "_emozoo_access", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._emozoo_access = True  # type: ignore[attr-defined]  # marks emozoo's handler
        logger.addHandler(handler)
    return logger
