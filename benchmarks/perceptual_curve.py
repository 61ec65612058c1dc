"""Plot perceptual distillation runs: the quality measures of the held-out curve frames against CPU minutes.

Usage:
  python benchmarks/perceptual_curve.py --run "gram x10=runs/muse/muse.distill" \
      [--run "LABEL=WORK_FOLDER_OR_CSV" ...] [--earlier benchmarks/perceptual_curve.csv] --out benchmarks/perceptual_curve

Each run is the `<checkpoint>.distill/` folder of a `mobilestyle distill` run (its curve.csv) or a
curve.csv. Writes OUT.csv (every point of every run, labelled) and OUT.png: structure PSNR, Gram
distance, detail ratio and border departure against CPU minutes, with the issue's targets drawn in
(structure >= 25 dB, Gram <= 0.5, detail 0.8-1.25) and the teacher-against-itself figures for la_muse
(2-px shift: structure 29.0 dB, Gram 0.075, detail 1.0). `--earlier` keeps the runs of an earlier table.
"""

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mobilestyle.errors import UserError  # noqa: E402
from mobilestyle.labelled import labelled_values  # noqa: E402
from mobilestyle.training.distill_report import read_curve  # noqa: E402

MEASURES = (("structure_psnr", "structure PSNR (dB, blur σ3)", (25.0, None), 28.98),
            ("gram_distance", "Gram distance (relu1_2/2_2/3_4)", (None, 0.5), 0.075),
            ("detail_ratio", "detail ratio (student / teacher)", (0.8, 1.25), 1.0),
            ("border", "border departure (0..255)", (None, None), None))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", default=[], help="LABEL=WORK_FOLDER (or a curve.csv)")
    parser.add_argument("--earlier", type=Path, help="a CSV this script wrote before")
    parser.add_argument("--out", type=Path, required=True, help="output path without suffix")
    args = parser.parse_args(argv)

    runs: dict[str, list[dict]] = {}
    if args.earlier:
        for row in read_curve(args.earlier, ("run", "cpu_minutes")):
            runs.setdefault(row.pop("run"), []).append(row)
    for label, folder in labelled_values("--run", args.run, "LABEL=WORK_FOLDER").items():
        runs[label] = read_curve(Path(folder))

    keys = ["run", "step", "cpu_minutes", *(key for key, *_ in MEASURES), "psnr", "ssim"]
    with open(args.out.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, keys, extrasaction="ignore")
        writer.writeheader()
        for label, rows in runs.items():
            writer.writerows({"run": label, **row} for row in rows)

    figure, axes = plt.subplots(1, len(MEASURES), figsize=(4.2 * len(MEASURES), 3.6))
    for axis, (key, title, (low, high), teacher) in zip(axes, MEASURES):
        for label, rows in runs.items():
            points = [(row["cpu_minutes"], row[key]) for row in rows if row.get(key) is not None]
            axis.plot(*zip(*points), marker=".", label=label)
        for bound in (low, high):
            if bound is not None:
                axis.axhline(bound, color="tab:red", linestyle="--", linewidth=1)
        if teacher is not None:
            axis.axhline(teacher, color="grey", linestyle=":", linewidth=1)
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("CPU minutes")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.suptitle("perceptual distillation, la_muse, 4 held-out BSDS frames at 853x480 "
                    "(red dashes: targets; grey dots: teacher vs itself, 2-px shift)", fontsize=9)
    figure.tight_layout()
    figure.savefig(args.out.with_suffix(".png"), dpi=90)
    print(f"wrote {args.out.with_suffix('.csv')} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
