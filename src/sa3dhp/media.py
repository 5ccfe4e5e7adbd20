"""Images and videos in and out (OpenCV): what ``sa3dhp predict`` reads and what ``--render``
writes.

Every reader returns RGB ``uint8`` frames ``(H, W, 3)``: grayscale, 16-bit and RGBA images are
converted (the alpha channel is dropped). Anything that cannot be used raises :class:`MediaError`
with one line that names the file.
"""

from __future__ import annotations

import glob
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# FFmpeg's own messages (e.g. "moov atom not found") would add lines to our one-line errors
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
#: Smallest usable image side in pixels (a person detector needs more than this).
MIN_SIDE = 16


class MediaError(ValueError):
    """An input cannot be read or used (one-line message naming the file)."""


@dataclass(frozen=True)
class Media:
    """One input file: an image (one frame) or a video."""

    path: Path
    kind: str  # "image" | "video"

    @property
    def name(self) -> str:
        return self.path.name


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None


def collect(inputs: list[str]) -> list[Media]:
    """The images and videos named by ``inputs``: files, folders (their images and videos,
    sorted, not recursive) or glob patterns.

    Raises:
        MediaError: an input does not exist, matches nothing, is a folder without images or
            videos, or is a file of another kind.
    """
    if not inputs:
        raise MediaError("no input given: name an image, a video, a folder or a glob")
    found: list[Media] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and _kind(p))
            if not files:
                raise MediaError(
                    f"{path}: the folder has no images ({', '.join(IMAGE_SUFFIXES)}) or videos "
                    f"({', '.join(VIDEO_SUFFIXES)})"
                )
            found += [Media(p, _kind(p)) for p in files]  # type: ignore[arg-type]
        elif path.is_file():
            kind = _kind(path)
            if kind is None:
                raise MediaError(
                    f"{path}: not an image or a video (by its suffix {path.suffix or '(none)'}); "
                    f"images: {' '.join(IMAGE_SUFFIXES)}, videos: {' '.join(VIDEO_SUFFIXES)}"
                )
            found.append(Media(path, kind))
        elif glob.has_magic(text):
            files = sorted(Path(p) for p in glob.glob(text) if _kind(Path(p)))
            if not files:
                raise MediaError(f"{text}: the pattern matches no image or video")
            found += [Media(p, _kind(p)) for p in files]  # type: ignore[arg-type]
        else:
            raise MediaError(f"{path}: no such file or folder")
    return found


def to_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    """An OpenCV-decoded image (BGR, BGRA, gray; 8 or 16 bit) as RGB ``uint8`` ``(H, W, 3)``."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise MediaError(f"{name}: unsupported pixel type {image.dtype} (use 8- or 16-bit images)")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    raise MediaError(f"{name}: unsupported image shape {image.shape}")


def _check_size(frame: np.ndarray, name: str) -> np.ndarray:
    h, w = frame.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise MediaError(f"{name}: the image is {w}x{h} pixels; at least {MIN_SIDE} are needed")
    return frame


def read_image(path: str | Path) -> np.ndarray:
    """The RGB ``uint8`` image at ``path``.

    Raises:
        MediaError: unreadable, not an image, or smaller than :data:`MIN_SIDE` pixels.
    """
    path = Path(path)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise MediaError(f"{path}: not a readable image (empty, damaged or another format)")
    return _check_size(to_rgb(image, str(path)), str(path))


@dataclass(frozen=True)
class VideoInfo:
    """What a video's container says: frame count (0 if unknown), rate and size."""

    frames: int
    fps: float
    width: int
    height: int


def _open(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise MediaError(f"{path}: not a readable video (damaged, truncated or unknown codec)")
    return cap


def video_info(path: str | Path) -> VideoInfo:
    """The container's record of the video at ``path``."""
    cap = _open(Path(path))
    try:
        return VideoInfo(
            frames=max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))),
            fps=float(cap.get(cv2.CAP_PROP_FPS)) or 30.0,
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        cap.release()


def read_video(path: str | Path) -> Iterator[np.ndarray]:
    """The RGB ``uint8`` frames of the video at ``path``, in order.

    Raises:
        MediaError: the file does not open, has no frames, has frames too small to use, or
            stops decoding before the frame count its container gives (truncated).
    """
    path = Path(path)
    expected = video_info(path).frames
    cap = _open(path)
    n = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if n == 0:
                _check_size(frame, str(path))
            n += 1
            yield to_rgb(frame, str(path))
    finally:
        cap.release()
    if n == 0:
        raise MediaError(f"{path}: the video has no frames that decode")
    if expected and n < expected - 1:
        raise MediaError(
            f"{path}: decoding stopped at frame {n} of the {expected} its container lists "
            "(truncated or damaged file)"
        )


def read_frames(media: Media) -> Iterator[np.ndarray]:
    """The frames of one input: its single image, or its video's frames."""
    if media.kind == "image":
        yield read_image(media.path)
    else:
        yield from read_video(media.path)


def prefetch(frames: Iterable[np.ndarray], depth: int) -> Iterator[np.ndarray]:
    """``frames``, decoded up to ``depth`` ahead in a background thread (OpenCV releases the
    GIL while it decodes, so decoding overlaps the model's work). Errors reach the caller."""
    if depth < 1:
        yield from frames
        return
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer
            put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def write_video(path: str | Path, frames: list[np.ndarray] | np.ndarray, fps: float) -> Path:
    """Write RGB ``uint8`` frames ``(T, H, W, 3)`` as an MP4 (``mp4v``) video."""
    path = Path(path)
    if len(frames) == 0:
        raise ValueError(f"{path}: no frames to write")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise MediaError(f"{path}: OpenCV cannot write an MP4 video here")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB ``uint8`` image (PNG, JPEG... by suffix)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise MediaError(f"{path}: cannot encode an image with this suffix")
    buf.tofile(path)
    return path
