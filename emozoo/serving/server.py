"""Running the app under uvicorn: one process, graceful shutdown on SIGTERM and Ctrl-C."""

from __future__ import annotations

import logging

#: Seconds a stopping server waits for the requests in flight before it closes them.
GRACEFUL_TIMEOUT_S = 30.0


def missing_serve_extra() -> str | None:
    """The name of the first ``serve`` extra package that is not installed, or ``None``."""
    import importlib.util

    for module in ("fastapi", "uvicorn", "python_multipart"):
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except (ImportError, ValueError):  # a module set to None in sys.modules
            return module
    return None


def serve(
    app,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    graceful_timeout_s: float = GRACEFUL_TIMEOUT_S,
    max_connections: int | None = None,
    log_level: str = "info",
) -> None:
    """Serve ``app`` until SIGTERM or Ctrl-C, then let the requests in flight finish.

    On SIGTERM uvicorn stops accepting connections, waits up to ``graceful_timeout_s``
    for the requests in flight, then runs the app's shutdown (the batcher drains).
    ``max_connections`` caps concurrent connections (uvicorn answers 503 beyond).
    """
    import uvicorn

    from emozoo.serving.middleware import configure_access_log

    class _Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            # uvicorn re-raises the signal once it has shut down, killing the process
            # before the CLI's standard error filter has passed on the last lines; a
            # drained server exits normally instead (status 0).
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    configure_access_log()
    # python-multipart logs each malformed body it meets; the 400 answer says it already.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,  # emozoo's JSON access log replaces uvicorn's
        log_level=log_level,
        timeout_graceful_shutdown=graceful_timeout_s,  # type: ignore[arg-type]  # float seconds work
        limit_concurrency=max_connections,
        server_header=False,
        lifespan="on",
    )
    _Server(config).run()
