"""A desktop emulator of the phone's camera loop: the exported model, at the phone's input size, paced like the phone.

Capture, inference and display run on their own threads (`loop.PhoneLoop`): camera frames arrive at the
source rate, the model runs at most one frame at a time and at most `FPS_TARGET` times a second
(`gate.FrameGate`), the newest frame that arrives while the model is busy waits and is handed over the
moment the model frees up, older ones are dropped (`gate.CameraQueue`, as AVFoundation does), and the
display shows the latest finished result. Stats (`stats.LoopStats`) always add up: frames_in = frames_stylized + frames_dropped.

    mobilestyle emulate --webcam --model out/mosaic.mlmodel                 # window with HUD, keys q h o s n p
    mobilestyle emulate --video clip.mp4 --style mosaic --record out.mp4
    mobilestyle emulate --webcam 1 --model m.mlmodel --virtual-cam          # a webcam for video calls
    mobilestyle emulate --video clip.mp4 --model m.mlmodel --headless --frames 150 --stats s.json
"""
