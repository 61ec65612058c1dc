"""Wrapping a translated style model so that it takes and returns H x W x 3 frames directly.

The conversions run inside the ONNX graph (multi-threaded, fused) instead of in NumPy:
- input: a frame (uint8 or float32 pixels 0..255, HWC) becomes the [1, 3, H, W] float image;
- output: the [1, 3, H, W] float image becomes HWC, either float32 as computed, or uint8 the way
  Core ML turns an image output into pixels: clamped to 0..255 and rounded to the nearest integer.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

FRAME_INPUT = "frame"
FRAME_OUTPUT = "stylized_frame"


def with_frame_io(model: onnx.ModelProto, image_input: str, image_output: str, uint8: bool) -> onnx.ModelProto:
    """A copy of `model` reading FRAME_INPUT and writing FRAME_OUTPUT (uint8 or float32, HWC)."""
    wrapped = onnx.ModelProto()
    wrapped.CopyFrom(model)
    graph = wrapped.graph
    image = next(value for value in graph.input if value.name == image_input)
    _, channels, height, width = (dim.dim_value for dim in image.type.tensor_type.shape.dim)
    output = next(value for value in graph.output if value.name == image_output)
    _, out_channels, out_height, out_width = (dim.dim_value for dim in output.type.tensor_type.shape.dim)
    pixel_type = TensorProto.UINT8 if uint8 else TensorProto.FLOAT

    axes = helper.make_tensor("frame_io/batch_axis", TensorProto.INT64, [1], [0])
    low = helper.make_tensor("frame_io/low", TensorProto.FLOAT, [], [0.0])
    high = helper.make_tensor("frame_io/high", TensorProto.FLOAT, [], [255.0])
    graph.initializer.extend([axes, low, high])

    before = [
        helper.make_node("Cast", [FRAME_INPUT], ["frame_io/float"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["frame_io/float"], ["frame_io/chw"], perm=[2, 0, 1]),
        helper.make_node("Unsqueeze", ["frame_io/chw", "frame_io/batch_axis"], [image_input]),
    ]
    after = [helper.make_node("Squeeze", [image_output, "frame_io/batch_axis"], ["frame_io/out_chw"])]
    if uint8:
        after += [
            helper.make_node("Clip", ["frame_io/out_chw", "frame_io/low", "frame_io/high"], ["frame_io/clipped"]),
            helper.make_node("Round", ["frame_io/clipped"], ["frame_io/rounded"]),
            helper.make_node("Cast", ["frame_io/rounded"], ["frame_io/pixels"], to=TensorProto.UINT8),
            helper.make_node("Transpose", ["frame_io/pixels"], [FRAME_OUTPUT], perm=[1, 2, 0]),
        ]
    else:
        after.append(helper.make_node("Transpose", ["frame_io/out_chw"], [FRAME_OUTPUT], perm=[1, 2, 0]))
    nodes = before + list(graph.node) + after
    del graph.node[:]
    graph.node.extend(nodes)

    graph.input.remove(image)
    graph.input.insert(0, helper.make_tensor_value_info(FRAME_INPUT, pixel_type, [height, width, channels]))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(FRAME_OUTPUT, pixel_type,
                                                      [out_height, out_width, out_channels]))
    onnx.checker.check_model(wrapped)
    return wrapped
