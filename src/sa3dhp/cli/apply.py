"""The commands that use a trained model: ``export`` (one-file models, ONNX) and ``predict``."""

from __future__ import annotations

import argparse
import json

from sa3dhp.detect import DETECTORS
from sa3dhp.people import TRACK_HEIGHT_FRAMES


def cmd_export_model(args: argparse.Namespace) -> int:
    from sa3dhp.model_file import export_model

    out = export_model(args.source, args.out)
    print(f"wrote {out}")
    return 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from sa3dhp.onnx_export import export_onnx

    out = export_onnx(args.model, args.out)
    print(f"wrote {out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from sa3dhp.predict import PredictOptions, predict_files

    if args.batch < 1:
        raise ValueError(f"--batch {args.batch}: must be at least 1")
    if args.fill_gaps < 0:
        raise ValueError(f"--fill-gaps {args.fill_gaps}: must be 0 (off) or more frames")
    if args.track_height < 0:
        raise ValueError(f"--track-height {args.track_height}: must be 0 (off) or more frames")
    opts = PredictOptions(
        detector=args.detector,
        boxes=args.boxes,
        detector_weights=args.detector_weights,
        min_score=args.min_score,
        hog_stride=args.hog_stride,
        max_people=args.max_people,
        fill_gaps=args.fill_gaps,
        track_height=args.track_height,
        batch=args.batch,
        smooth=args.smooth,
        render=args.render,
        device=args.device,
        crop_scale=args.crop_scale,
    )
    summary = predict_files(args.inputs, args.model, args.out, opts)
    print(json.dumps(summary, indent=1))
    missing = summary["frames_without_person"]
    if missing:
        print(f"{missing} of {summary['frames']} frames had no person", flush=True)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``export`` and ``predict`` on the top-level sub-command parser."""
    export = sub.add_parser("export", help="one-file models").add_subparsers(
        dest="export_command", required=True, metavar="FORMAT"
    )
    p = export.add_parser(
        "model",
        help="G, its pose decoder, the crop size and convention, the joint names and the run's "
        "config in one safetensors file (movable; `predict --model` and `evaluate --checkpoint` "
        "read it)",
    )
    p.add_argument("source", help="a G run directory (e.g. out/demo/adapted) or its checkpoint")
    p.add_argument("--out", required=True, help="the model file to write (MODEL.safetensors)")
    p.set_defaults(func=cmd_export_model)
    p = export.add_parser(
        "onnx",
        help="a model file as ONNX: uint8 crops (B, 3, S, S) -> poses (B, 17, 3) mm, FK included, "
        "any batch size (needs pip install 'sa3dhp[onnx]')",
    )
    p.add_argument("model", help="a model file (`sa3dhp export model`)")
    p.add_argument("--out", required=True, help="the ONNX file to write (MODEL.onnx)")
    p.set_defaults(func=cmd_export_onnx)

    p = sub.add_parser(
        "predict",
        help="3D poses of the people in images and videos (JSONL + NPZ; --render draws them)",
        description="Find the people in each image or video frame, cut the model's crop from "
        "each box, and predict their 17x3 poses (mm, root-relative, camera frame) and 2D "
        "joints (image pixels). Writes predictions.jsonl, predictions.npz and summary.json "
        "into --out.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images, videos, folders or globs")
    p.add_argument(
        "--model", required=True, help="a model file (`sa3dhp export model`) or a G checkpoint"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--detector",
        default="hog",
        choices=DETECTORS,
        help="hog: OpenCV's people detector, no weights (default); torchvision: a detection "
        "model with cached or given weights; boxes: your own (--boxes); full: the whole image "
        "is the person",
    )
    p.add_argument("--boxes", default=None, help="JSON or CSV boxes per frame (--detector boxes)")
    p.add_argument(
        "--detector-weights", default=None, help="state dict of the torchvision detector"
    )
    p.add_argument("--min-score", type=float, default=None, help="detector score threshold")
    p.add_argument(
        "--hog-stride",
        type=int,
        default=4,
        choices=[4, 8],
        help="HOG's window step (default 4; 8 is about 3x faster; benchmarks/hog_validation.py)",
    )
    p.add_argument("--max-people", type=int, default=0, help="best N boxes per frame (0: all)")
    p.add_argument(
        "--fill-gaps",
        type=int,
        default=0,
        metavar="N",
        help="videos: a track the detector misses for up to N frames keeps its box there, "
        "moved on at the track's velocity (written with filled: true, score 0; default 0: off)",
    )
    p.add_argument(
        "--track-height",
        type=int,
        default=TRACK_HEIGHT_FRAMES,
        metavar="N",
        help="videos: each box as tall as its track's tallest over its last N detections, its "
        "bottom kept, because a crouch or bend shrinks the detector's box but not the standing "
        f"height the crop needs (default {TRACK_HEIGHT_FRAMES}; 0: the detector's own boxes)",
    )
    p.add_argument(
        "--crop-scale", type=float, default=None, help="crop side / box height (default: model's)"
    )
    p.add_argument("--batch", type=int, default=64, help="crops per forward pass (default 64)")
    p.add_argument("--smooth", action="store_true", help="One-Euro filter over each track")
    p.add_argument(
        "--render",
        action="store_true",
        help="also write <name>.mp4 per video and <name>.png per image: the 2D skeleton on the "
        "frame beside the 3D pose from the camera and from the side",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (default: auto)")
    p.set_defaults(func=cmd_predict)
