"""`mobilestyle prune`: sparsity fine-tune -> block removal -> channel slimming -> recovery fine-tune.

The teacher of both fine-tunes is `--teacher`, or by default the unpruned checkpoint itself. Teacher
frames, held-out scores and `report.json` live in the work folder `OUT-without-suffix.prune/`. The
report and the pruned checkpoint's metadata record paths portably (`mobilestyle.portable_paths`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mobilestyle.networks.counting import count
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.pruning.blocks import blocks_to_drop, branch_ratios
from mobilestyle.pruning.finetune import finetune, quality, recalibrated, teacher_frames
from mobilestyle.pruning.groups import require_batch_norm
from mobilestyle.pruning.slimming import fit_macs, keep_fraction
from mobilestyle.pruning.surgery import remove_blocks, slice_channels
from mobilestyle.training.distill import DistillConfig
from mobilestyle.training.teachers import load_teacher

BLOCK_PROBE_FRAMES = 4


@dataclass
class PruneConfig:
    checkpoint: Path
    out: Path
    target_macs: float | None = None
    keep: float | None = None
    teacher: Path | None = None
    content_dirs: list[Path] = field(default_factory=list)
    sparsity_steps: int = 100
    sparsity_weight: float = 0.01
    recovery_steps: int | None = 200
    recovery_minutes: float | None = None
    block_threshold: float = 0.05
    keep_blocks: int | None = None
    lr: float = 2e-4
    batch_size: int = 4
    crop_size: int = 128
    train_images: int = 32
    eval_images: int = 8
    seed: int = 0
    frame_width: int = frame.INPUT_WIDTH
    frame_height: int = frame.INPUT_HEIGHT

    def validate(self) -> None:
        if (self.target_macs is None) == (self.keep is None):
            raise UserError("give exactly one of --target-macs and --keep")
        if self.target_macs is not None and not self.target_macs > 0:
            raise UserError(f"--target-macs must be positive, got {self.target_macs / 1e9:g}")
        if Path(self.out).suffix != ".npz":
            raise UserError(f"--out must name a .npz checkpoint, got {self.out}")
        if self.sparsity_steps < 0:
            raise UserError(f"--sparsity-steps must be 0 or more, got {self.sparsity_steps}")
        if self.sparsity_weight < 0:
            raise UserError(f"--sparsity-weight must be 0 or more, got {self.sparsity_weight}")
        if self.recovery_steps is not None and self.recovery_steps < 0:
            raise UserError(f"--recovery-steps must be 0 or more, got {self.recovery_steps}")
        if self.recovery_minutes is not None and self.recovery_minutes <= 0:
            raise UserError(f"--minutes must be positive, got {self.recovery_minutes}")
        if self.block_threshold < 0:
            raise UserError(f"--block-threshold must be 0 or more, got {self.block_threshold}")
        if self.keep_blocks is not None and not 1 <= self.keep_blocks <= 5:
            raise UserError(f"--keep-blocks must be 1..5, got {self.keep_blocks}")
        if self.needs_frames and not self.content_dirs:
            raise UserError("the fine-tunes and the block measurement need photos: give --content-dir "
                            "(or --sparsity-steps 0 --recovery-steps 0 --block-threshold 0 for surgery alone)")

    @property
    def recovers(self) -> bool:
        return bool(self.recovery_steps) or self.recovery_minutes is not None

    @property
    def needs_frames(self) -> bool:
        return self.sparsity_steps > 0 or self.recovers or self.block_threshold > 0 or self.keep_blocks is not None

    def distill_config(self, steps: int | None, minutes: float | None) -> DistillConfig:
        """Recovery distills from the teacher, or from the unpruned net itself run unpadded (its own
        frames, so that the unpruned net scores exactly 100 dB against them)."""
        return DistillConfig(
            teacher=self.teacher or self.checkpoint, content_dirs=list(self.content_dirs), out=self.out,
            steps=steps, minutes=minutes, batch_size=self.batch_size, crop_size=self.crop_size, lr=self.lr,
            seed=self.seed, eval_images=self.eval_images, train_images=self.train_images,
            frame_width=self.frame_width, frame_height=self.frame_height,
            **({} if self.teacher else {"teacher_pad": 0}))


def work_dir(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name.removesuffix('.npz')}.prune"


def _costs(checkpoint: Checkpoint) -> dict:
    parameters, macs = count(checkpoint.arch)
    return {"arch": str(checkpoint.arch), "parameters": parameters, "gmacs_853x480": round(macs / 1e9, 3)}


def prune(config: PruneConfig, console: Console | None = None) -> dict:
    """Prune `config.checkpoint` into `config.out`; returns the report (also written to the work folder)."""
    console = console or Console()
    config.validate()
    original = load_checkpoint(config.checkpoint)
    require_batch_norm(original.arch)
    if config.keep_blocks is not None and config.keep_blocks > original.arch.blocks:
        raise UserError(f"--keep-blocks {config.keep_blocks} is more than the net's {original.arch.blocks} blocks")
    teacher = load_teacher(config.teacher) if config.teacher else original
    folder = ensure_writable_dir(work_dir(config.out))
    recipe = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    recipe["content_dirs"] = [str(path) for path in config.content_dirs]
    report: dict = {"source": portable_path(config.checkpoint),
                    "teacher": portable_path(config.teacher or config.checkpoint),
                    "before": _costs(original), "recipe": portable(recipe)}
    frames = None
    if config.needs_frames:
        frames = teacher_frames(teacher, config.distill_config(1, None), folder, console)
        report["before"]["psnr_db"], report["before"]["ssim"] = quality(original, frames)

    net = original
    if config.sparsity_steps:
        net, _ = finetune(net, frames, config.distill_config(config.sparsity_steps, None),
                          config.sparsity_weight, "sparsity fine-tune", console)
        report["after_sparsity"] = dict(zip(("psnr_db", "ssim"), quality(net, frames)))

    if config.block_threshold > 0 or config.keep_blocks is not None:
        ratios = branch_ratios(net, frames.eval_content[:BLOCK_PROBE_FRAMES])
        dropped = blocks_to_drop(ratios, config.block_threshold, config.keep_blocks)
        report["blocks"] = {"branch_ratios": [round(r, 4) for r in ratios], "removed": dropped}
        console.log(f"residual branch / trunk norms: {', '.join(f'{r:.3f}' for r in ratios)}; removing {dropped or 'none'}")
        net = remove_blocks(net, dropped)

    if config.target_macs is not None:
        selection = fit_macs(net, config.target_macs, config.frame_height, config.frame_width)
    else:
        selection = keep_fraction(net, config.keep, config.frame_height, config.frame_width)
    net = slice_channels(net, selection.keep)
    report["pruned"] = _costs(net)
    console.log(f"pruned to {net.arch} ({report['pruned']['gmacs_853x480']} GMAC, "
                f"{report['pruned']['parameters']:,} parameters)")

    recovery_steps = 0
    if frames is not None:
        report["pruned"]["psnr_db"], report["pruned"]["ssim"] = quality(net, frames)
    if config.recovers:
        net, recovery_steps = finetune(net, frames, config.distill_config(config.recovery_steps or None,
                                                                          config.recovery_minutes),
                                       0.0, "recovery fine-tune", console)
        net = recalibrated(net, frames, console)
        report["recovered"] = dict(zip(("psnr_db", "ssim"), quality(net, frames)), steps=recovery_steps)
    meta = {**portable(original.meta), "pruned_from": portable_path(config.checkpoint),
            "prune": {key: report[key] for key in report if key != "recipe"}}
    path = save_checkpoint(Checkpoint(net.arch, net.weights, meta), config.out)
    report["checkpoint"] = portable_path(path)
    with atomic_path(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    final = report.get("recovered", report["pruned"])
    scores = f", held-out PSNR {final['psnr_db']:.2f} dB SSIM {final['ssim']:.4f} vs the teacher" if frames else ""
    console.log(f"wrote {path} ({report['pruned']['gmacs_853x480']} GMAC{scores}); report {folder / 'report.json'}")
    return report
