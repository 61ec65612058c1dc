"""Tiny generated clips for the tests: H.264 video of a moving disc, optionally with an AAC tone (PyAV)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

SAMPLE_RATE = 44100


def clip_frame(index: int, width: int, height: int) -> np.ndarray:
    """RGB frame `index` of the test clip: a gradient with a disc that moves 7 pixels a frame."""
    gradient = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None].repeat(height, 0).repeat(3, 2)
    image = gradient.copy()
    image[..., 2] = ((image[..., 2].astype(np.int32) + 5 * index) % 256).astype(np.uint8)
    cv2.circle(image, (int((20 + index * 7) % width), height // 2), height // 4, (250, 200, 40), -1)
    return image


def write_clip(path: Path, frames: int = 12, rate: Fraction = Fraction(30000, 1001), size=(160, 90),
               audio: bool = True, faststart: bool = False) -> Path:
    """An .mp4 with `frames` H.264 frames at `rate` and (optionally) a 440 Hz AAC tone as long as the video."""
    import av

    width, height = size
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        video = container.add_stream("libx264", rate=rate, options={"crf": "23", "preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if audio else None
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(clip_frame(index, width, height), format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            samples = int(SAMPLE_RATE * frames / rate)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / SAMPLE_RATE)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = SAMPLE_RATE, start
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
    return Path(path)


def audio_packets(path: Path) -> list[tuple[int | None, bytes]]:
    """(pts, payload) of every audio packet, in order."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [(packet.pts, bytes(packet)) for packet in container.demux(container.streams.audio[0])
                if packet.dts is not None]


def video_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
