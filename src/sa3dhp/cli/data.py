"""The data commands (``data synth|preview|video``) and the relation catalogue's
(``relations figure|score``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sa3dhp.cli.common import _add_config_args, _load


def cmd_data_synth(args: argparse.Namespace) -> int:
    from sa3dhp.data.synth import build_world

    cfg = _load(args)
    t0 = time.perf_counter()
    root = build_world(cfg.data, force=args.force)
    print(f"synthetic world ready in {root} ({time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_data_preview(args: argparse.Namespace) -> int:
    from sa3dhp.data.preview import write_preview

    cfg = _load(args)
    path = write_preview(cfg.data, Path(args.out))
    print(f"wrote {path}")
    return 0


def cmd_data_video(args: argparse.Namespace) -> int:
    from sa3dhp.data.video import synthetic_video, write_synthetic_video

    cfg = _load(args)
    video = synthetic_video(
        cfg.data, args.frames, args.width, args.height, args.person_px, args.domain, args.seed
    )
    for what, path in write_synthetic_video(video, args.out).items():
        print(f"wrote {what}: {path}")
    return 0


def cmd_relations_figure(args: argparse.Namespace) -> int:
    from sa3dhp.demo import write_relations_figure

    cfg = _load(args)
    print(f"wrote {write_relations_figure(cfg, Path(args.out))}")
    return 0


def cmd_relations_score(args: argparse.Namespace) -> int:
    from sa3dhp.runs.relation_nets import score_relations
    from sa3dhp.scoring import markdown_table

    names = args.relations.split(",") if args.relations else None
    rows, files = score_relations(_load(args), names, args.out)
    print(markdown_table(rows))
    print("\n".join(f"wrote {p}" for p in files.values()))
    return 0


def cmd_data_convert(args: argparse.Namespace) -> int:
    from sa3dhp.convert import convert
    from sa3dhp.convert.mocap import MocapConvertConfig

    mocap_clip = args.clip_frames if args.clip_frames is not None else 60
    cfg = MocapConvertConfig(fps=args.fps, clip_frames=mocap_clip, seed=args.seed)
    out = convert(
        args.format, args.inputs, args.out, cfg, args.units, args.up, args.source_fps,
        args.cameras, args.clip_frames or 0, args.detector, args.crop_scale, args.size,
        {
            k: v
            for k, v in (("calibration", args.calibration), ("joints", args.joints),
                         ("images", args.images))
            if v
        },
    )  # fmt: skip
    print(f"wrote {out}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``data`` and ``relations`` on the top-level sub-command parser."""
    data = sub.add_parser(
        "data", help="the synthetic world, test videos and dataset converters"
    ).add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    p = data.add_parser("synth", help="build every split of the synthetic world (cached)")
    p.add_argument("--force", action="store_true", help="rebuild even if cached")
    _add_config_args(p)
    p.set_defaults(func=cmd_data_synth)
    p = data.add_parser("preview", help="PNG grid of source/target samples and relation clips")
    p.add_argument("--out", default="docs/preview.png", help="output PNG")
    _add_config_args(p)
    p.set_defaults(func=cmd_data_preview)
    p = data.add_parser(
        "video",
        help="an MP4 of one synthetic person moving across a frame, with its true boxes and "
        "poses (to try `predict`)",
    )
    p.add_argument("--out", default="out/person.mp4", help="output MP4 (default out/person.mp4)")
    p.add_argument("--frames", type=int, default=90, help="frames at 30 FPS (default 90)")
    p.add_argument("--width", type=int, default=640, help="frame width (default 640)")
    p.add_argument("--height", type=int, default=480, help="frame height (default 480)")
    p.add_argument(
        "--person-px", type=int, default=300, help="side of the person's crop (default 300)"
    )
    p.add_argument("--domain", default="target", choices=["source", "target"])
    p.add_argument("--seed", type=int, default=0)
    _add_config_args(p)
    p.set_defaults(func=cmd_data_video)
    from sa3dhp.convert import FORMATS, UNITS

    p = data.add_parser(
        "convert",
        help="a dataset's files -> one split in sa3dhp's format (read_split reads it)",
        description="Convert mocap files into a pose-only split: our 17 joints, mm, placed in "
        "virtual cameras (root-relative, camera frame), resampled to --fps and cut into clips "
        "of --clip-frames. Formats: bvh (any channel order), cmu-amc (one SUBJECT.asf and "
        "its .amc takes), h36m (D3_Positions .cdf, 3d-pose-baseline .h5 or VideoPose3D .npz, "
        "with --cameras: one pose per camera), surreal (*_info.mat + .mp4 crops), 3dpw "
        "(sequence .pkl), mpi-inf-3dhp (annot.mat + --calibration, or the test annot_data.mat), "
        "mmpose-npz (--joints h36m|3dhp), lsp (joints.mat, 2D), videos (a folder of unlabelled "
        "videos -> a target split of person-detected, tracked crops).",
    )
    p.add_argument("format", choices=FORMATS)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders")
    p.add_argument("--out", required=True, help="the split directory to write")
    p.add_argument(
        "--units", default="auto", choices=["auto", *UNITS], help="BVH units (default: auto)"
    )
    p.add_argument("--up", default="y", choices=["y", "z"], help="the files' up axis (y)")
    p.add_argument(
        "--source-fps",
        type=float,
        default=None,
        help="input frame rate where files do not store it (AMC: 120, Human3.6M: 50)",
    )
    p.add_argument("--cameras", default=None, help="h36m: cameras.h5 or cameras.pkl")
    p.add_argument(
        "--detector", default="hog", choices=["hog", "torchvision", "full"],
        help="videos: the person detector (default hog)",
    )  # fmt: skip
    p.add_argument("--crop-scale", type=float, default=1.7, help="crop side / person height")
    p.add_argument("--size", type=int, default=64, help="crop size in pixels (64)")
    p.add_argument(
        "--calibration", default=None, help="mpi-inf-3dhp training: its camera.calibration"
    )
    p.add_argument(
        "--joints", default=None, choices=["h36m", "3dhp"], help="mmpose-npz: its joint order"
    )
    p.add_argument(
        "--images",
        default=None,
        help="the frames of the crops: 3dpw: the folder with imageFiles/; h36m: the folder "
        "with S*/Videos/; mpi-inf-3dhp: the sequence folder with imageSequence/ (training: "
        "video_<camera>.avi; test TS*: img_XXXXXX.jpg); mmpose-npz: where imgname starts",
    )
    p.add_argument("--fps", type=float, default=30.0, help="output frame rate (default 30)")
    p.add_argument(
        "--clip-frames",
        type=int,
        default=None,
        help="frames per clip (mocap formats and videos: 60; h36m: whole sequences unless given)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the virtual cameras")
    p.set_defaults(func=cmd_data_convert)

    rel = sub.add_parser("relations", help="the relation catalogue").add_subparsers(
        dest="relations_command", required=True, metavar="SUBCOMMAND"
    )
    p = rel.add_parser("figure", help="one pose and one motion under each relation (PNG)")
    p.add_argument("--out", default="out/relations.png", help="output PNG")
    _add_config_args(p)
    p.set_defaults(func=cmd_relations_figure)
    p = rel.add_parser(
        "score",
        help="rank relations by non-localness, plausibility and network fit (table, JSON, PNG)",
    )
    p.add_argument(
        "--relations", default=None, help="comma-separated names (default: the whole catalogue)"
    )
    p.add_argument("--out", default=None, help="output directory (default: OUT_DIR/relations)")
    _add_config_args(p)
    p.set_defaults(func=cmd_relations_score)
