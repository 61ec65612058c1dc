#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (about 5 minutes; it stops itself at 7.5):
#   1. installs the gpu extra from wheels into its own venv (.venv-gpu; then swaps tensorflow-cpu and
#      onnxruntime for the GPU builds, which share their import names, see pyproject.toml);
#   2. distils a student (default net) from a random-weight teacher on 1 device, twice (30 then 330
#      steps, resumed), and reports steps/s and images/s from the difference, so the one-off tracing of
#      the first step drops out;
#   3. times the runner's onnxruntime (CPU), cuda and tensorrt backends on the default net exported at
#      853x480 (uint8 frame in, 1920x1080 frame out): fps (median of 30 frames after warm-up), the
#      first frame's seconds (TensorRT builds its engine then) and the max abs difference of the
#      float output to the CPU runner's.
# Results: OUT/gpu_check.json and a summary on stdout. Exit 0 when training ran on the GPU and both GPU
# backends ran, 1 when one of them could not, 2 for a machine or install problem.
#
#   benchmarks/gpu_check.sh [--out DIR] [--dry-run]
#
# --dry-run rehearses every step on the CPU with the project's .venv (no nvidia-smi, no install, a
# few steps and frames; the GPU backends then report why they are unavailable).
# Environment: MOBILESTYLE_WHEELS=DIR installs offline from a folder of wheels (pip --no-index
# --find-links; put tensorrt_cu13_libs-10.* there too for the tensorrt backend, which PyPI has no
# wheel of); GPU_VENV (default .venv-gpu); PYTHON (default python3, 3.11 or 3.12).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=gpu_check_out
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

BUDGET=450
[ "$DRY" = 1 ] && BUDGET=1500  # a CPU takes minutes over what a GPU does in seconds
die() { echo "error: $*" >&2; exit 2; }
left() {  # seconds left for the next stage (timeout 0 would mean none at all)
  local seconds=$((BUDGET - SECONDS))
  [ "$seconds" -gt 0 ] || die "out of time ($BUDGET s) before the next stage"
  echo "$seconds"
}
say() { printf '[%3ds] %s\n' "$SECONDS" "$*"; }

if [ "$DRY" = 1 ]; then
  VENV=.venv
  [ -x "$VENV/bin/python" ] || die "--dry-run uses the project's $VENV, which does not exist"
  say "dry run on the CPU with $VENV"
else
  command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: this check needs an NVIDIA GPU and its driver (rehearse it on a CPU with --dry-run)"
  GPU=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) ||
    die "nvidia-smi cannot talk to the NVIDIA driver: $(echo "$GPU" | head -n 1)"
  say "GPU: $(echo "$GPU" | head -n 1)"
  VENV=${GPU_VENV:-.venv-gpu}
  [ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV" || die "cannot create the venv $VENV"
  PIP=("$VENV/bin/python" -m pip install --quiet --only-binary=:all: --disable-pip-version-check)
  [ -n "${MOBILESTYLE_WHEELS:-}" ] && PIP+=(--no-index --find-links "$MOBILESTYLE_WHEELS")
  TF_PIN=$(grep -o 'tensorflow\[and-cuda\]==[0-9.]*' pyproject.toml | sed 's/\[and-cuda\]//')
  ORT_PIN=$(grep -o 'onnxruntime-gpu\[cuda,cudnn\]==[0-9.]*' pyproject.toml | sed 's/\[cuda,cudnn\]//')
  if [ -z "$TF_PIN" ] || [ -z "$ORT_PIN" ]; then
    die "pyproject.toml has no gpu extra with tensorflow and onnxruntime-gpu pins"
  fi
  say "installing the gpu extra ($TF_PIN, $ORT_PIN) into $VENV"
  timeout "$(left)" "${PIP[@]}" -e ".[gpu]" || die "installing the gpu extra failed (or ran out of time)"
  "$VENV/bin/python" -m pip uninstall --quiet -y tensorflow-cpu onnxruntime >/dev/null 2>&1 || true
  timeout "$(left)" "${PIP[@]}" --no-deps --force-reinstall "$TF_PIN" "$ORT_PIN" ||
    die "reinstalling $TF_PIN and $ORT_PIN over the CPU builds failed"
  if [ -n "${MOBILESTYLE_WHEELS:-}" ] && compgen -G "$MOBILESTYLE_WHEELS/tensorrt_cu13_libs-10.*.whl" >/dev/null; then
    timeout "$(left)" "${PIP[@]}" --no-deps "$(compgen -G "$MOBILESTYLE_WHEELS/tensorrt_cu13_libs-10.*.whl" | head -n 1)" ||
      die "installing TensorRT 10's libraries from $MOBILESTYLE_WHEELS failed"
  fi
  "$VENV/bin/python" - <<'EOF' || die "the GPU builds do not see the GPU (see above)"
import onnxruntime, tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
providers = onnxruntime.get_available_providers()
print(f"TensorFlow {tf.__version__}: {len(gpus)} GPU(s); ONNX Runtime {onnxruntime.__version__}: {', '.join(providers)}")
assert gpus, "TensorFlow sees no GPU"
assert "CUDAExecutionProvider" in providers, "ONNX Runtime is not the GPU build"
EOF
fi

mkdir -p "$OUT"
say "measuring (results in $OUT/gpu_check.json)"
TF_CPP_MIN_LOG_LEVEL=2 timeout "$(left)" "$VENV/bin/python" - "$OUT" "$DRY" <<'EOF' || { code=$?; [ "$code" = 124 ] && die "the check ran past its time"; exit "$code"; }
"""Distillation throughput on 1 device and the runner's GPU backends against its CPU runner."""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

sys.path.insert(0, "benchmarks")
from runner_fps import median_seconds  # noqa: E402

from mobilestyle.errors import UserError  # noqa: E402
from mobilestyle.images import fit_frame  # noqa: E402

out, dry = Path(sys.argv[1]), sys.argv[2] == "1"
work = out / "work"
steps, frames = ((2, 6), 2) if dry else ((30, 330), 30)
arch = "blocks=1,width=0.25" if dry else ""  # the rehearsal's teacher and exported net are tiny ...
small_crops = ["--crop-size", 96] if dry else []  # ... and so are its crops
results = {"dry_run": dry}


def mobilestyle(*args: str, timeout: float = 240) -> None:
    try:
        done = subprocess.run([sys.executable, "-m", "mobilestyle", *map(str, args)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"error: mobilestyle {args[0]} ran past {timeout} s")
    if done.returncode:
        sys.exit(f"error: mobilestyle {args[0]} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")


# Inputs: scikit-image's photos (and their mirror images), a random-weight teacher, VGG19 to block3 with
# random weights (the loss network's work, offline), the default net exported.
photos = work / "photos"
photos.mkdir(parents=True, exist_ok=True)
for name in ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry"):
    image = getattr(data, name)()
    Image.fromarray(image).save(photos / f"{name}.png")
    Image.fromarray(image[:, ::-1]).save(photos / f"{name}_mirrored.png")
teacher = work / "teacher.npz"
if not teacher.exists():
    import keras

    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import Checkpoint, save_checkpoint
    from mobilestyle.networks.transformer_net import build_transformer_net

    keras.utils.set_random_seed(1)
    spec = ArchSpec.parse(arch) if arch else ArchSpec()
    net = build_transformer_net(spec)
    net.build((None, None, None, 3))
    save_checkpoint(Checkpoint.from_model(net, spec, {"style": "random-teacher"}), teacher)
vgg = work / "vgg19_block3_random.npz"
if not vgg.exists():
    rng = np.random.default_rng(0)
    widths = {"block1": (3, 64, 2), "block2": (64, 128, 2), "block3": (128, 256, 4)}
    arrays = {}
    for block, (fan_in, width, convs) in widths.items():
        for conv in range(1, convs + 1):
            inputs = fan_in if conv == 1 else width
            arrays[f"{block}_conv{conv}.kernel"] = rng.normal(0, np.sqrt(2 / (9 * inputs)), (3, 3, inputs, width)).astype(np.float32)
            arrays[f"{block}_conv{conv}.bias"] = np.zeros(width, np.float32)
    np.savez(vgg, **arrays)
model = work / "model" / "random-weights-seed0.mlmodel"
if not model.exists():
    mobilestyle("export", "--random-weights", "--seed", "0", "--out", model.parent, *(["--arch", arch] if arch else []))

# Distillation on 1 device: two runs, the second resumed; the per-step time is their difference.
help_text = subprocess.run([sys.executable, "-m", "mobilestyle", "distill", "--help"], capture_output=True,
                           text=True).stdout
one_device = ["--strategy", "one"] if "--strategy" in help_text else []
student = work / "student.npz"
reports = []
for index, total in enumerate(steps):
    mobilestyle("distill", "--teacher", teacher, "--content-dir", photos, "--vgg-weights", vgg, "--out", student,
                "--steps", total,
                "--eval-images", 2, "--eval-every", 60, "--checkpoint-every", 60, *one_device, *small_crops,
                *(["--resume"] if index else []))
    reports.append(json.loads((work / "student.distill" / "report.json").read_text()))
batch = int(reports[-1]["recipe"]["batch_size"])
# steps_per_second counts each run's steps from its start (the first step's tracing included).
first, second = (report["steps"] - (reports[0]["steps"] if i else 0) for i, report in enumerate(reports))
seconds = [count / report["steps_per_second"] for count, report in zip((first, second), reports)]
step_seconds = (seconds[1] - seconds[0]) / (second - first)
results["distill"] = {"device": "GPU:0" if not dry else "CPU", "global_batch": batch,
                      "crop": reports[-1]["recipe"]["crop_size"], "arch": reports[-1]["student_arch"],
                      "runs": [{"steps": count, "steps_per_second_reported": report["steps_per_second"]}
                               for count, report in zip((first, second), reports)],
                      "steps_per_second": round(1 / step_seconds, 2) if step_seconds > 0 else None,
                      "images_per_second": round(batch / step_seconds, 1) if step_seconds > 0 else None}

# The runner at 853x480: CPU reference, then the GPU backends.
from mobilestyle.runner import ModelRunner  # noqa: E402

frame = fit_frame(data.astronaut())
reference = ModelRunner(model, backend="onnxruntime")
reference_float = reference.run_float(frame)
results["runner"] = {"model": str(model), "input": "853x480 uint8", "output": "1920x1080 uint8",
                     "onnxruntime": {"fps": round(1 / median_seconds(reference, frame, min(frames, 5), 1), 2)}}
for backend in ("cuda", "tensorrt"):
    started = time.perf_counter()
    try:
        runner = ModelRunner(model, backend=backend)
        runner.run(frame)
    except UserError as exc:
        results["runner"][backend] = {"unavailable": str(exc)}
        continue
    first_frame = time.perf_counter() - started
    difference = np.abs(runner.run_float(frame) - reference_float)
    results["runner"][backend] = {"fps": round(1 / median_seconds(runner, frame, frames), 2),
                                  "first_frame_seconds": round(first_frame, 1),
                                  "max_abs_difference_to_cpu": float(difference.max()),
                                  "mean_abs_difference_to_cpu": float(difference.mean())}

(out / "gpu_check.json").write_text(json.dumps(results, indent=2))
distill = results["distill"]
print(f"distill on {distill['device']}: {distill['steps_per_second']} steps/s, {distill['images_per_second']} images/s "
      f"(global batch {distill['global_batch']}, {distill['crop']} px crops, {distill['arch']})")
for backend, figures in results["runner"].items():
    if isinstance(figures, dict) and "fps" in figures:
        extra = (f", first frame {figures['first_frame_seconds']} s, max |diff| to CPU "
                 f"{figures['max_abs_difference_to_cpu']:.3g}") if backend != "onnxruntime" else " (reference)"
        print(f"runner {backend}: {figures['fps']} fps{extra}")
    elif isinstance(figures, dict):
        print(f"runner {backend}: unavailable: {figures['unavailable']}")
gpu_ok = all("fps" in results["runner"][backend] for backend in ("cuda", "tensorrt"))
sys.exit(0 if dry or gpu_ok else 1)
EOF
say "done"
