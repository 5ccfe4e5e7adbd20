"""Person detection: ``detector(frame, index) -> (boxes (N, 4), scores (N,))`` with four backends.

* ``hog`` (the default): OpenCV's HOG people detector. It needs no weights; it finds upright
  people at least about 100 pixels tall (smaller frames are upscaled first).
* ``torchvision``: a torchvision detection model (default ``fasterrcnn_mobilenet_v3_large_fpn``)
  with COCO weights from the torch hub cache or a file (``--detector-weights``); nothing is
  downloaded.
* ``boxes``: the user's own boxes, a JSON or CSV file per frame (see :class:`BoxesDetector`).
* ``full``: the whole image is the person (already-cropped photos).

Boxes are ``x0, y0, x1, y1`` in image pixels and mean *the person*, head to feet, as the crop
convention needs (:func:`crop_from_box`): the model's crop is a square centred on the box whose
side is ``crop_scale`` x the box's height, as in training (``crop_scale`` x the person's height).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from sa3dhp.camera import image_to_crop_affine

Boxes = tuple[np.ndarray, np.ndarray]  # (N, 4) float x0 y0 x1 y1, (N,) scores
Detector = Callable[[np.ndarray, int], Boxes]
DETECTORS = ("hog", "torchvision", "boxes", "full")
#: Height of the person inside a HOG window (INRIA people: about 96 of 128 pixels).
HOG_PERSON_SHARE = 0.75


class DetectorError(ValueError):
    """A detector cannot be built (missing weights, unreadable boxes file): one line."""


def _empty() -> Boxes:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.45) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    t = torch.as_tensor(boxes, dtype=torch.float32)
    from torchvision.ops import nms as tv_nms

    return tv_nms(t, torch.as_tensor(scores, dtype=torch.float32), iou).numpy()


def suppress_nested(boxes: np.ndarray, scores: np.ndarray, cover: float = 0.6) -> np.ndarray:
    """Indices of the boxes kept, best score first, when a box whose intersection with a better
    one covers ``cover`` of the smaller of the two is dropped (a detector's duplicates of one
    person at two scales, which IoU alone lets through)."""
    keep: list[int] = []
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    for i in np.argsort(-scores, kind="stable"):
        ok = True
        for j in keep:
            lo = np.maximum(boxes[i, :2], boxes[j, :2])
            hi = np.minimum(boxes[i, 2:], boxes[j, 2:])
            inter = float(np.prod(np.clip(hi - lo, 0, None)))
            if inter >= cover * max(min(area[i], area[j]), 1e-9):
                ok = False
                break
        if ok:
            keep.append(int(i))
    return np.array(keep, np.int64)


def select_people(boxes: np.ndarray, scores: np.ndarray, min_score: float) -> Boxes:
    """A detector's raw boxes ``(N, 4)`` and scores ``(N,)`` -> one box per person, best first:
    those scoring at least ``min_score``, after NMS and nested-box suppression."""
    keep = scores >= min_score
    boxes, scores = boxes[keep], scores[keep]
    order = nms(boxes, scores)
    boxes, scores = boxes[order], scores[order]
    order = suppress_nested(boxes, scores)
    return boxes[order], scores[order]


class HogDetector:
    """OpenCV's default HOG + linear-SVM people detector.

    Args:
        min_score: SVM margin below which a window is dropped.
        min_height: frames whose height is below this are upscaled to it first (the detector's
            window is 128 pixels tall).
        stride: step of the sliding window in pixels; 4 costs about 3x the time of 8. On the
            twelve synthetic validation videos (``benchmarks/hog_validation.py``, other seeds
            than ``benchmarks/predict_video.py``'s) 4 found the person in 80.1 % of the frames
            and 8 in 77.7 %.
    """

    def __init__(self, min_score: float = 0.5, min_height: int = 480, stride: int = 4) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.min_score = min_score
        self.min_height = min_height
        self.stride = int(stride)

    def __call__(self, frame: np.ndarray, index: int = 0) -> Boxes:
        return select_people(*self.windows(frame), self.min_score)

    def windows(self, frame: np.ndarray) -> Boxes:
        """Every window OpenCV's HOG keeps (SVM margin >= 0, grouped), as person boxes with their
        margins, before ``min_score``, NMS and nested-box suppression."""
        scale = max(1.0, self.min_height / frame.shape[0])
        img = cv2.resize(frame, None, fx=scale, fy=scale) if scale > 1 else frame
        rects, weights = self.hog.detectMultiScale(
            img, winStride=(self.stride, self.stride), padding=(8, 8), scale=1.05
        )
        if len(rects) == 0:
            return _empty()
        rects = np.asarray(rects, np.float32) / scale
        scores = np.asarray(weights, np.float32).reshape(-1)
        x, y, w, h = rects.T
        # the window has a margin around the person: keep its centre, shrink to the person
        cy, ph = y + h / 2, h * HOG_PERSON_SHARE
        boxes = np.stack([x + w * 0.1, cy - ph / 2, x + w * 0.9, cy + ph / 2], axis=1)
        return boxes, scores


class TorchvisionDetector:
    """A torchvision detection model's ``person`` boxes (COCO label 1).

    Args:
        name: a torchvision detection model name.
        weights: a state-dict file; default: the model's COCO weights in the torch hub cache.
        min_score: detections below this score are dropped.
        device: where the model runs.
    """

    def __init__(
        self,
        name: str = "fasterrcnn_mobilenet_v3_large_fpn",
        weights: str | None = None,
        min_score: float = 0.5,
        device: str | torch.device = "cpu",
    ) -> None:
        import torchvision

        try:
            enum = torchvision.models.get_model_weights(name)
        except ValueError as e:
            raise DetectorError(f"--detector torchvision: unknown model {name!r} ({e})") from None
        w = enum.DEFAULT
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(w.url).name
        path = Path(weights) if weights else cached
        if not path.is_file():
            raise DetectorError(
                f"--detector torchvision: no weights for {name} at {path}; put {Path(w.url).name} "
                "there (torchvision's weights API) or give --detector-weights FILE, or use "
                "--detector hog (needs no weights)"
            )
        model = torchvision.models.get_model(name, weights=None, weights_backbone=None)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception as e:
            raise DetectorError(f"{path}: not {name}'s weights ({type(e).__name__})") from None
        self.model = model.to(device).eval()
        self.device = torch.device(device)
        self.min_score = min_score
        self.person = 1

    @torch.no_grad()
    def __call__(self, frame: np.ndarray, index: int = 0) -> Boxes:
        x = torch.as_tensor(frame).permute(2, 0, 1).float().div(255).to(self.device)
        out = self.model([x])[0]
        keep = (out["labels"] == self.person) & (out["scores"] >= self.min_score)
        return out["boxes"][keep].cpu().numpy(), out["scores"][keep].cpu().numpy()


class BoxesDetector:
    """The user's boxes, per frame.

    JSON: ``{"<frame>": [[x0, y0, x1, y1(, score)], ...], ...}``, or the same keyed by input file
    name first (``{"clip.mp4": {"0": [...]}}``). CSV, with a header: ``frame,x0,y0,x1,y1`` and
    optionally ``score`` and ``file``. Frames without boxes have no person.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DetectorError(f"{self.path}: no such boxes file (JSON or CSV)")
        self.table: dict[str, dict[int, list[list[float]]]] = {}
        try:
            if self.path.suffix.lower() == ".csv":
                self._read_csv()
            else:
                self._read_json()
        except (ValueError, KeyError, TypeError) as e:
            raise DetectorError(f"{self.path}: not a boxes file ({e})") from None
        self.file = ""

    def _add(self, file: str, frame: int, row: list) -> None:
        row = [float(v) for v in row]
        if len(row) not in (4, 5) or not (row[2] > row[0] and row[3] > row[1]):
            raise ValueError(f"frame {frame}: a box is x0, y0, x1, y1[, score] with x1>x0, y1>y0")
        self.table.setdefault(file, {}).setdefault(int(frame), []).append(row)

    def _read_json(self) -> None:
        data = json.loads(self.path.read_text())
        if not isinstance(data, dict):
            raise ValueError("the top level must be an object keyed by frame (or file)")
        for key, value in data.items():
            if isinstance(value, dict):
                for frame, rows in value.items():
                    for row in rows:
                        self._add(key, int(frame), row)
            else:
                for row in value:
                    self._add("", int(key), row)

    def _read_csv(self) -> None:
        with self.path.open(newline="") as f:
            for rec in csv.DictReader(f):
                row = [rec["x0"], rec["y0"], rec["x1"], rec["y1"]]
                if rec.get("score") not in (None, ""):
                    row.append(rec["score"])
                self._add(rec.get("file") or "", int(rec["frame"]), row)

    def select(self, file: str) -> None:
        """Read the boxes of input ``file`` next (those keyed by no file apply to every input)."""
        self.file = file if file in self.table else ""

    def __call__(self, frame: np.ndarray, index: int = 0) -> Boxes:
        rows = self.table.get(self.file, {}).get(index, [])
        if not rows:
            return _empty()
        arr = np.array([r[:4] for r in rows], np.float32)
        return arr, np.array([r[4] if len(r) == 5 else 1.0 for r in rows], np.float32)


def full_frame(frame: np.ndarray, index: int = 0) -> Boxes:
    """The whole image as the person's box."""
    h, w = frame.shape[:2]
    return np.array([[0.0, 0.0, w, h]], np.float32), np.ones(1, np.float32)


def make_detector(
    name: str,
    boxes: str | None = None,
    weights: str | None = None,
    min_score: float | None = None,
    device: str | torch.device = "cpu",
    hog_stride: int = 4,
) -> Detector:
    """The detector ``name`` (one of :data:`DETECTORS`)."""
    if name == "hog":
        kw = {} if min_score is None else {"min_score": min_score}
        return HogDetector(stride=hog_stride, **kw)
    if name == "torchvision":
        kw = {} if min_score is None else {"min_score": min_score}
        return TorchvisionDetector(weights=weights, device=device, **kw)
    if name == "boxes":
        if not boxes:
            raise DetectorError("--detector boxes needs --boxes FILE (JSON or CSV)")
        return BoxesDetector(boxes)
    if name == "full":
        return full_frame
    raise DetectorError(f"--detector {name!r}: choose one of {', '.join(DETECTORS)}")


def crop_from_box(box: np.ndarray, crop_scale: float) -> np.ndarray:
    """The model's crop ``(u0, v0, side)`` for a person box ``(x0, y0, x1, y1)``: centred on the
    box, side ``crop_scale`` x its height (the training crop: ``crop_scale`` x the person's
    height at the pelvis)."""
    box = np.asarray(box, dtype=np.float64)
    centre = (box[..., :2] + box[..., 2:]) / 2
    side = crop_scale * (box[..., 3] - box[..., 1])
    return np.concatenate([centre, side[..., None]], axis=-1)


def cut_crop(frame: np.ndarray, crop: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` RGB crop ``(u0, v0, side)`` of ``frame`` (edge pixels repeat outside
    it). Large
    crops are cut at full resolution and area-averaged down, so they do not alias."""
    side = float(crop[2])
    native = int(np.clip(round(side), size, 4 * size))
    out = cv2.warpAffine(
        frame,
        image_to_crop_affine(crop, native),
        (native, native),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if native != size:
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    return out
