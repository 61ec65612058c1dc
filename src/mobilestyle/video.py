"""Video files in and out (PyAV): every frame decoded, frames encoded as H.264 .mp4, audio copied as packets.

`stylize_video` is the whole-clip path of `mobilestyle stylize CLIP.mp4`: every frame of the source goes
through the model, the output has the source's frame timestamps (so its frame rate and length), and every
audio stream is remuxed packet by packet, unchanged. The output is written under a temporary name and
renamed only when the last frame is in; a source that is unreadable, has no video stream, or ends before
the frames it declares (truncated) stops the run with a one-line `UserError` and leaves nothing behind.

`VideoWriter` also records the emulator's device-timed stream (one frame per source frame, at an exact
rational frame rate), and `AudioCopy` copies the source's audio packets into it as its frames go in.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm")
OUTPUT_SUFFIX = ".mp4"
CODEC = "libx264"
CODEC_OPTIONS = {"crf": "18", "preset": "fast"}


def is_video(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _av():
    import av

    return av


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    rate: Fraction
    frames: int
    """Frames the container declares (0 when it does not say)."""
    audio: tuple[str, ...]
    """The codec of each audio stream."""

    @property
    def name(self) -> str:
        sound = f", audio {'+'.join(self.audio)}" if self.audio else ", no audio"
        return f"{self.path.name} ({self.width}x{self.height}, {float(self.rate):.2f} fps, {self.frames} frames{sound})"


@contextlib.contextmanager
def open_video(path: Path) -> Iterator:
    """An input container with a video stream, or a one-line UserError."""
    av = _av()
    path = Path(path)
    if not path.is_file():
        raise UserError(f"video {path} does not exist")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UserError(f"{path} is not a video FFmpeg can read ({_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise UserError(f"{path} has no video stream")
        yield container
    finally:
        container.close()


def _info(path: Path, container) -> VideoInfo:
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate:
        raise UserError(f"video {path} does not say its frame rate")
    return VideoInfo(Path(path), stream.codec_context.width, stream.codec_context.height, Fraction(rate),
                     int(stream.frames or 0), tuple(a.codec_context.name for a in container.streams.audio))


def probe(path: Path) -> VideoInfo:
    with open_video(path) as container:
        return _info(path, container)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


class VideoWriter:
    """An H.264 .mp4 of RGB frames at `rate` (or at the given frame timestamps), optionally with copied audio.

    `audio_templates` are input audio streams whose packets `mux_audio` copies unchanged. Write to a
    temporary path (`mobilestyle.files.atomic_path`): the file is complete only after `close`.
    """

    def __init__(self, path: Path, size: tuple[int, int], rate: Fraction, time_base: Fraction | None = None,
                 audio_templates=()):
        av = _av()
        self.frames_written = 0
        self._time_base = Fraction(time_base) if time_base is not None else 1 / Fraction(rate)
        try:
            self._container = av.open(str(path), mode="w", format="mp4")
        except (av.FFmpegError, OSError) as exc:
            raise UserError(f"cannot write a video to {path} ({_reason(exc)})") from None
        self._video = self._container.add_stream(CODEC, rate=Fraction(rate), options=dict(CODEC_OPTIONS))
        self._video.width, self._video.height = size
        self._video.pix_fmt = "yuv420p"
        self._video.codec_context.time_base = self._time_base
        self._audio = {template.index: self._container.add_stream_from_template(template)
                       for template in audio_templates}

    def write(self, rgb: np.ndarray, pts: int | None = None) -> None:
        """Encode one frame; `pts` in `time_base` units (default: the next frame at `rate`)."""
        av = _av()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")
        frame.pts = self.frames_written if pts is None else pts
        frame.time_base = self._time_base
        for packet in self._video.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def mux_audio(self, packet) -> None:
        """Copy one packet of an input audio stream (given as a template) unchanged."""
        if packet.dts is None:  # the demuxer's end-of-stream marker, not data
            return
        packet.stream = self._audio[packet.stream.index]
        self._container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()


class AudioCopy:
    """The audio streams of a video file, copied into a `VideoWriter` packet by packet as its frames go in.

    For a recording whose frame N is the source's frame N but which may end early (`emulate --frames`, a
    quit): `copy_until` copies, unchanged, the packets that start before the given time. Times count from
    the source's first video frame, as the recording's do. `streams` are the writer's `audio_templates`.
    """

    def __init__(self, source: Path):
        self._resources = contextlib.ExitStack()
        container = self._resources.enter_context(open_video(source))
        video = container.streams.video[0]
        self._video_start = video.start_time * video.time_base if video.start_time is not None else 0
        self.streams = tuple(container.streams.audio)
        self._packets = container.demux(*self.streams) if self.streams else iter(())
        self._next = None
        self.packets_copied = 0

    def copy_until(self, writer: VideoWriter, seconds: Fraction) -> None:
        """Copy the packets that start before `seconds` (keeping the first one that does not for later)."""
        while True:
            packet = self._next if self._next is not None else next(self._packets, None)
            self._next = None
            if packet is None:
                return
            if packet.dts is None:  # the demuxer's end-of-stream marker, not data
                continue
            if self._start(packet) >= seconds:
                self._next = packet
                return
            self._shift_to_video_start(packet)
            writer.mux_audio(packet)
            self.packets_copied += 1

    def _start(self, packet) -> Fraction:
        pts = packet.pts if packet.pts is not None else packet.dts
        return pts * packet.time_base - self._video_start

    def _shift_to_video_start(self, packet) -> None:
        """Keep the sync: the source's first video frame is at 0 in the recording."""
        offset = round(self._video_start / packet.time_base)
        if offset:
            packet.dts -= offset
            if packet.pts is not None:
                packet.pts -= offset

    def close(self) -> None:
        self._resources.close()


@dataclass(frozen=True)
class VideoResult:
    path: Path
    source: VideoInfo
    frames: int
    audio_packets: int


def stylize_video(source: Path, out: Path, stylize: Callable[[np.ndarray], np.ndarray],
                  on_progress: Callable[[int, int], None] | None = None) -> VideoResult:
    """Every frame of `source` through `stylize` (RGB in, RGB out), audio copied, written atomically to `out`.

    `on_progress(frames_done, frames_declared)` is called after each frame.
    """
    av = _av()
    out = Path(out)
    if out.suffix.lower() != OUTPUT_SUFFIX:
        raise UserError(f"a stylized video is written as an {OUTPUT_SUFFIX} file (got {out.name})")
    with open_video(source) as container:
        info = _info(source, container)
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        audio = list(container.streams.audio)
        done, audio_packets, pending_audio = 0, 0, []
        with atomic_path(out) as tmp:
            writer: VideoWriter | None = None
            try:
                for packet in container.demux(video, *audio):
                    if packet.stream.type == "audio":
                        if writer is not None:
                            writer.mux_audio(packet)
                            audio_packets += packet.dts is not None
                        else:
                            pending_audio.append(packet)
                        continue
                    for decoded in packet.decode():
                        stylized = stylize(decoded.to_ndarray(format="rgb24"))
                        if writer is None:
                            writer = VideoWriter(tmp, (stylized.shape[1], stylized.shape[0]), info.rate,
                                                 video.time_base, audio)
                            for early in pending_audio:
                                writer.mux_audio(early)
                                audio_packets += early.dts is not None
                        pts = decoded.pts if decoded.pts is not None else _pts_at(done, info.rate, video.time_base)
                        writer.write(stylized, pts)
                        done += 1
                        if on_progress is not None:
                            on_progress(done, info.frames)
            except av.FFmpegError as exc:
                raise UserError(f"video {source} is damaged: frame {done + 1} cannot be decoded "
                                f"({_reason(exc)})") from None
            finally:
                if writer is not None:
                    writer.close()
            if done == 0:
                raise UserError(f"video {source} has no readable frame")
            if info.frames and done < info.frames:
                raise UserError(f"video {source} is truncated: it declares {info.frames} frames but only "
                                f"{done} could be decoded")
    return VideoResult(out, info, done, audio_packets)


def video_destinations(videos: list[Path], out: Path) -> list[tuple[Path, Path]]:
    """(source, output) pairs: `out` is the output file for one clip (OUT.mp4), else a folder for OUT/<stem>.mp4."""
    out = Path(out)
    if out.suffix.lower() == OUTPUT_SUFFIX:
        if len(videos) != 1:
            raise UserError(f"--out {out.name} names one video; for {len(videos)} clips give a folder")
        return [(Path(videos[0]), out)]
    if out.suffix.lower() in VIDEO_SUFFIXES:
        raise UserError(f"a stylized video is written as an {OUTPUT_SUFFIX} file (got {out.name})")
    stems = [Path(video).stem for video in videos]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise UserError(f"several clips would be written to the same file: {', '.join(duplicates)}{OUTPUT_SUFFIX}")
    return [(Path(video), out / f"{Path(video).stem}{OUTPUT_SUFFIX}") for video in videos]


def _pts_at(index: int, rate: Fraction, time_base: Fraction) -> int:
    return round(index / (rate * time_base))
