"""``emozoo serve`` under load: N concurrent clients on localhost against in-process batching.

    python tools/bench_serve.py [--clients 8] [--seconds 15] [--max-requests 3000]
                                [--model cnn_lstm_fusion] [--backend auto] [--workers 1]
                                [--no-compare]

1. In process: ``EmotionRecognizer.predict_batch`` (with contributions, as the server
   answers) on the bundled samples (photo + text + audio, and text + audio), read from
   their files, for ``--seconds``: samples per second. Measured before, between and
   after the served runs; each share is taken against the mean of its two neighbours,
   so that other work on the machine weighs on both sides alike.
2. Served: ``python -m emozoo serve`` in a subprocess; ``--clients`` threads post the
   same samples to ``/v1/predict`` (multipart, keep-alive), each as soon as its last
   answer came, until ``--seconds`` have passed or ``--max-requests`` were sent.
   Requests per second, p50 and p99 latency, errors (goal 0) and the throughput as a
   share of in-process ``predict_batch`` (goal >= 0.7).
3. The same load on a server with the other ``--max-batch`` (1 where the default
   batches, 32 where it does not), to show what micro-batching buys or costs on this
   backend (skip with ``--no-compare``).

Ends with one JSON line that includes ``machine_info()``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "emozoo" / "assets" / "samples"
BOUNDARY = "bench-serve-boundary"


def load_samples() -> list[dict]:
    """The bundled samples: photo, text and audio where the sample has them."""
    listed = json.loads((SAMPLES / "samples.json").read_text(encoding="utf-8"))["samples"]
    return [
        {
            "image": str(SAMPLES / s["image"]) if s["image"] else None,
            "text": s["text"],
            "audio": str(SAMPLES / s["audio"]) if s["audio"] else None,
        }
        for s in listed
    ]


def multipart(sample: dict) -> bytes:
    body = b""
    for name in ("image", "audio"):
        if sample[name]:
            path = Path(sample[name])
            body += (
                (
                    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{path.name}"\r\n\r\n'
                ).encode()
                + path.read_bytes()
                + b"\r\n"
            )
    body += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
        f"{sample['text']}\r\n--{BOUNDARY}--\r\n"
    ).encode()
    return body


class InProcess:
    """In-process ``predict_batch`` (with contributions, as the server answers) on
    ``copies`` of each sample, read from their files."""

    def __init__(self, samples: list[dict], args, copies: int = 8):
        from emozoo import EmotionRecognizer

        self.rec = EmotionRecognizer(args.model, backend=args.backend)
        batch = samples * copies
        self.items = len(batch)
        self.columns = {k: [s[k] for s in batch] for k in ("image", "text", "audio")}
        self.run()  # warm-up: interpreters, detectors, vocabulary

    def run(self) -> None:
        self.rec.predict_batch(
            images=self.columns["image"],
            texts=self.columns["text"],
            audios=self.columns["audio"],
            contributions=True,
        )

    def rate(self, seconds: float) -> float:
        """Samples per second over whole calls, for at least ``seconds``."""
        start, calls = time.perf_counter(), 0
        while calls == 0 or time.perf_counter() - start < seconds:
            self.run()
            calls += 1
        return calls * self.items / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(args, max_batch: int | None, queue_size: int):
    port = free_port()
    command = [sys.executable, "-m", "emozoo", "serve", "--model", args.model]
    command += ["--backend", args.backend, "--port", str(port), "--workers", str(args.workers)]
    command += ["--queue-size", str(queue_size)]
    if max_batch is not None:
        command += ["--max-batch", str(max_batch)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emozoo serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("emozoo serve did not get ready in 120 s")


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return json.loads(answer.read())


def load(port: int, bodies: list[bytes], clients: int, seconds: float, max_requests: int) -> dict:
    """``clients`` threads posting ``bodies`` in turn until time or count runs out."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    start = time.perf_counter()
    stop_at = start + seconds
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = offset
        while time.perf_counter() < stop_at:
            with lock:
                if sent[0] >= max_requests:
                    return
                sent[0] += 1
            body = bodies[i % len(bodies)]
            i += 1
            began = time.perf_counter()
            try:
                connection.request("POST", "/v1/predict", body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
                ok = answer.status == 200 and json.loads(payload)["top"] is not None
                problem = None if ok else f"{answer.status}: {payload[:120]!r}"
            except (OSError, http.client.HTTPException, ValueError) as error:
                problem = f"{type(error).__name__}: {error}"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = time.perf_counter() - began
            with lock:
                if problem is None:
                    latencies.append(took)
                else:
                    errors.append(problem)
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    return {
        "requests": len(latencies) + len(errors),
        "ok": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:3],
        "seconds": round(elapsed, 2),
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": round(1000 * statistics.median(ordered), 1) if ordered else None,
        "p99_ms": round(percentile(0.99), 1),
    }


def served(args, bodies: list[bytes], max_batch: int | None) -> dict:
    """Figures of one server under the clients' load (``max_batch`` None: its default)."""
    process, port = start_server(args, max_batch, max(64, 2 * args.clients))
    try:
        load(port, bodies, args.clients, min(3.0, args.seconds), 10 * args.clients)  # warm-up
        before = get(port, "/readyz")
        figures = load(port, bodies, args.clients, args.seconds, args.max_requests)
        after = get(port, "/readyz")
        batches = after["batches"] - before["batches"]
        figures["mean_batch"] = round((after["samples"] - before["samples"]) / max(1, batches), 2)
        figures["max_batch"] = get(port, "/v1/models")["limits"]["max_batch"]
        return figures
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--model", default="cnn_lstm_fusion")
    parser.add_argument("--backend", default="auto", choices=("auto", "keras", "lite"))
    parser.add_argument("--workers", type=int, default=1, help="server threads running the model")
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the run with the other --max-batch"
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from emozoo.evaluation.machine import machine_info

    samples = load_samples()
    bodies = [multipart(s) for s in samples]
    # In-process runs before, between and after the served ones: other work on the
    # machine changes both alike, and each share is taken against its neighbours.
    baseline = InProcess(samples, args)
    rates = [baseline.rate(args.seconds)]
    print(f"in process: predict_batch of {baseline.items} samples: {rates[-1]:.2f} samples/s")
    runs = {"default": served(args, bodies, max_batch=None)}
    rates.append(baseline.rate(args.seconds))
    print(f"in process: {rates[-1]:.2f} samples/s")
    if not args.no_compare:
        other = 1 if runs["default"]["max_batch"] > 1 else 32
        runs[f"max_batch {other}"] = served(args, bodies, max_batch=other)
        rates.append(baseline.rate(args.seconds))
        print(f"in process: {rates[-1]:.2f} samples/s")
    for k, (name, figures) in enumerate(runs.items()):
        reference = (rates[k] + rates[k + 1]) / 2
        figures["in_process_items_per_s"] = reference
        figures["share_of_in_process"] = figures["requests_per_s"] / reference
        print(
            f"served ({name}: max_batch {figures['max_batch']}, {args.clients} clients, "
            f"{figures['seconds']} s): "
            f"{figures['requests_per_s']:.2f} requests/s, p50 {figures['p50_ms']} ms, "
            f"p99 {figures['p99_ms']} ms, errors {figures['errors']}/{figures['requests']}, "
            f"mean batch {figures['mean_batch']}, "
            f"{figures['share_of_in_process']:.2f} of in-process predict_batch "
            f"({reference:.2f} samples/s around it)"
        )
        for example in figures["error_examples"]:
            print(f"  error: {example}")
    main_run = runs["default"]
    compared = {
        name: {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}
        for name, figures in runs.items()
        if name != "default"
    }
    for figures in compared.values():
        figures.pop("error_examples")
    print(
        json.dumps(
            {
                "bench": "serve",
                "model": args.model,
                "backend": args.backend,
                "clients": args.clients,
                "seconds": args.seconds,
                "workers": args.workers,
                "in_process_items_per_s": round(main_run["in_process_items_per_s"], 2),
                "in_process_runs": [round(r, 2) for r in rates],
                "requests": main_run["requests"],
                "requests_per_s": round(main_run["requests_per_s"], 2),
                "p50_ms": main_run["p50_ms"],
                "p99_ms": main_run["p99_ms"],
                "errors": main_run["errors"],
                "max_batch": main_run["max_batch"],
                "mean_batch": main_run["mean_batch"],
                "share_of_in_process": round(main_run["share_of_in_process"], 3),
                "goal_share": 0.7,
                "compared": compared,
                "machine": machine_info(),
            }
        )
    )
    return 0 if main_run["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
