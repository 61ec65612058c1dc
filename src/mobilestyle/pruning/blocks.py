"""How close each residual block is to the identity, measured on sample frames.

A block computes x + branch(x). Its relative branch norm is ||branch(x)|| / ||x|| over the sample
frames (the network in inference mode): a block whose branch barely moves the trunk can be removed
at little cost. The PSNR drop when a block is skipped is the direct measure; it costs a forward pass
of the whole net per block.
"""

from __future__ import annotations

import keras
import numpy as np

from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.pruning.surgery import remove_blocks
from mobilestyle.training.distill import psnr_ssim
from mobilestyle.training.targets import stylize_frames


def branch_ratios(checkpoint: Checkpoint, frames: np.ndarray) -> list[float]:
    """||branch|| / ||input|| of every residual block (block 1 first) over uint8 frames (N, H, W, 3)."""
    height, width = frames.shape[1:3]
    net = checkpoint.build_model(height, width)
    outputs = []
    for block in range(1, checkpoint.arch.blocks + 1):
        add = net.get_layer(f"res{block}_add")
        outputs += [add.input[0], add.input[1]]
    probe = keras.Model(net.input, outputs)
    trunk_sq = np.zeros(checkpoint.arch.blocks)
    branch_sq = np.zeros(checkpoint.arch.blocks)
    for image in frames:
        values = probe(image[None].astype(np.float32), training=False)
        for block in range(checkpoint.arch.blocks):
            trunk_sq[block] += float(np.sum(np.square(values[2 * block].numpy())))
            branch_sq[block] += float(np.sum(np.square(values[2 * block + 1].numpy())))
    return [float(np.sqrt(b / max(t, 1e-12))) for t, b in zip(trunk_sq, branch_sq)]


def skip_psnr(checkpoint: Checkpoint, frames: np.ndarray) -> list[float]:
    """PSNR (dB) of the net with block i skipped against the full net, for every block (needs 2+ blocks)."""
    height, width = frames.shape[1:3]
    reference = stylize_frames(checkpoint.build_model(height, width), frames)
    drops = []
    for block in range(1, checkpoint.arch.blocks + 1):
        skipped = stylize_frames(remove_blocks(checkpoint, [block]).build_model(height, width), frames)
        drops.append(float(np.mean([psnr_ssim(r, s)[0] for r, s in zip(reference, skipped)])))
    return drops


def blocks_to_drop(ratios: list[float], threshold: float, keep_blocks: int | None) -> list[int]:
    """Blocks (from 1) whose ratio is below `threshold`, plus the weakest ones beyond `keep_blocks`; one always stays."""
    order = sorted(range(1, len(ratios) + 1), key=lambda block: ratios[block - 1])
    drop = [block for block in order if ratios[block - 1] < threshold]
    if keep_blocks is not None:
        drop = sorted(set(drop) | set(order[:max(0, len(ratios) - keep_blocks)]), key=lambda b: ratios[b - 1])
    return sorted(drop[:len(ratios) - 1])
