"""The Linux runner: executes an exported Core ML style model by translating it to ONNX."""
