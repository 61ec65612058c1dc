"""Training on several devices and machines (tf.distribute), checked on this CPU.

Runs that need other devices happen in fresh processes: two logical CPU devices (`--cpu-devices 2`)
must be set before TensorFlow starts, and a two-worker cluster is two local processes with
TF_CONFIG on 127.0.0.1 ports. Each is compared with a one-device run in this process, same global
batch (4 crops), 4 steps of `train` (3 of `distill`):
- the loss of every step (distill: the last) within 1e-4 relative (measured: 1.4e-5 at most);
- every weight (batch-norm moving statistics included) within 1e-3 relative or lr/2 absolute: Adam
  turns the float rounding of a near-zero gradient into a step of up to +-lr, which is the whole
  difference seen here (one beta moved 1.5e-4 = 0.15 lr; the other weights agree to ~1e-5);
- Adam's moments within 1e-3 relative or a fraction of the largest moment of the net (first and
  second moments apart; conv biases before a norm have zero gradients, so theirs are rounding
  noise): unlike the weights they scale with the gradient, so they catch a wrong loss scaling. The
  fraction is 1e-3 with instance norm (the two-worker cluster). With batch norm (the two logical
  devices) it is 1e-2: synchronized batch norm computes the variance as E[x^2] - E[x]^2, the
  one-device net in two passes, and that alone moves conv1's first moments by up to 1.3% of their
  largest value after 4 steps on one device (two devices vs one measured 0.14%).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from mobilestyle.cli import main
from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.training import distribute
from mobilestyle.training import distill as distill_module
from mobilestyle.training.crops import crop_batches
from mobilestyle.training.perceptual import TrainConfig, train, work_dir
from tests.training.synthetic import write_painting, write_photos, write_vgg_npz

STEPS, BATCH, LR = 4, 4, 1e-3
ARCH = "blocks=1,widths=4/8/8"  # batch norm
INSTANCE_ARCH = f"{ARCH},norm=instance"
PROCESS_SECONDS = 90  # one training process at most (TensorFlow's import alone takes 4-12 s here)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return {"photos": write_photos(folder / "photos"), "painting": write_painting(folder / "painting.png"),
            "vgg": write_vgg_npz(folder / "vgg.npz")}


def config(inputs, out, **overrides) -> TrainConfig:
    values = dict(style_image=inputs["painting"], content_dir=inputs["photos"], out=out, arch=ArchSpec.parse(ARCH),
                  vgg_weights=inputs["vgg"], steps=STEPS, batch_size=BATCH, crop_size=32, style_size=64, lr=LR,
                  jit_compile=False, strategy="one")
    values.update(overrides)
    return TrainConfig(**values)


def cli_args(inputs, out, *extra, arch=ARCH) -> list[str]:
    return [sys.executable, "-m", "mobilestyle", "train", "--style-image", str(inputs["painting"]), "--content-dir",
            str(inputs["photos"]), "--vgg-weights", str(inputs["vgg"]), "--arch", arch, "--steps", str(STEPS),
            "--batch-size", str(BATCH), "--crop-size", "32", "--style-size", "64", "--lr", str(LR), "--no-xla",
            "--out", str(out), *map(str, extra)]


class Processes:
    """Training processes started by a test; whatever is still running at the end is killed."""

    def __init__(self, folder):
        self.folder, self.running = folder, []

    def start(self, args, name, **env) -> subprocess.Popen:
        environment = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
        environment.update(TF_CPP_MIN_LOG_LEVEL="3", **env)
        log = open(self.folder / f"{name}.log", "w")
        process = subprocess.Popen(args, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.name, process.log_path = name, self.folder / f"{name}.log"
        self.running.append(process)
        return process

    def finish(self, process, timeout=PROCESS_SECONDS) -> tuple[int, str]:
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{process.name} still running after {timeout} s (a hang):\n{process.log_path.read_text()[-3000:]}")
        return code, process.log_path.read_text()

    def kill_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.kill_all()


def trained(out, folder=work_dir) -> dict:
    """What a run left: the checkpoint's weights, the losses and Adam's variables from the state."""
    with np.load(folder(out) / "state.npz") as state:
        optimizer = {key: state[key] for key in state.files if key.startswith("optimizer/")}
    report = json.loads((folder(out) / "report.json").read_text())
    losses = [point["loss"] for point in report["curve"]] if folder is work_dir else [report["final_loss"]]
    return {"weights": load_checkpoint(out).weights, "losses": losses, "optimizer": optimizer, "report": report}


def adam_variable_kinds(arch: str) -> list[str]:
    """'momentum', 'velocity' or '' for each of Adam's variables, in the order the state stores them."""
    net = build_transformer_net(ArchSpec.parse(arch))
    net.build((None, None, None, 3))
    optimizer = keras.optimizers.Adam(LR)
    optimizer.build(net.trainable_variables)
    return [next((kind for kind in ("momentum", "velocity") if variable.name.endswith(kind)), "")
            for variable in optimizer.variables]


def assert_same_training(run, reference, arch: str, moments_fraction: float) -> None:
    np.testing.assert_allclose(run["losses"], reference["losses"], rtol=1e-4)
    assert run["weights"].keys() == reference["weights"].keys()
    for key, value in reference["weights"].items():
        np.testing.assert_allclose(run["weights"][key], value, rtol=1e-3, atol=LR / 2, err_msg=key)
    assert run["optimizer"].keys() == reference["optimizer"].keys()
    kinds = adam_variable_kinds(arch)
    assert len(kinds) == len(reference["optimizer"]) and kinds.count("momentum") == kinds.count("velocity") > 0
    largest = {kind: max(np.abs(reference["optimizer"][f"optimizer/{index}"]).max()
                         for index, other in enumerate(kinds) if other == kind) for kind in set(kinds)}
    for index, kind in enumerate(kinds):
        key = f"optimizer/{index}"
        np.testing.assert_allclose(run["optimizer"][key], reference["optimizer"][key], rtol=1e-3,
                                   atol=moments_fraction * largest[kind], err_msg=f"{key} ({kind or 'scalar'})")
    losses = np.abs(np.array(run["losses"]) / np.array(reference["losses"]) - 1).max()
    weights = max((np.abs(run["weights"][key] - value) / np.maximum(1e-3 * np.abs(value), LR / 2)).max()
                  for key, value in reference["weights"].items())
    moments = {kind: max(np.abs(run["optimizer"][f"optimizer/{index}"] - reference["optimizer"][f"optimizer/{index}"]
                                ).max() / largest[kind] for index, other in enumerate(kinds) if other == kind)
               for kind in ("momentum", "velocity")}
    print(f"measured: losses {losses:.1e} relative, weights {weights:.2f} of their tolerance, moments "
          f"{moments['momentum']:.1e} / {moments['velocity']:.1e} of the largest")


@pytest.fixture(scope="module")
def one_device(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "style.npz"
    train(config(inputs, out))
    return trained(out)


@pytest.fixture(scope="module")
def one_device_instance_norm(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("one_instance") / "style.npz"
    train(config(inputs, out, arch=ArchSpec.parse(INSTANCE_ARCH)))
    return trained(out)


def test_two_logical_cpu_devices_train_like_one_device_and_resume_across_device_counts(
        inputs, one_device, processes, tmp_path):
    two_out, resumed_out = tmp_path / "two.npz", tmp_path / "resumed.npz"
    two = processes.start(cli_args(inputs, two_out, "--strategy", "mirrored", "--cpu-devices", 2), "two")
    train(config(inputs, resumed_out, steps=2))  # meanwhile: 2 steps on one device, resumed on two devices
    resumed = processes.start(cli_args(inputs, resumed_out, "--resume", "--strategy", "auto"), "resumed",
                              MOBILESTYLE_CPU_DEVICES="2")
    for process in (two, resumed):
        code, log = processes.finish(process)
        assert code == 0, log[-3000:]
    run = trained(two_out)
    assert (run["report"]["strategy"], run["report"]["replicas"], run["report"]["global_batch"]) == ("mirrored", 2, 4)
    assert run["report"]["images_per_second"] > 0
    assert_same_training(run, one_device, ARCH, moments_fraction=1e-2)

    run = trained(resumed_out)
    assert (run["report"]["replicas"], run["report"]["steps_this_run"]) == (2, 2)
    assert_same_training(run, one_device, ARCH, moments_fraction=1e-2)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_cluster(processes, inputs, tmp_path, *extra) -> list[subprocess.Popen]:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    return [processes.start(cli_args(inputs, tmp_path / f"worker{index}" / "style.npz", "--strategy", "multiworker",
                                     *extra, arch=INSTANCE_ARCH), f"worker{index}",
                            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
            for index in range(2)]


def test_a_two_worker_cluster_trains_like_one_device_and_only_the_chief_writes(
        inputs, one_device_instance_norm, processes, tmp_path):
    chief, worker = start_cluster(processes, inputs, tmp_path)
    for process in (chief, worker):
        code, log = processes.finish(process)
        assert code == 0, log[-3000:]
    chief_out = tmp_path / "worker0" / "style.npz"
    run = trained(chief_out)
    assert (run["report"]["strategy"], run["report"]["workers"], run["report"]["replicas"]) == ("multiworker", 2, 2)
    assert_same_training(run, one_device_instance_norm, INSTANCE_ARCH, moments_fraction=1e-3)
    assert sorted(path.name for path in chief_out.parent.iterdir()) == ["style.npz", "style.train"]
    assert not (tmp_path / "worker1").exists()


def test_a_killed_worker_ends_the_run_with_a_one_line_error(inputs, processes, tmp_path):
    chief, worker = start_cluster(processes, inputs, tmp_path, "--steps", 100000, "--checkpoint-every", 0)
    state = tmp_path / "worker0" / "style.train" / "state.npz"
    deadline = time.monotonic() + PROCESS_SECONDS
    while not state.exists() and chief.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state.exists(), chief.log_path.read_text()[-3000:]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    killed = time.monotonic()
    code, log = processes.finish(chief, timeout=60)
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, log[-3000:]
    assert "worker 0: the cluster lost a worker" in errors[0] and "--resume" in errors[0]
    assert "Traceback" not in log
    print(f"the chief stopped {time.monotonic() - killed:.1f} s after the worker was killed")


def test_a_worker_whose_cluster_never_comes_up_stops_with_a_one_line_error(inputs, processes, tmp_path):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    lone = processes.start(cli_args(inputs, tmp_path / "lone.npz", "--strategy", "auto"), "lone",
                           TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}),
                           MOBILESTYLE_CLUSTER_WAIT="3")
    code, log = processes.finish(lone, timeout=60)
    assert code != 0
    assert [line for line in log.splitlines() if line.startswith("error:")] == [
        "error: worker 0: the cluster in TF_CONFIG did not come up within 3 s; start every worker (or raise "
        "MOBILESTYLE_CLUSTER_WAIT)"]
    assert not (tmp_path / "lone.npz").exists() and not work_dir(tmp_path / "lone.npz").exists()


@pytest.mark.parametrize("name, cpu_devices, gpus, tf_config, expected", [
    ("auto", 1, 0, None, "one"),
    ("auto", 2, 0, None, "mirrored"),
    ("auto", 1, 2, None, "mirrored"),
    ("auto", 1, 0, {"cluster": {}}, "multiworker"),
    ("one", 1, 4, None, "one"),
    ("mirrored", 1, 0, None, "mirrored"),
])
def test_choose_picks_the_strategy(name, cpu_devices, gpus, tf_config, expected):
    assert distribute.choose(name, cpu_devices, gpus, tf_config) == expected


@pytest.mark.parametrize("name, cpu_devices, tf_config, message", [
    ("ring", 1, None, "--strategy must be one of auto, one, mirrored, multiworker"),
    ("multiworker", 1, None, "needs TF_CONFIG"),
    ("multiworker", 2, {"cluster": {}}, "--cpu-devices goes with --strategy mirrored"),
    ("one", 2, None, "--strategy one trains on one"),
])
def test_choose_rejects_impossible_combinations(name, cpu_devices, tf_config, message):
    with pytest.raises(UserError, match=message):
        distribute.choose(name, cpu_devices, 0, tf_config)


def test_tf_config_must_describe_a_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.read_tf_config() is None
    for text in ("{not json", '{"cluster": {"worker": ["a:1"]}}', '{"cluster": {"worker": ["a:1"]}, '
                                                                   '"task": {"type": "worker", "index": 1}}'):
        monkeypatch.setenv("TF_CONFIG", text)
        with pytest.raises(UserError, match="TF_CONFIG must be JSON like"):
            distribute.read_tf_config()
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}')
    assert distribute.read_tf_config()["task"]["index"] == 1


def test_the_global_batch_must_split_evenly():
    assert distribute.per_replica_batch(8, 4) == 2
    with pytest.raises(UserError, match="--batch-size 6 is the global batch and must be a multiple of the 4 replicas"):
        distribute.per_replica_batch(6, 4)


def test_one_device_sees_the_batches_of_the_plain_crop_pipeline():
    images = np.random.default_rng(0).integers(0, 256, (3, 40, 40, 3), dtype=np.uint8)
    one = distribute.make_distribution("one")
    batches = distribute.distribute_batches(one, lambda size, first: crop_batches(images, 32, size, 5, first), 2, 3)
    plain = iter(crop_batches(images, 32, 2, 5, 3))
    for _ in range(3):
        np.testing.assert_array_equal(next(batches).numpy(), next(plain).numpy())


def test_each_worker_keeps_its_replicas_batches_of_every_step():
    """4 replicas on 2 workers: per-replica batch k belongs to step k // 4, replica k % 4."""
    import tensorflow as tf

    steps = tf.data.Dataset.range(12)
    pairs = steps.map(lambda k: (k, -k))
    assert list(distribute.worker_share(steps, 4, 2, 2).as_numpy_iterator()) == [2, 3, 6, 7, 10, 11]
    assert [tuple(map(int, pair)) for pair in distribute.worker_share(pairs, 4, 0, 2).as_numpy_iterator()] == [
        (0, 0), (1, -1), (4, -4), (5, -5), (8, -8), (9, -9)]
    assert distribute.worker_share(steps, 4, 0, 4) is steps


@pytest.mark.parametrize("args, message", [
    (["--strategy", "multiworker"], "--strategy multiworker needs TF_CONFIG"),
    (["--strategy", "ring"], "--strategy must be one of"),
    (["--strategy", "one", "--cpu-devices", "2"], "--strategy one trains on one"),
])
def test_bad_strategy_options_are_one_line_errors_that_write_nothing(monkeypatch, capsys, inputs, tmp_path, args,
                                                                     message):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "style.npz"
    monkeypatch.setattr(sys, "argv", cli_args(inputs, out, *args)[2:])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error:") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not work_dir(out).exists()


DISTILL_TEACHER = ArchSpec(blocks=1, widths=(4, 8, 8), norm="instance", upsample="transposed", padding="zero",
                           output="tanh150", out_norm=True, eps=1e-3)
# The perceptual preset (low-pass, VGG feature and Gram losses, batch norms with fixed statistics) plus the
# stability term without its noise (each replica draws noise for its own crops: same distribution, other
# numbers). Batch statistics are left to the train test: here too synchronized batch norm's E[x^2] - E[x]^2
# variance alone moves conv1's first moments by ~2% of the largest after 3 steps, while with fixed
# statistics two devices match one to ~1e-6 (measured).
DISTILL_OPTIONS = {"steps": 3, "batch_size": 4, "crop_size": 32, "stability_weight": 0.5, "stability_noise": 0.0,
                   "eval_images": 1, "eval_every_minutes": 60, "checkpoint_every_minutes": 60}


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    return save_checkpoint(random_checkpoint(DISTILL_TEACHER, seed=1), tmp_path_factory.mktemp("teacher") / "t.npz")


def one_device_distill(inputs, teacher, out, **overrides):
    options = {**DISTILL_OPTIONS, **overrides}
    config = distill_module.preset_config("perceptual", teacher=teacher, content_dirs=[inputs["photos"]], out=out,
                                          vgg_weights=inputs["vgg"], **options)
    return distill_module.distill(config)


def test_distill_on_two_logical_cpu_devices_from_the_cli_trains_like_one_device(inputs, teacher, processes, tmp_path):
    two_out = tmp_path / "two.npz"
    options = [f"--{key.replace('_minutes', '').replace('_', '-')}={value}" for key, value in DISTILL_OPTIONS.items()]
    two = processes.start([sys.executable, "-m", "mobilestyle", "distill", "--teacher", str(teacher), "--content-dir",
                           str(inputs["photos"]), "--vgg-weights", str(inputs["vgg"]), "--out", str(two_out), *options,
                           "--strategy", "mirrored", "--cpu-devices", "2"], "distill-two")
    one_device_distill(inputs, teacher, tmp_path / "one.npz")
    code, log = processes.finish(two)
    assert code == 0, log[-3000:]
    run, reference = (trained(out, distill_module.work_dir) for out in (two_out, tmp_path / "one.npz"))
    assert (run["report"]["strategy"], run["report"]["replicas"], run["report"]["images_per_second"] > 0) == (
        "mirrored", 2, True)
    assert_same_training(run, reference, str(load_checkpoint(two_out).arch), moments_fraction=1e-3)


def test_the_stability_term_reaches_the_gradient(inputs, teacher, tmp_path):
    """Its weighted share is taken inside the tape (taken after it, the gradient was silently None)."""
    small = {"steps": 1, "frame_width": 40, "frame_height": 32}
    plain = one_device_distill(inputs, teacher, tmp_path / "plain.npz", stability_weight=0.0, **small)
    stable = one_device_distill(inputs, teacher, tmp_path / "stable.npz", **small)
    assert stable["final_loss"] > plain["final_loss"]
    plain_weights, stable_weights = (load_checkpoint(tmp_path / name).weights for name in ("plain.npz", "stable.npz"))
    changed = [key for key in plain_weights if not np.array_equal(plain_weights[key], stable_weights[key])]
    assert any(key.endswith("kernel") for key in changed)
