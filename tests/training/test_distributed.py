"""Data-parallel training for real, in separate processes: two logical CPUs under
MirroredStrategy, two workers under MultiWorkerMirroredStrategy, JAX DataParallel over
two host devices, and a killed run that resumes from its last checkpoint.

Each test runs ``tests/training/worker.py`` (a tiny face model on synthetic data).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emozoo.paths import PROJECT_ROOT

pytestmark = pytest.mark.distributed
TIMEOUT = 300


def _env(**extra) -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _worker(out: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / f"log-{len(list(out.glob('log-*')))}.txt", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "tests.training.worker", str(out), *args],
        cwd=PROJECT_ROOT,
        env=env or _env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _finish(process: subprocess.Popen, out: Path) -> None:
    try:
        code = process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    if code != 0:
        logs = "\n".join(p.read_text()[-3000:] for p in sorted(out.glob("log-*.txt")))
        pytest.fail(f"worker exited with {code}:\n{logs}")


def _result(out: Path, worker: int = 0) -> dict:
    return json.loads((out / f"result-{worker}.json").read_text())


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    process = _worker(tmp_path, "--strategy", "mirrored", "--cpu-replicas", "2", "--epochs", "2")
    _finish(process, tmp_path)
    result = _result(tmp_path)
    assert result["summary"]["replicas"] == 2
    assert result["summary"]["strategy"] == "mirrored: 2 replicas"
    assert result["iterations"] == 2 * 4  # global batches: 64 samples / 16 per step
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]


def test_two_workers_train_together_and_end_with_identical_weights(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    processes = [
        _worker(
            tmp_path,
            "--strategy",
            "multi_worker",
            "--epochs",
            "2",
            env=_env(
                TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            ),
        )
        for i in range(2)
    ]
    for process in processes:
        _finish(process, tmp_path)
    results = [_result(tmp_path, i) for i in range(2)]
    assert [r["is_chief"] for r in results] == [True, False]
    for result in results:
        assert result["summary"]["replicas"] == 2
        assert "2 workers" in result["summary"]["strategy"]
        assert result["iterations"] == 2 * 4
    # Identical training; only each worker's own wall time per epoch differs.
    histories = [{k: v for k, v in r["history"].items() if k != "epoch_seconds"} for r in results]
    assert histories[0] == histories[1]
    first, second = (np.load(tmp_path / f"weights-{i}.npz") for i in range(2))
    assert len(first.files) == len(second.files) > 10
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    # Only the chief keeps checkpoints and logs.
    assert json.loads((tmp_path / "run" / "checkpoints" / "state.json").read_text())["epoch"] == 2
    assert (tmp_path / "run" / "training_curves.png").is_file()


def test_jax_data_parallel_over_two_host_devices(tmp_path):
    env = _env(KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    # 61 samples: the last batch (13) is trimmed to an even 12 for the two devices.
    process = _worker(
        tmp_path, "--strategy", "data_parallel", "--epochs", "2", "--samples", "61", env=env
    )
    _finish(process, tmp_path)
    result = _result(tmp_path)
    assert result["backend"] == "jax"
    assert result["summary"]["strategy"] == "data_parallel: 2 replicas"
    assert result["iterations"] == 2 * 4
    assert result["history"]["loss"][-1] < result["history"]["loss"][0]


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    state_file = tmp_path / "run" / "checkpoints" / "state.json"
    process = _worker(tmp_path, "--epochs", "3", "--slow", "2")
    deadline = time.time() + TIMEOUT
    done = 0
    while time.time() < deadline and process.poll() is None:
        if state_file.is_file():
            done = json.loads(state_file.read_text())["epoch"]
            if done >= 1:
                process.send_signal(signal.SIGKILL)
                break
        time.sleep(0.1)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the worker finished before it was killed"
    killed_at = json.loads(state_file.read_text())["epoch"]
    assert 1 <= done <= killed_at < 3
    assert not (tmp_path / "result-0.json").exists()

    _finish(_worker(tmp_path, "--epochs", "3"), tmp_path)
    result = _result(tmp_path)
    assert result["summary"]["resumed_from_epoch"] == killed_at
    assert result["summary"]["epochs"] == 3
    assert all(len(values) == 3 for values in result["history"].values())
    assert result["iterations"] == 3 * 4  # optimizer steps carried over the restart
    assert len((tmp_path / "run" / "history.csv").read_text().splitlines()) == 1 + 3
