"""The ``sa3dhp`` command line (also ``python -m sa3dhp``).

Every command takes ``--config NAME|PATH`` (a built-in name such as ``demo`` or a YAML file) and
trailing ``key.sub=value`` overrides, e.g. ``sa3dhp data synth data.size=128``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sa3dhp.cli import apply, data
from sa3dhp.cli.common import EPILOG, _add_config_args, _add_force_arg, _load


def cmd_train_pose_prior(args: argparse.Namespace) -> int:
    from sa3dhp.runs.priors import train_pose_prior

    print(json.dumps(train_pose_prior(_load(args), force=args.force), indent=1))
    return 0


def cmd_train_motion_prior(args: argparse.Namespace) -> int:
    from sa3dhp.runs.priors import train_motion_prior

    print(json.dumps(train_motion_prior(_load(args), force=args.force), indent=1))
    return 0


def cmd_train_source(args: argparse.Namespace) -> int:
    from sa3dhp.runs.image_models import train_image_model

    print(json.dumps(train_image_model(_load(args), args.variant, force=args.force), indent=1))
    return 0


def cmd_train_relations(args: argparse.Namespace) -> int:
    from sa3dhp.runs.relation_nets import train_relations

    names = args.relations.split(",") if args.relations else None
    print(json.dumps(train_relations(_load(args), names, args.force), indent=1))
    return 0


def _init_checkpoint(path: str | None) -> Path | None:
    """``--init``: a G checkpoint file, or a run folder holding one; refused, in one line, when
    there is none."""
    if path is None:
        return None
    p = Path(path)
    p = p / "checkpoint.safetensors" if p.is_dir() else p
    if not p.is_file():
        raise FileNotFoundError(
            f"--init {path}: no G checkpoint there (give a run folder such as OUT_DIR/adapted, "
            "or its checkpoint.safetensors)"
        )
    return p


def cmd_adapt(args: argparse.Namespace) -> int:
    from sa3dhp.runs.adaptation import adabn, adapt

    cfg = _load(args)
    init = _init_checkpoint(args.init)
    if args.adabn:  # recomputed every time: --force changes nothing
        name = args.name or ("adabn_videos" if args.videos else "adabn")
        out = adabn(cfg, name, init, args.videos, args.detector, args.boxes)
        print(json.dumps(out, indent=1))
        print(f"model: {Path(cfg.out_dir) / name} (sa3dhp predict --model that folder)")
        return 0
    losses = args.losses.split(",") if args.losses else None
    name = args.name or ("adapted_videos" if args.videos else "adapted")
    out = adapt(
        cfg, name, losses, init, force=args.force, videos=args.videos, detector=args.detector,
        boxes=args.boxes,
    )  # fmt: skip
    print(json.dumps(out, indent=1))
    print(f"adapted model: {Path(cfg.out_dir) / name} (sa3dhp predict --model that folder)")
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    from sa3dhp import ablate

    cfg = _load(args)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.table == "rows":
        result = ablate.ablate_rows(cfg, seeds)
    else:
        angles = [float(a) for a in args.angles.split(",")] if args.angles else None
        angles = [int(a) if a == int(a) else a for a in angles] if angles else None
        result = ablate.ablate_inplane(cfg, seeds, angles)
    print(ablate.markdown(args.table, result))
    return 0


def _cmd_protocol(args: argparse.Namespace) -> int:
    import numpy as np

    from sa3dhp.data.store import read_split
    from sa3dhp.protocols import evaluate_protocol

    if not args.data:
        raise ValueError("--protocol needs --data DIR (a split made by `sa3dhp data convert`)")
    split = read_split(args.data, images=args.predictions is None)
    if args.predictions:
        with np.load(args.predictions) as z:
            key = next((k for k in ("pred", "pose_mm", "poses") if k in z.files), None)
            if key is None:
                raise ValueError(f"{args.predictions}: no 'pred' (or pose_mm) array of (F, 17, 3)")
            pred = z[key]
    else:
        if not args.checkpoint or split.images is None:
            raise ValueError(
                "--protocol needs --predictions FILE.npz, or --checkpoint MODEL with a split "
                "that holds crops"
            )
        from sa3dhp.inference import load_image_model, predict

        model, prior, _ = load_image_model(args.checkpoint)
        pred = predict(model, prior, split.images)
    print(json.dumps(evaluate_protocol(args.protocol, split, pred), indent=1))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from sa3dhp.runs.image_models import evaluate_image_model
    from sa3dhp.runs.prior_eval import evaluate_prior

    if args.protocol:
        return _cmd_protocol(args)

    if args.overrides and args.overrides[0] == "prior":
        args.overrides = args.overrides[1:]
        if args.checkpoint:
            raise ValueError(
                "evaluate prior judges the config's pose and motion priors (OUT_DIR/pose_prior, "
                "OUT_DIR/motion_prior); --checkpoint is for image models: choose them with "
                "out_dir=DIR instead"
            )
        out = evaluate_prior(_load(args))
        out.pop("latent_ks_per_dim")
        print(json.dumps(out, indent=1))
        return 0
    table = evaluate_image_model(_load(args), args.checkpoint, args.split, args.variant)
    keys = ("overall", "frames", "metrics_file")
    print(json.dumps({k: table[k] for k in keys}, indent=1))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sa3dhp.demo import run_demo

    if args.quick and args.config == "demo":
        args.config = "quick"
    cfg = _load(args)
    if args.out:
        cfg.out_dir = args.out
    if args.force:
        from sa3dhp.pipeline import remove_runs

        remove_runs(cfg)
    summary = run_demo(cfg)
    print(json.dumps(summary, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="sa3dhp",
        description="Self-adaptive 3D human pose estimation by non-local latent relation "
        "distillation (Kundu et al., NeurIPS 2021).",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on the embedded synthetic world (--config bench: the "
        "headline profile, `make bench`)",
    )
    p.add_argument("--quick", action="store_true", help="smoke profile (a few minutes)")
    p.add_argument(
        "--out", default=None, help="output directory (default: the config's out_dir, out/demo)"
    )
    _add_force_arg(p, "delete every stage's run under the output directory first")
    _add_config_args(p)
    p.set_defaults(func=cmd_demo)

    data.add_commands(sub)

    train = sub.add_parser("train", help="train a stage of Algorithm 1").add_subparsers(
        dest="train_command", required=True, metavar="STAGE"
    )
    p = train.add_parser("pose-prior", help="step 2: the pose AAE {Ep, Dp} on unpaired mocap")
    _add_force_arg(p)
    _add_config_args(p)
    p.set_defaults(func=cmd_train_pose_prior)
    p = train.add_parser("motion-prior", help="step 3: the BiLSTM motion AE {Em, Dm}")
    _add_force_arg(p)
    _add_config_args(p)
    p.set_defaults(func=cmd_train_motion_prior)

    p = train.add_parser("source", help="step 4: the image-to-latent regressor Gs (or a baseline)")
    p.add_argument(
        "--variant",
        choices=["source", "direct", "oracle"],
        default="source",
        help="source: ours (FK(Dp(G(x))) on source labels); direct: direct-regression baseline; "
        "oracle: trained on target_oracle labels (upper bound)",
    )
    _add_force_arg(p)
    _add_config_args(p)
    p.set_defaults(func=cmd_train_source)

    p = train.add_parser(
        "relations",
        help="steps 5-6: relation networks Tz/Tv on unpaired mocap (one file per relation)",
    )
    p.add_argument(
        "--relations",
        default=None,
        help="comma-separated relation names, e.g. flip,flip+inplane50,flip-backward,"
        "slow-backward (default: relations.relations of the config)",
    )
    _add_force_arg(p, "delete and re-train the relations given (others are kept)")
    _add_config_args(p)
    p.set_defaults(func=cmd_train_relations)

    p = sub.add_parser(
        "adapt",
        help="steps 8-11: adapt Gs on unlabelled target videos (or the AdaBN baseline)",
        description="Adapt Gs to the unlabelled target_train clips with contrastive and "
        "relation-distillation losses; only adapt.trainable blocks (default layer2) change. "
        "The run's last checkpoint is the result; evaluate it with "
        "`sa3dhp evaluate --checkpoint OUT_DIR/adapted/checkpoint.safetensors`.",
    )
    p.add_argument(
        "--losses",
        default=None,
        help="comma-separated terms: cr, hcr, z:RELATION, v:RELATION, or a named set: paper "
        "(the paper's final set: cr,z:flip+inplane50,v:flip+inplane50-backward,v:slow-backward) "
        "(default: adapt.losses = cr,z:flip,v:flip-backward,v:slow-backward)",
    )
    p.add_argument(
        "--name",
        default=None,
        help="run directory under OUT_DIR (default: adapted, or adapted_videos with --videos)",
    )
    p.add_argument(
        "--videos",
        nargs="+",
        default=None,
        metavar="VIDEO",
        help="adapt to the people in these videos (files, folders, globs) instead of "
        "target_train: person-detected, tracked crops become the unlabelled target clips",
    )
    p.add_argument(
        "--detector",
        default="hog",
        choices=["hog", "torchvision", "boxes", "full"],
        help="person detector for --videos (default hog)",
    )
    p.add_argument("--boxes", default=None, help="boxes file for --detector boxes")
    p.add_argument(
        "--adabn",
        action="store_true",
        help="only re-estimate BatchNorm statistics (AdaBN), on target_train or with --videos on "
        "the people in those videos (default --name adabn, or adabn_videos)",
    )
    p.add_argument(
        "--init",
        default=None,
        metavar="CHECKPOINT",
        help="start from this G (a run folder or its checkpoint.safetensors) instead of "
        "OUT_DIR/source; e.g. --adabn --init OUT_DIR/adapted --name adapted_adabn re-estimates "
        "an adapted model's BatchNorm statistics on target_train",
    )
    _add_force_arg(p, "delete the run directory (--name) first and start afresh")
    _add_config_args(p)
    p.set_defaults(func=cmd_adapt)

    ablate = sub.add_parser(
        "ablate",
        help="the supplement's ablation tables (rows: loss by loss; inplane: Table 2)",
        description="Run every row as an actual adaptation run (once per seed) from the "
        "config's Gs and evaluate it on target_test; writes OUT_DIR/ablate/TABLE.json and .md. "
        "Needs the priors and Gs (run `sa3dhp demo` first).",
    ).add_subparsers(dest="table", required=True, metavar="TABLE")
    for table, text in (
        ("rows", "oracle, direct, Gs, AdaBN, then + L_CR, + L_z(flip), + L_v(flip-backward), "
         "+ L_v(slow-backward)"),
        ("inplane", "supplement Table 2: lower-order L_z(inplane-θ), flip, flip+inplane50 and "
         "their higher-order (-backward) counterparts"),
    ):  # fmt: skip
        p = ablate.add_parser(table, help=text)
        p.add_argument("--seeds", default="0,1,2", help="comma-separated adaptation seeds")
        if table == "inplane":
            p.add_argument("--angles", default=None, help="angles (default 10,25,50,75,100,125)")
        _add_config_args(p)
        p.set_defaults(func=cmd_ablate)

    p = sub.add_parser(
        "evaluate",
        help="3D pose metrics of an image model on a split; `evaluate prior` judges the priors",
        description="sa3dhp evaluate [--checkpoint PATH] [--split SPLIT] [overrides]  |  "
        "sa3dhp evaluate prior [overrides]",
    )
    p.add_argument("--checkpoint", default=None, help="G checkpoint (default: the config's run)")
    p.add_argument(
        "--split",
        default="target_test",
        choices=["target_test", "target_val", "source_val", "target_oracle", "source_train"],
        help="outputs go beside the checkpoint as metrics_<split>.json; on other data than the "
        "run's own (data.paths.<split>=DIR, data.seed=...) as metrics_<split>-<data hash>.json",
    )
    from sa3dhp.protocols import PROTOCOLS

    p.add_argument(
        "--protocol",
        default=None,
        choices=PROTOCOLS,
        help="a standard protocol on a converted split (--data), from --predictions or "
        "--checkpoint; prints the paper's numbers beside ours",
    )
    p.add_argument("--data", default=None, help="--protocol: the converted split directory")
    p.add_argument(
        "--predictions", default=None, help="--protocol: an npz with 'pred' (F, 17, 3) mm"
    )
    p.add_argument(
        "--variant",
        default="source",
        choices=["source", "direct", "oracle"],
        help="which run when no --checkpoint",
    )
    _add_config_args(p)
    p.set_defaults(func=cmd_evaluate)

    apply.add_commands(sub)

    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sa3dhp`` console script."""
    parser = build_parser()
    # key=value overrides may come anywhere, also after an option (`out_dir=X --relations R
    # device=cpu`): argparse leaves the later ones over, and they join the others here
    args, extra = parser.parse_known_args(argv)
    unknown = [a for a in extra if a.startswith("-") or "=" not in a]
    if unknown or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(unknown or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as e:
        print(f"sa3dhp: error: {e}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as e:
        if not isinstance(e, MemoryError) and "allocate" not in str(e):
            raise
        print(
            f"sa3dhp: error: out of memory ({_first_line(e)}); the configured model or batch "
            "is too large for this machine: use smaller sizes (e.g. source.batch_size, "
            "pose_prior.hidden)",
            file=sys.stderr,
        )
        return 2


def _first_line(e: BaseException, limit: int = 120) -> str:
    text = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
    return text if len(text) <= limit else text[: limit - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
