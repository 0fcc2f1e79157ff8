"""The HTTP API in process (FastAPI's TestClient): answers, refusals, token, CORS, log."""

from __future__ import annotations

import base64
import json
import logging
import threading

import pytest
from fastapi.testclient import TestClient

import emozoo
from emozoo.inference.demo import sample_path
from emozoo.serving.app import create_app
from emozoo.serving.limits import MB, Limits
from tests.serving.conftest import TEXT
from tests.serving.helpers import multipart

SMALL = Limits(max_upload_bytes=2 * MB, max_text_chars=2000)


@pytest.fixture(scope="module")
def client(rec):
    with TestClient(create_app(rec, limits=SMALL)) as test_client:
        yield test_client


def post_form(client, fields: dict, **kwargs):
    body, content_type = multipart(fields)
    headers = {"content-type": content_type, **kwargs.pop("headers", {})}
    return client.post("/v1/predict", content=body, headers=headers, **kwargs)


def still_answers(client) -> None:
    """After a refusal the server answers the next request."""
    answer = post_form(client, {"text": "I am so happy today"})
    assert answer.status_code == 200 and answer.json()["top"] is not None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- answers -------------------------------------------------------------------------
def test_predict_answers_the_json_of_emozoo_predict(client, capsys):
    from emozoo.cli import main

    photo, clip = sample_path("astronaut.jpg"), sample_path("happy.wav")
    assert (
        main(["predict", "--image", str(photo), "--audio", str(clip), "--text", TEXT, "--json"])
        == 0
    )
    expected = json.loads(capsys.readouterr().out)
    answer = client.post(
        "/v1/predict",
        files={
            "image": ("astronaut.jpg", photo.read_bytes(), "image/jpeg"),
            "audio": ("happy.wav", clip.read_bytes(), "audio/wav"),
        },
        data={"text": TEXT},
    )
    assert answer.status_code == 200
    got = answer.json()
    assert got["sources"].pop("image") == "astronaut.jpg"
    assert got["sources"].pop("audio") == "happy.wav"
    del expected["sources"]["image"], expected["sources"]["audio"]
    assert got == expected
    assert got["modalities_used"] == ["face", "text", "audio"] and len(got["faces"]) == 1


def test_the_declared_content_type_does_not_matter(client, files):
    answer = client.post(
        "/v1/predict", files={"image": ("notes.txt", files["photo"], "text/plain")}
    )
    assert answer.status_code == 200 and answer.json()["modalities_used"] == ["face"]


def test_detect_faces_false_takes_the_image_as_a_crop(client, files):
    answer = post_form(client, {"image": files["photo"], "detect_faces": "false"})
    box = answer.json()["faces"][0]["box"]
    assert answer.status_code == 200 and box == [0, 0, 512, 512]


def test_batch_answers_each_item_like_predict(client, rec, files):
    items = [
        {"image": b64(files["photo"]), "text": TEXT},
        {"audio": b64(files["angry"])},
        {"text": "Nobody told me the flight was cancelled!"},
        {"image": "data:image/png;base64," + b64(files["png"]), "detect_faces": False},
    ]
    answer = client.post("/v1/predict/batch", json={"items": items})
    assert answer.status_code == 200
    results = answer.json()["results"]
    expected = [
        rec.predict(image=str(sample_path("astronaut.jpg")), text=TEXT),
        rec.predict(audio=str(sample_path("angry.wav"))),
        rec.predict(text="Nobody told me the flight was cancelled!"),
        rec.predict(image=str(sample_path("astronaut.jpg")), detect_faces=False),
    ]
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        assert got["top"] == want.top and got["modalities_used"] == want.modalities_used
        for label, p in want.probabilities.items():
            assert got["probabilities"][label] == pytest.approx(p, abs=2e-3)


def test_models_come_from_the_model_cards(client):
    answer = client.get("/v1/models").json()
    assert [m["name"] for m in answer["models"]] == emozoo.list_models()
    assert answer["served"]["name"] == "cnn_lstm_fusion"
    assert answer["served"]["labels"] == emozoo.model_info("cnn_lstm_fusion", build=False)["labels"]
    assert answer["limits"]["max_upload_bytes"] == 2 * MB


def test_health_and_readiness(rec):
    app = create_app(rec)
    with TestClient(app) as test_client:
        assert test_client.get("/healthz").json() == {"status": "ok"}
        ready = test_client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    # After shutdown (the batcher stopped) the app says it is not ready.
    assert TestClient(app).get("/readyz").status_code == 503


# -- refusals --------------------------------------------------------------------------
BAD_FORMS = {
    "malformed multipart": (
        b"this is not multipart at all",
        "multipart/form-data; boundary=xyz",
        400,
        "malformed_body",
    ),
    "no boundary": (b"--x--\r\n", "multipart/form-data", 400, "malformed_body"),
    "wrong content type": (b'{"text": "hi"}', "application/json", 415, "unsupported_type"),
    "truncated multipart": (
        b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello wor',
        "multipart/form-data; boundary=xyz",
        400,
        "malformed_body",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
def test_malformed_requests_are_400s(client, case):
    body, content_type, status, code = BAD_FORMS[case]
    answer = client.post("/v1/predict", content=body, headers={"content-type": content_type})
    assert answer.status_code == status and answer.json()["code"] == code, answer.json()
    assert answer.json()["detail"] and answer.json()["request_id"]
    still_answers(client)


BAD_FIELDS = {
    "wav sent as the image": ({"image": "speech"}, 415, "holds WAV audio, not an image"),
    "jpeg sent as the audio": ({"audio": "photo"}, 415, "holds JPEG image, not audio"),
    "webm recording": ({"audio": "webm"}, 415, "converts recordings to WAV"),
    "pdf sent as the image": ({"image": "pdf"}, 415, "PDF file"),
    "png declaring 100000x100000": ({"image": "png_100k"}, 413, "refused before decoding"),
    "png declaring 90 megapixels": ({"image": "png_90mp"}, 413, "10000x9000"),
    "truncated png": ({"image": "truncated_png"}, 422, "could not be decoded"),
    "image of 4x4 pixels": ({"image": "tiny_png"}, 422, "at least 8x8"),
    "an hour of flac": ({"audio": "flac_hour"}, 413, "3600.0 s long"),
    "wav header claiming an hour": ({"audio": "wav_claims_an_hour"}, 413, "3600.0 s long"),
    "audio of 0.05 s": ({"audio": "short_wav"}, 422, "at least 0.1 s"),
    "empty upload": ({"image": b""}, 400, "empty"),
    "text not utf-8": ({"text": b"\xff\xfe caf\xe9"}, 400, "not valid UTF-8"),
    "text too long": ({"text": "x" * 2001}, 413, "2,001 characters"),
    "unknown field": ({"imagery": "photo"}, 400, "unknown field 'imagery'"),
    "no input": ({}, 400, "give at least one"),
    "bad flag": ({"text": "hi", "detect_faces": "perhaps"}, 400, "true or false"),
}


@pytest.mark.parametrize("case", list(BAD_FIELDS))
def test_bad_uploads_are_clear_4xx(client, files, case):
    fields, status, words = BAD_FIELDS[case]
    form = {}
    for name, value in fields.items():
        if name == "text" or name == "detect_faces":
            form[name] = value
        else:
            form[name] = files.get(value, value) if isinstance(value, str) else value
    if isinstance(form.get("text"), bytes):  # a text part with raw bytes, no file name
        body, content_type = multipart({})
        raw = b'--emozoo-test-boundary\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
        body = raw + form["text"] + b"\r\n" + body
        answer = client.post("/v1/predict", content=body, headers={"content-type": content_type})
    else:
        answer = post_form(client, form)
    assert answer.status_code == status, answer.json()
    assert words in answer.json()["detail"]
    still_answers(client)


def test_a_field_given_twice_is_refused(client):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\none\r\n'
        b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\ntwo\r\n--b--\r\n'
    )
    answer = client.post(
        "/v1/predict", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 400 and answer.json()["code"] == "repeated_field"


def test_a_body_over_the_limit_is_refused_from_its_content_length(client):
    body = b"x" * (2 * MB + 1)
    answer = client.post(
        "/v1/predict", content=body, headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert answer.status_code == 413 and "Content-Length" in answer.json()["detail"]
    assert answer.headers["connection"] == "close"
    still_answers(client)


def test_a_model_without_a_modality_refuses_that_field(files):
    from emozoo import EmotionRecognizer

    with TestClient(create_app(EmotionRecognizer("text_bilstm"))) as test_client:
        answer = post_form(test_client, {"image": files["photo"], "text": "hi"})
        assert answer.status_code == 422
        assert "text_bilstm takes text; it cannot use the image field" in answer.json()["detail"]
        assert post_form(test_client, {"text": "hi"}).status_code == 200


BAD_BATCHES = {
    "not json": (b"{not json", 400, "not valid JSON"),
    "no items": (b'{"items": []}', 422, "items"),
    "unknown key": (b'{"items": [{"photo": "AAAA"}]}', 422, "items[0].photo"),
    "bad base64": (b'{"items": [{"text": "a"}, {"image": "@@@"}]}', 400, "items[1].image"),
    "wrong type in item": (None, 415, "items[0].image: the image upload holds WAV audio"),
    "too many items": (json.dumps({"items": [{"text": "a"}] * 33}).encode(), 413, "33 items"),
    "lone surrogate": (b'{"items": [{"text": "\\udc80"}]}', 400, "surrogate"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_bad_batches_name_the_item(client, files, case):
    body, status, words = BAD_BATCHES[case]
    if body is None:
        body = json.dumps({"items": [{"image": b64(files["speech"])}]}).encode()
    answer = client.post(
        "/v1/predict/batch", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == status, answer.json()
    assert words in answer.json()["detail"]
    still_answers(client)


def test_batch_needs_json(client):
    answer = post_form(client, {"text": "hi"})  # a form sent to /v1/predict is fine...
    assert answer.status_code == 200
    body, content_type = multipart({"text": "hi"})
    answer = client.post("/v1/predict/batch", content=body, headers={"content-type": content_type})
    assert answer.status_code == 415


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/v2/predict").json()["code"] == "not_found"
    assert client.get("/v1/predict").json()["code"] == "method_not_allowed"


# -- busy and slow -----------------------------------------------------------------------
class BlockedRecognizer:
    """Text only; every model call waits for ``gate``."""

    model_name = "blocked"
    modalities = ("text",)

    def __init__(self):
        self.gate = threading.Event()
        self.entered = threading.Event()

    def predict_batch(self, images, texts, audios, detect_faces=None, contributions=False):
        self.entered.set()
        self.gate.wait(20)
        from emozoo.inference.results import Prediction

        return [Prediction({"happy": 1.0}, ["text"], model=self.model_name) for _ in texts]


def test_a_full_queue_answers_503_with_retry_after():
    blocked = BlockedRecognizer()
    limits = Limits(queue_size=1, max_batch=1)
    with TestClient(create_app(blocked, limits=limits)) as test_client:
        answers = []

        def call():
            answers.append(post_form(test_client, {"text": "hello"}))

        first = threading.Thread(target=call)
        first.start()
        assert blocked.entered.wait(10)  # the worker holds the first request
        second = threading.Thread(target=call)
        second.start()
        while test_client.app.state.emozoo.batcher.waiting < 1:
            threading.Event().wait(0.01)
        refused = post_form(test_client, {"text": "hello"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["code"] == "busy"
        blocked.gate.set()
        first.join(10)
        second.join(10)
        assert [a.status_code for a in answers] == [200, 200]
        assert post_form(test_client, {"text": "hello"}).status_code == 200


def test_a_prediction_over_the_timeout_answers_504():
    blocked = BlockedRecognizer()
    with TestClient(create_app(blocked, limits=Limits(request_timeout_s=0.3))) as test_client:
        answer = post_form(test_client, {"text": "hello"})
        assert answer.status_code == 504 and "0.3 s" in answer.json()["detail"]
        blocked.gate.set()
        assert post_form(test_client, {"text": "hello"}).status_code == 200


# -- token, CORS, docs, log --------------------------------------------------------------
def test_a_bearer_token_guards_the_api_only(rec):
    with TestClient(create_app(rec, token="s3cret")) as test_client:
        missing = test_client.get("/v1/models")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith(
            "Bearer"
        )
        wrong = test_client.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "wrong" in wrong.json()["detail"]
        right = test_client.get("/v1/models", headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/").status_code == 200


def test_cors_is_off_unless_an_origin_is_allowed(rec, client):
    origin = {"Origin": "https://example.org"}
    assert "access-control-allow-origin" not in client.get("/v1/models", headers=origin).headers
    with TestClient(create_app(rec, cors_origins=["https://example.org"])) as test_client:
        preflight = test_client.options(
            "/v1/predict",
            headers={**origin, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://example.org"
        other = test_client.get("/v1/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_the_openapi_document_is_valid(client):
    jsonschema = pytest.importorskip("jsonschema")
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/v1/predict", "/v1/predict/batch", "/v1/models", "/healthz", "/readyz"} <= set(
        document["paths"]
    )
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    predict = document["paths"]["/v1/predict"]["post"]
    form = predict["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["image"]["format"] == "binary" and {"audio", "text"} <= set(form)
    assert {"413", "415", "422"} <= set(predict["responses"])


def test_page_and_docs_load_nothing_from_elsewhere(client):
    from emozoo.serving.app import STATIC

    for path in ("/", "/docs"):
        page = client.get(path)
        assert (
            page.status_code == 200
            and "default-src 'self'" in page.headers["content-security-policy"]
        )
    for file in STATIC.iterdir():
        text = file.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, file
        assert client.get(f"/static/{file.name}").status_code == 200


def test_the_access_log_holds_no_content(client, files, caplog):
    secret = "my-very-private-sentence"
    with caplog.at_level(logging.INFO, logger="emozoo.serve.access"):
        answer = post_form(
            client, {"text": secret, "image": files["photo"]}, headers={"X-Request-ID": "abc-123"}
        )
        refused = post_form(client, {"imagery": "x"})
    assert answer.headers["x-request-id"] == "abc-123"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "emozoo.serve.access"]
    ok = next(line for line in lines if line["request_id"] == "abc-123")
    assert ok["method"] == "POST" and ok["path"] == "/v1/predict" and ok["status"] == 200
    assert ok["bytes_in"] > len(files["photo"]) and ok["bytes_out"] == len(answer.content)
    assert ok["latency_ms"] > 0
    bad = next(line for line in lines if line["request_id"] == refused.headers["x-request-id"])
    assert bad["status"] == 400
    assert all(secret not in r.getMessage() for r in caplog.records)
