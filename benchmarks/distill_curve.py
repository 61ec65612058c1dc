"""Plot distillation curves: held-out PSNR (student vs teacher, 853x480) against training minutes.

Usage:
  python benchmarks/distill_curve.py --run "muse, random init=runs/muse/muse.distill" \
      [--run "LABEL=WORK_FOLDER" ...] [--earlier benchmarks/distill_curve.csv] --out benchmarks/distill_curve

Each WORK_FOLDER is the `<checkpoint>.distill/` folder of a `mobilestyle distill` run (its curve.csv
and report.json), or a curve.csv itself. Writes OUT.csv (every point of every run, labelled) and
OUT.png (PSNR against wall-clock minutes and against training steps: the machine is shared, so
minutes depend on the load while steps do not). `--earlier` re-plots the runs of a table this script
wrote before (their work folders need not exist any more), ahead of the new ones.
"""

import argparse
import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mobilestyle.errors import UserError  # noqa: E402
from mobilestyle.labelled import labelled_values  # noqa: E402
from mobilestyle.training.distill_report import read_curve  # noqa: E402

COLUMNS = ("step", "minutes", "psnr")


def read_run(folder: Path) -> tuple[list[dict], dict]:
    """A run's curve points and, for a work folder, its report.json (empty for a bare curve.csv)."""
    rows = read_curve(folder, COLUMNS)
    report_path = folder / "report.json"
    report = json.loads(report_path.read_text()) if folder.is_dir() and report_path.exists() else {}
    return rows, report


def earlier_runs(table: Path) -> list[tuple[str, list[dict], dict]]:
    runs: dict[str, list[dict]] = {}
    for row in read_curve(table, ("run", *COLUMNS)):
        runs.setdefault(row.pop("run"), []).append(row)
    return [(label, rows, {}) for label, rows in runs.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, help="LABEL=WORK_FOLDER")
    parser.add_argument("--earlier", type=Path, help="a table this script wrote before: plot its runs too")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/distill_curve"))
    args = parser.parse_args(argv)

    figure, (axis, step_axis) = plt.subplots(1, 2, figsize=(13, 7), sharey=True)
    table, columns = [], ["run", "step", "minutes", "cpu_minutes", "psnr", "ssim"]
    runs = earlier_runs(args.earlier) if args.earlier else []
    for label, folder in labelled_values("--run", args.run, "LABEL=WORK_FOLDER").items():
        runs.append((label, *read_run(Path(folder))))
    for name, rows, report in runs:
        minutes = [float(row["minutes"]) for row in rows]
        psnr = [float(row["psnr"]) for row in rows]
        final = report.get("eval", {})
        label = name
        if final:
            label += f" (final {final['psnr_db']:.2f} dB / SSIM {final['ssim']:.3f} on {final['frames']} frames)"
        axis.plot(minutes, psnr, marker="o", markersize=3, label=label)
        step_axis.plot([int(row["step"]) for row in rows], psnr, marker="o", markersize=3, label=label)
        table += [{"run": name, **row} for row in rows]
        print(f"{name}: " + ", ".join(f"{m:.0f} min {p:.2f} dB" for m, p in zip(minutes, psnr)))
    for level in (24, 26):
        axis.axhline(level, color="grey", linestyle=":", linewidth=1)
        step_axis.axhline(level, color="grey", linestyle=":", linewidth=1)
    step_axis.set_xlabel("training steps (batch of crops)")
    step_axis.grid(alpha=0.3)
    axis.set_xlabel("training minutes (wall clock, shared 2-core CPU)")
    axis.set_ylabel("PSNR vs teacher, dB (853x480, held-out photos)")
    figure.suptitle("Distilling a 3-block batch-norm student from a lengstrom teacher (held-out PSNR vs teacher)")
    axis.grid(alpha=0.3)
    handles, labels = axis.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", fontsize=8)
    figure.tight_layout(rect=(0, 0.04 * len(labels), 1, 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out.with_suffix(".png"), dpi=120)
    with open(args.out.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(table)
    print(f"wrote {args.out.with_suffix('.png')} and {args.out.with_suffix('.csv')}")


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
