"""``emozoo serve``: an HTTP API and a web page around one loaded recognizer.

Needs the ``serve`` extra (``pip install "emozoo[serve]"``: FastAPI, uvicorn,
python-multipart). Modules: ``limits`` (what is accepted, the 4xx error), ``uploads``
(bytes to arrays, typed by their magic numbers, headers checked before decoding),
``forms`` (streaming multipart in memory), ``batching`` (the micro-batcher),
``middleware`` (access log, bearer token, body limit), ``schemas`` (JSON shapes),
``app`` (the FastAPI app), ``server`` (uvicorn), ``static/`` (the page and the docs).
"""

from emozoo.serving.limits import InputError, Limits

__all__ = ["InputError", "Limits"]
