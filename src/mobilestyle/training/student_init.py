"""A distillation student's layout and starting weights: cut from its teacher's, or another student's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint, set_model_weights
from mobilestyle.training.teachers import resize_conv_kernel


def teacher_layout_student(teacher_arch: ArchSpec, blocks: int = 3) -> ArchSpec:
    """The teacher's layout (upsampling, padding, output, widths) with its first `blocks` blocks and batch norm."""
    blocks = min(blocks, teacher_arch.blocks)
    return dataclasses.replace(teacher_arch, blocks=blocks, block_widths=teacher_arch.block_widths[:blocks],
                               norm="batch")


def project_layout_student(teacher_arch: ArchSpec, blocks: int = 3) -> ArchSpec:
    """The project's layout (reflection padding, nearest-resize + conv upsampling: no bands, no checkerboard)
    with the teacher's widths and output head, so that `--init teacher` copies everything but the up convs'
    orientation (converted by `teacher_init`)."""
    return dataclasses.replace(teacher_layout_student(teacher_arch, blocks), padding="reflect", upsample="nearest")


def teacher_init(student: keras.Model, teacher: Checkpoint) -> int:
    """Copy teacher weights whose key and shape the student shares (stem, first blocks, norms' affine).

    A teacher's transposed-conv upsampling kernel starts the student's nearest-resize + conv kernel
    as its least-squares stand-in (`resize_conv_kernel`).
    """
    copied = 0
    for layer in student.layers:
        for variable in layer.weights:
            key = f"{layer.name}/{variable.name}"
            value = teacher.weights.get(key)
            if value is None:
                continue
            if value.ndim == 4 and value.shape[:2] == (3, 3) and value.shape[2:] == tuple(variable.shape)[:1:-1] \
                    and layer.name.startswith("up") and value.shape != tuple(variable.shape):
                value = resize_conv_kernel(value)
            if tuple(value.shape) == tuple(variable.shape):
                variable.assign(value)
                copied += 1
    return copied


def checkpoint_init(student: keras.Model, path: Path, arch: ArchSpec) -> None:
    """Start from a trained student of the same architecture (another style's: a head start on features).

    The architectures may differ in `antialias`: its blurs hold no weights, so either net's weights fit the other.
    """
    source = load_checkpoint(path)
    if dataclasses.replace(source.arch, antialias=False) != dataclasses.replace(arch, antialias=False):
        raise UserError(f"--init {path} is a {source.arch} net, the student is {arch}")
    set_model_weights(student, source.weights)
