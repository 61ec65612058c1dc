"""One curve for a chain of distillation runs, each continuing the last one's checkpoint (`--init FILE.npz`).

Usage:
  python benchmarks/chain_curve.py --run runs/s15/muse_in/muse_in.distill \
      --run runs/s15/muse_in2/muse_instance.distill --run runs/s16/in480/muse_instance.distill \
      --title "muse_instance: ..." --out benchmarks/muse_instance_curve

Each run is the `<checkpoint>.distill/` folder of a `mobilestyle distill` run (its curve.csv) or a
curve.csv. A later run's steps, minutes and CPU minutes are offset by the end of the run before it, and
its step-0 point is dropped (it measures again the checkpoint the run before ended with). `--earlier`
starts from a CSV this script wrote (its runs' folders need not exist any more). Writes OUT.csv (a `run`
column numbers the runs) and OUT.png (the distillation report's plot of the measures against CPU minutes).
"""

import argparse
import sys
from pathlib import Path

from mobilestyle.errors import UserError
from mobilestyle.training.distill_report import read_curve, write_curve_files

OFFSET_KEYS = ("step", "minutes", "cpu_minutes")


def join(runs: list[list[dict]], earlier: list[dict] | None = None) -> list[dict]:
    joined = list(earlier or [])
    number = max((row.get("run") or 0 for row in joined), default=0)
    for rows in runs:
        number += 1
        offsets = {key: joined[-1][key] if joined else 0 for key in OFFSET_KEYS}
        for row in rows:
            if joined and row["step"] == 0:
                continue
            point = {key: value for key, value in row.items() if key != "run"}
            point.update({key: round(row[key] + offsets[key], 3) for key in OFFSET_KEYS})
            point["step"] = int(point["step"])
            point["run"] = number
            joined.append(point)
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, action="append", default=[], help="a run's work folder or curve.csv")
    parser.add_argument("--earlier", type=Path, help="a CSV this script wrote before")
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", type=Path, required=True, help="output path without suffix")
    args = parser.parse_args(argv)
    try:
        if not args.run and not args.earlier:
            raise UserError("give at least one --run (or --earlier)")
        earlier = read_curve(args.earlier, OFFSET_KEYS) if args.earlier else None
        curve = join([read_curve(path, OFFSET_KEYS) for path in args.run], earlier)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_curve_files(args.out.with_suffix(".csv"), args.out.with_suffix(".png"), curve, args.title)
    print(f"{len(curve)} points of {curve[-1]['run']} runs: {args.out.with_suffix('.csv')}, {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
