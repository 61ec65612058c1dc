"""Training on several devices or machines with `tf.distribute` (`--strategy`, `--cpu-devices`).

Strategies: `one` is TensorFlow's default strategy (one device: the first GPU, else the CPU);
`mirrored` is `MirroredStrategy` over the local GPUs, or over `--cpu-devices N` logical CPU devices
when there is no GPU; `multiworker` is `MultiWorkerMirroredStrategy` across the machines named in
`TF_CONFIG` (each worker uses its local GPUs, or one CPU device); `auto` is `multiworker` when
`TF_CONFIG` is set, else `mirrored` when there are several GPUs or `--cpu-devices` > 1, else `one`.

Conventions shared by the training loops that use it:
- `--batch-size` is the global batch: each of the R replicas takes batch/R crops of every step, and
  step s is made of the same crops whatever R (`distribute_batches`), so `--resume` may change R.
- A replica's loss is its share of the global mean: gradients are scaled by 1/R before the
  optimizer's all-reduce (a Keras 3 optimizer built in the strategy's scope sums the replicas'
  gradients when `apply` is called inside `strategy.run`).
- Batch norms normalize by the statistics of the global batch (`sync_batch_norm`: Keras'
  `synchronized=True`, an all-reduce of the moments) when there are several replicas, so the net
  trained on R devices is the function trained on one device with the same global batch.
- Only the chief (`Distribution.is_chief`) writes files; the others train and print progress. The
  chief's restored state is copied to every worker (`broadcast_from_chief`), and a time budget runs
  on the chief's clock (`chief_value`).
- A worker that dies makes the others stop with a one-line `UserError` (`cluster_errors`):
  TensorFlow aborts their collectives when a peer refuses connections or, through its coordination
  service, stops sending heartbeats (measured here: a killed local worker is noticed in ~5 s, a
  frozen one in ~9 s). A worker waits at most `MOBILESTYLE_CLUSTER_WAIT` seconds (default 600) for
  the others to come up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Iterator

import tensorflow as tf

from mobilestyle.errors import UserError

STRATEGIES = ("auto", "one", "mirrored", "multiworker")
# How long a worker waits for the whole cluster to come up before giving up, in seconds.
CLUSTER_WAIT_ENV = "MOBILESTYLE_CLUSTER_WAIT"
CLUSTER_WAIT_SECONDS = 600
CLUSTER_ERRORS = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.DeadlineExceededError,
                  tf.errors.AbortedError, tf.errors.FailedPreconditionError, tf.errors.InternalError)


@dataclass(frozen=True)
class Distribution:
    """The chosen strategy and what the training loops need to know about it."""

    strategy: tf.distribute.Strategy
    kind: str
    workers: int = 1
    task: str = ""

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    @property
    def is_chief(self) -> bool:
        return bool(self.strategy.extended.should_checkpoint)

    def describe(self) -> str:
        if self.kind == "one":
            return "one device"
        devices = f"{self.replicas} replica{'s' if self.replicas > 1 else ''}"
        if self.kind == "multiworker":
            return f"{devices} on {self.workers} workers (this is {self.task}{', the chief' if self.is_chief else ''})"
        return f"{devices} ({', '.join(self.strategy.extended.worker_devices)})"


def configure_cpu_devices(count: int) -> None:
    """Split the CPU into `count` logical devices (before TensorFlow has started its runtime)."""
    if count < 1:
        raise UserError(f"--cpu-devices must be at least 1, got {count}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if count == len(current or [None]):
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise UserError(f"--cpu-devices {count}: TensorFlow has already started with "
                        f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s) in this process") from None


def read_tf_config() -> dict | None:
    """TF_CONFIG as a dict (None when unset); a UserError when it is not a usable cluster description."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        jobs = {name: list(addresses) for name, addresses in cluster.items()}
        task_type, index = task["type"], int(task["index"])
        assert task_type in jobs and 0 <= index < len(jobs[task_type])
    except (ValueError, KeyError, TypeError, AssertionError):
        raise UserError('TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:port", "host2:port"]}, '
                        '"task": {"type": "worker", "index": 0}}') from None
    return config


def choose(name: str, cpu_devices: int, gpus: int, tf_config: dict | None) -> str:
    """The strategy kind `name` means here (see the module docstring); a UserError for impossible choices."""
    if name not in STRATEGIES:
        raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "auto":
        name = "multiworker" if tf_config else "mirrored" if gpus > 1 or cpu_devices > 1 else "one"
    if name == "multiworker":
        if tf_config is None:
            raise UserError("--strategy multiworker needs TF_CONFIG (the cluster's addresses and this worker's "
                            "place in it; see the README)")
        if cpu_devices > 1:
            raise UserError("--cpu-devices goes with --strategy mirrored; each worker of --strategy multiworker "
                            "uses its GPUs or one CPU device")
    if name == "one" and cpu_devices > 1:
        raise UserError(f"--cpu-devices {cpu_devices} asks for several devices, but --strategy one trains on one")
    return name


def make_distribution(name: str = "auto", cpu_devices: int = 1) -> Distribution:
    """Build the strategy; call it before anything else touches TensorFlow's devices."""
    tf_config = read_tf_config() if name in ("auto", "multiworker") else None
    gpus = len(tf.config.list_physical_devices("GPU"))
    kind = choose(name, cpu_devices, gpus, tf_config)
    if cpu_devices > 1:
        configure_cpu_devices(cpu_devices)
    if kind == "one":
        return Distribution(tf.distribute.get_strategy(), kind)
    if kind == "mirrored":
        devices = None if gpus else [device.name for device in tf.config.list_logical_devices("CPU")]
        return Distribution(tf.distribute.MirroredStrategy(devices), kind)
    return _multiworker(tf_config)


def _multiworker(tf_config: dict) -> Distribution:
    task = f"{tf_config['task']['type']} {tf_config['task']['index']}"
    workers = sum(len(addresses) for addresses in tf_config["cluster"].values())
    wait = int(os.environ.get(CLUSTER_WAIT_ENV, CLUSTER_WAIT_SECONDS))
    message = (f"{task}: the cluster in TF_CONFIG did not come up within {wait} s; start every worker (or raise "
               f"{CLUSTER_WAIT_ENV})")
    try:
        strategy = _within(wait, message, tf.distribute.MultiWorkerMirroredStrategy)
    except tf.errors.OpError as exc:
        raise UserError(f"{task}: cannot join the cluster in TF_CONFIG: {first_line(exc.message)}") from None
    return Distribution(strategy, "multiworker", workers, task)


# Run by `_within` in a small process of its own: kill the parent unless stdin closes within the time.
WATCHER = """import os, select, signal, sys
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if not select.select([sys.stdin], [], [], seconds)[0]:
    sys.stderr.write("error: " + message + "\\n")
    sys.stderr.flush()
    os.kill(parent, signal.SIGKILL)
"""


def _within(seconds: float, message: str, make: Callable):
    """`make()`, or the one-line error `message` and the end of this process when it takes over `seconds`.

    Joining a cluster blocks inside TensorFlow, holding Python's lock, until every worker is up:
    neither Ctrl-C, SIGTERM (TensorFlow's preemption handler takes it) nor a Python thread can end
    the wait, so a watcher process does.
    """
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(os.getpid()), str(seconds), message],
                               stdin=subprocess.PIPE)
    try:
        return make()
    finally:
        watcher.stdin.close()
        watcher.wait()


def first_line(text: str) -> str:
    """The first line of a TensorFlow error message, without its `{{function_node ...}}` prefix."""
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", text or "").strip()
    return text.splitlines()[0] if text else "no details"


def per_replica_batch(global_batch: int, replicas: int) -> int:
    if global_batch % replicas:
        raise UserError(f"--batch-size {global_batch} is the global batch and must be a multiple of the "
                        f"{replicas} replicas (or train on one device: --strategy one)")
    return global_batch // replicas


def distribute_batches(distribution: Distribution, make_batches: Callable[[int, int], tf.data.Dataset],
                       global_batch: int, start_step: int) -> Iterator:
    """An iterator of per-replica batches; `make_batches(size, first)` gives batches first, first+1, ... of `size`.

    Per-replica batch k (= step * R + replica) holds the crops k*size .. k*size + size - 1, so step s
    covers the same crops as a one-device batch of `global_batch` (crops s*B .. s*B + B - 1). Each
    worker keeps its own replicas' batches of every step.
    """
    replicas = distribution.replicas
    size = per_replica_batch(global_batch, replicas)

    def dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = replicas // context.num_input_pipelines
        batches = worker_share(make_batches(size, start_step * replicas), replicas,
                               context.input_pipeline_id * local, local)
        # Endless (it is, in practice): a finite dataset makes every step of a multi-worker run ask all
        # workers in an extra eager all-reduce whether they still have data.
        return batches.repeat()

    return iter(distribution.strategy.distribute_datasets_from_function(dataset))


def worker_share(batches: tf.data.Dataset, replicas: int, first: int, count: int) -> tf.data.Dataset:
    """Of every `replicas` consecutive batches (one step), the `count` from index `first` (one worker's replicas).

    Batches may be tensors or tuples of tensors (a content crop and its teacher's crop).
    """
    if count == replicas:
        return batches

    def keep(*group):
        kept = tuple(part[first:first + count] for part in group)
        return kept if len(kept) > 1 else kept[0]

    return batches.batch(replicas, drop_remainder=True).map(keep).unbatch()


def chief_value(distribution: Distribution) -> Callable[[float], float]:
    """A function giving the chief's `value` on every worker (an elapsed time, so that with a time budget
    all workers take the same learning rate and stop at the same step); the identity on one worker."""
    if distribution.workers == 1:
        return lambda value: value
    strategy = distribution.strategy

    @tf.function
    def chiefs(value):
        def replica(mine):
            context = tf.distribute.get_replica_context()
            share = tf.where(tf.equal(context.replica_id_in_sync_group, 0), mine, tf.zeros_like(mine))
            return context.all_reduce(tf.distribute.ReduceOp.SUM, share)
        return strategy.experimental_local_results(strategy.run(replica, args=(value,)))[0]

    return lambda value: float(chiefs(tf.constant(value, tf.float64)))


def sync_batch_norm(model, distribution: Distribution) -> int:
    """With several replicas, make the model's batch norms use the global batch's statistics; returns how many."""
    import keras

    if distribution.replicas == 1:
        return 0
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in layers:
        layer.synchronized = True
    return len(layers)


def broadcast_from_chief(distribution: Distribution, variables: list) -> None:
    """Give every worker the chief's values of `variables` (after the chief restored a saved state)."""
    if distribution.workers == 1:
        return
    strategy = distribution.strategy
    import keras

    tf_variables = [variable.value if isinstance(variable, keras.Variable) else variable for variable in variables]

    @tf.function
    def chief_values():
        def replica():
            context = tf.distribute.get_replica_context()
            mine = tf.cast(tf.equal(context.replica_id_in_sync_group, 0), tf.float64)
            shares = [tf.cast(variable, tf.float64) * mine for variable in tf_variables]
            return context.all_reduce(tf.distribute.ReduceOp.SUM, shares)
        return strategy.run(replica)

    values = chief_values()
    for variable, value in zip(tf_variables, values):
        local = strategy.experimental_local_results(value)[0]
        variable.assign(tf.cast(local, variable.dtype))


def chief_number(distribution: Distribution, value: float) -> float:
    """The chief's `value` on every worker (the step it resumes at)."""
    return chief_value(distribution)(value)


@contextlib.contextmanager
def cluster_errors(distribution: Distribution, where: Callable[[], str]) -> Iterator[None]:
    """Turn the error a lost worker causes into a one-line UserError; `where()` says how far the run got."""
    if distribution.workers == 1:
        yield
        return
    try:
        yield
    except CLUSTER_ERRORS as exc:
        raise UserError(f"{distribution.task}: the cluster lost a worker ({first_line(exc.message)}); the run "
                        f"stopped {where()}") from None


def stopped_at(chief: bool, step: int, saved_step: int | None) -> str:
    """Where a failed cluster left a training run, and how to go on (the end of its one-line error)."""
    if not chief:
        return f"at step {step}; the chief keeps the saved state"
    if saved_step is None:
        return f"at step {step}, before any state was saved: start every worker again"
    return f"at step {step}; the state of step {saved_step} is saved: start every worker again with --resume"
