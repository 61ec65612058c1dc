"""A desktop emulator of the phone's camera loop: the exported model, at the phone's input size, paced like the phone.

Capture, inference and display run on their own threads (`loop.PhoneLoop`): camera frames arrive at the
source rate, the model runs at most one frame at a time and at most `FPS_TARGET` times a second, a frame
that arrives while the model is busy is dropped, and the display shows the latest finished result.
"""
