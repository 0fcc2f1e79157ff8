"""Data-parallel training: ``tf.distribute`` on TensorFlow, ``keras.distribution`` on JAX.

Kinds (``strategy=`` of :func:`emozoo.training.fit`):

- ``"none"``: one device.
- ``"mirrored"`` (TensorFlow): ``tf.distribute.MirroredStrategy`` over the local GPUs, or
  over the logical CPUs made by :func:`split_cpu` when there is no GPU.
- ``"multi_worker"`` (TensorFlow): ``tf.distribute.MultiWorkerMirroredStrategy``, the
  cluster read from ``TF_CONFIG``. It must exist before TensorFlow runs any operation:
  call :func:`distribution` first thing in the program (``emozoo train`` does).
- ``"data_parallel"`` (JAX): ``keras.distribution.DataParallel`` over every JAX device
  (several host devices with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``).
- ``"auto"``: ``multi_worker`` when ``TF_CONFIG`` names several workers, else
  ``mirrored`` / ``data_parallel`` when there are several devices, else ``none``.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any

import keras

STRATEGIES: tuple[str, ...] = ("auto", "none", "mirrored", "multi_worker", "data_parallel")

_current: Distribution | None = None


@dataclass
class Distribution:
    """How a training run is spread over devices and processes.

    Attributes:
        kind: one of :data:`STRATEGIES` other than ``"auto"``.
        num_replicas: model replicas that train in step (devices over all workers).
        num_workers: processes taking part (1 unless ``multi_worker``).
        worker_index: this process's index among them.
        is_chief: whether this process writes checkpoints, logs and the result.
        strategy: the ``tf.distribute.Strategy`` or the ``keras.distribution`` object
            (``DataParallel``; ``None`` for ``"none"``).
    """

    kind: str
    num_replicas: int = 1
    num_workers: int = 1
    worker_index: int = 0
    is_chief: bool = True
    strategy: Any = None

    def scope(self) -> contextlib.AbstractContextManager[Any]:
        """Context in which the model's variables must be created and trained."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def describe(self) -> str:
        if self.kind == "none":
            return "one device"
        text = f"{self.kind}: {self.num_replicas} replicas"
        if self.num_workers > 1:
            text += f" on {self.num_workers} workers (this is worker {self.worker_index})"
        return text


def split_cpu(count: int) -> None:
    """Split the CPU into ``count`` logical devices, so ``"mirrored"`` has replicas on CPU.

    TensorFlow only; call it before TensorFlow runs anything (tests, benchmarks and
    ``emozoo train --cpu-replicas N`` do). Every logical CPU still shares the same cores.
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"The number of logical CPUs must be a positive integer, got {count!r}")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "split_cpu() configures TensorFlow devices; on JAX set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={count} before starting Python"
        )
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    configuration = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    try:
        tf.config.set_logical_device_configuration(cpu, configuration)
    except RuntimeError as error:
        current = len(tf.config.list_logical_devices("CPU"))
        if current == count:
            return
        raise RuntimeError(
            f"Cannot split the CPU into {count} devices: TensorFlow is already initialised "
            f"with {current}. Call split_cpu() before anything runs on TensorFlow."
        ) from error


def _tf_config() -> dict:
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from error
    if not isinstance(config, dict) or "cluster" not in config or "task" not in config:
        raise ValueError(
            'TF_CONFIG needs "cluster" and "task", e.g. {"cluster": {"worker": '
            '["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}'
        )
    return config


def _cluster_size(config: dict) -> int:
    return sum(len(v) for k, v in config.get("cluster", {}).items() if k in ("chief", "worker"))


def _patch_reduce(strategy) -> None:
    """Give a ``MultiWorkerMirroredStrategy`` a ``reduce`` that Keras 3's ``fit`` can use.

    Keras 3.15's TensorFlow trainer calls ``strategy.reduce`` on whole (dict) input
    batches and on scalar metrics with ``axis=0``; the collective strategy accepts
    neither (keras-team/keras#20329, #20585). Reducing leaf by leaf, scalars without an
    axis, is what the single-worker strategies do.
    """
    import tensorflow as tf

    if getattr(strategy, "_emozoo_leafwise_reduce", False):
        return
    original = strategy.reduce

    def reduce(reduce_op, value, axis=None):
        def one(item):
            sample = item.values[0] if isinstance(item, tf.distribute.DistributedValues) else item
            leaf_axis = None if axis is not None and sample.shape.rank == 0 else axis
            return original(reduce_op, item, axis=leaf_axis)

        return tf.nest.map_structure(one, value)

    strategy.reduce = reduce
    strategy._emozoo_leafwise_reduce = True


def _make_multi_worker_strategy():
    import tensorflow as tf

    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        if "program startup" not in str(error):
            raise
        raise RuntimeError(
            "MultiWorkerMirroredStrategy must be created before TensorFlow runs anything: "
            "call emozoo.training.distribution('multi_worker') at the start of the program "
            "(before building or loading a model), or train with `emozoo train`."
        ) from error
    _patch_reduce(strategy)
    return strategy


def _tf_distribution(kind: str) -> Distribution:
    import tensorflow as tf

    if kind == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
        return Distribution("mirrored", strategy.num_replicas_in_sync, strategy=strategy)
    config = _tf_config()
    if not config:
        raise ValueError(
            "strategy='multi_worker' reads the cluster from the TF_CONFIG environment variable, "
            "which is not set"
        )
    return _multi_worker(_make_multi_worker_strategy(), config)


def _multi_worker(strategy, config: dict) -> Distribution:
    """Describe a multi-worker strategy: this worker's index, and whether it is the chief
    (the ``chief`` task, or worker 0 of a cluster without one)."""
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    has_chief = "chief" in config.get("cluster", {})
    is_chief = task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)
    index = task_id + (1 if has_chief and task_type == "worker" else 0)
    return Distribution(
        "multi_worker",
        strategy.num_replicas_in_sync,
        num_workers=max(1, _cluster_size(config)),
        worker_index=index,
        is_chief=is_chief,
        strategy=strategy,
    )


def _jax_distribution() -> Distribution:
    devices = keras.distribution.list_devices()
    strategy = keras.distribution.DataParallel(devices=devices)
    return Distribution("data_parallel", len(devices), strategy=strategy)


def _auto_kind() -> str:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        config = _tf_config()
        if config and _cluster_size(config) > 1:
            return "multi_worker"
        import tensorflow as tf

        return "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "none"
    if backend == "jax":
        return "data_parallel" if len(keras.distribution.list_devices()) > 1 else "none"
    return "none"


def distribution(strategy: Any = "auto") -> Distribution:
    """The :class:`Distribution` for ``strategy``: a kind name or a ready strategy object.

    ``strategy`` is one of :data:`STRATEGIES`, a ``tf.distribute.Strategy``, a
    ``keras.distribution`` distribution (``DataParallel``) or a :class:`Distribution`. Strategies made from
    a name are created once per process and reused.

    >>> distribution("none").num_replicas
    1
    """
    global _current
    if isinstance(strategy, Distribution):
        return strategy
    if strategy is None:
        strategy = "none"
    if not isinstance(strategy, str):
        return _wrap(strategy)
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; choose one of {list(STRATEGIES)}")
    kind = _auto_kind() if strategy == "auto" else strategy
    if kind == "none":
        return Distribution("none")
    if _current is not None and _current.kind == kind:
        return _current
    backend = keras.backend.backend()
    if kind in ("mirrored", "multi_worker") and backend != "tensorflow":
        raise ValueError(
            f"strategy={kind!r} needs the TensorFlow backend (this is {backend}); "
            "on JAX use 'data_parallel'"
        )
    if kind == "data_parallel" and backend != "jax":
        raise ValueError(
            f"strategy='data_parallel' needs the JAX backend (this is {backend}); "
            "on TensorFlow use 'mirrored' or 'multi_worker'"
        )
    _current = _tf_distribution(kind) if backend == "tensorflow" else _jax_distribution()
    return _current


def _wrap(strategy: Any) -> Distribution:
    # keras.distribution exports the concrete classes, not their base: duck-type it.
    if hasattr(strategy, "device_mesh") and hasattr(strategy, "distribute_dataset"):
        devices = getattr(getattr(strategy, "device_mesh", None), "devices", None)
        count = int(getattr(devices, "size", 0) or len(keras.distribution.list_devices()))
        return Distribution("data_parallel", count, strategy=strategy)
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.Strategy):
        resolver = getattr(strategy, "cluster_resolver", None)
        if resolver is not None and resolver.task_type is not None:
            _patch_reduce(strategy)
            return _multi_worker(strategy, _tf_config())
        return Distribution("mirrored", strategy.num_replicas_in_sync, strategy=strategy)
    raise TypeError(
        f"strategy must be a name from {list(STRATEGIES)}, a tf.distribute.Strategy or a "
        f"keras.distribution.DataParallel, got {type(strategy).__name__}"
    )
