"""The phone's frame geometry and the names of an exported model's features.

The camera delivers 1920x1080 landscape frames; the model sees them scaled to 853x480 and
returns a 1920x1080 stylized frame (the bilinear upsample is part of the model).
"""

INPUT_NAME = "image"
OUTPUT_NAME = "stylized"
INPUT_WIDTH, INPUT_HEIGHT = 853, 480
OUTPUT_WIDTH, OUTPUT_HEIGHT = 1920, 1080
CAMERA_WIDTH, CAMERA_HEIGHT = 1920, 1080
FPS_TARGET = 15
ASPECT = 16 / 9
