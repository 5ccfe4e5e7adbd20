"""The pose prior on *real* motion capture: DeepMimic's clips, written as BVH and converted.

    .venv/bin/pip install pybullet        # ships DeepMimic's motion clips (pybullet_data)
    .venv/bin/python benchmarks/real_mocap_prior.py [SYNTHETIC_RUN]   # default: out/demo

No real mocap is downloaded here, but pybullet's wheel ships the motion clips of DeepMimic
(Peng et al. 2018: human motion capture retargeted to its humanoid; walking, running,
jumps, kicks, dances, cartwheels, get-ups, turns; 34 + 6 s in all):
``pybullet_data/data/motions/{humanoid3d_*,walker/*}.txt``, one JSON file
per clip, each frame the root position (metres, y up) and the joints' local rotations
(quaternions w, x, y, z; knees and elbows one angle about z). This script:

1. writes each clip as a BVH file (centimetres, y up, ZYX Euler channels; the humanoid's bone
   offsets from ``pybullet_data/humanoid/humanoid.urdf`` at DeepMimic's scale of 0.25) and checks
   that the BVH reader gives back the clip's own forward kinematics within 1 mm;
2. converts them with the user's command, ``sa3dhp data convert bvh ... --clip-frames 10``
   (short clips, since some takes last under a second; the pose prior reads frames, not clips);
3. trains a pose prior on the converted split with the demo's settings and yaw augmentation
   (``pose_prior.augment_yaw=true``, the authors' choice, since each clip has one virtual
   camera): ``sa3dhp train pose-prior data.mocap=SPLIT``, holding out the clips of
   :data:`HELD_OUT` (fixed before any run);
4. measures reconstruction on the held-out real clips with ``sa3dhp evaluate prior``, as on the
   synthetic world, and crosses the two worlds: the synthetic world's prior (``SYNTHETIC_RUN``)
   on the held-out real clips, and the real prior on the synthetic held-out mocap.

Writes ``benchmarks/results/real_mocap_prior.json``; the runs go to ``out/real_mocap``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

#: Clips held out from the real prior's training (chosen before any run: one gait, one athletic
#: move, one dance); they come last, so ``data.mocap_holdout`` selects exactly them.
HELD_OUT = ("humanoid3d_run", "humanoid3d_spinkick", "humanoid3d_dance_b")
SCALE_CM = 25.0  # URDF units -> cm (DeepMimic loads the humanoid at 0.25 m per unit)
OUT = Path("out/real_mocap")
RESULT = Path("benchmarks/results/real_mocap_prior.json")
EVAL_KEYS = ("canonical_length_floor", "latent_ks", "random_decodes", "held_out_poses")

# the humanoid's joints: (BVH name, parent, offset in URDF units (x forward, y up, z right),
# index of its rotation in a frame (None: fixed), "quat" | "z" (one angle about z) | None)
_SKELETON = [
    ("Hips", None, (0, 0, 0), 4, "quat"),
    ("Spine", "Hips", (0, 0.944604, 0), 8, "quat"),  # DeepMimic's chest joint
    ("Spine1", "Spine", (0, 0.895576, 0), 12, "quat"),  # its neck joint, at the shoulders
    ("Neck", "Spine1", (0, 0.40, 0), None, None),  # ours: a point up the head (approximate)
    ("Head", "Neck", (0, 0.30, 0), None, None),
    ("RightUpLeg", "Hips", (0, 0, 0.339548), 16, "quat"),
    ("RightLeg", "RightUpLeg", (0, -1.686184, 0), 20, "z"),
    ("RightFoot", "RightLeg", (0, -1.639480, 0), 21, "quat"),
    ("RightArm", "Spine", (-0.0962, 0.974, 0.73244), 25, "quat"),
    ("RightForeArm", "RightArm", (0, -1.099152, 0), 29, "z"),
    ("RightHand", "RightForeArm", (0, -1.035788, 0), None, None),
    ("LeftUpLeg", "Hips", (0, 0, -0.339548), 30, "quat"),
    ("LeftLeg", "LeftUpLeg", (0, -1.686184, 0), 34, "z"),
    ("LeftFoot", "LeftLeg", (0, -1.639480, 0), 35, "quat"),
    ("LeftArm", "Spine", (-0.0962, 0.974, -0.73244), 39, "quat"),
    ("LeftForeArm", "LeftArm", (0, -1.099152, 0), 43, "z"),
    ("LeftHand", "LeftForeArm", (0, -1.035788, 0), None, None),
]
JOINTS = [s[0] for s in _SKELETON]
_END_SITES = {"Head": (0, 0.40, 0), "RightFoot": (0.72, -0.36, 0), "LeftFoot": (0.72, -0.36, 0)}
_END_SITES |= {"RightHand": (0, -0.3, 0), "LeftHand": (0, -0.3, 0)}


def motion_files() -> list[Path]:
    """DeepMimic's humanoid clips in pybullet_data, held-out ones last."""
    try:
        import pybullet_data
    except ImportError:
        sys.exit(
            "benchmarks/real_mocap_prior.py needs pybullet's data: .venv/bin/pip install pybullet"
        )
    root = Path(pybullet_data.getDataPath(), "data", "motions")
    files = sorted(root.glob("humanoid3d_*.txt")) + sorted(root.glob("walker/*.txt"))
    train = [f for f in files if f.stem not in HELD_OUT]
    return train + [f for f in files if f.stem in HELD_OUT]


def local_rotations(frames: np.ndarray) -> np.ndarray:
    """``(T, J, 3, 3)`` local rotation of each skeleton joint (identity where fixed)."""
    out = np.tile(np.eye(3), (len(frames), len(_SKELETON), 1, 1))
    for j, (_, _, _, idx, kind) in enumerate(_SKELETON):
        if kind == "quat":
            wxyz = frames[:, idx : idx + 4]
            out[:, j] = Rotation.from_quat(wxyz[:, [1, 2, 3, 0]]).as_matrix()
        elif kind == "z":
            out[:, j] = Rotation.from_euler("z", frames[:, idx : idx + 1]).as_matrix()
    return out


def forward_kinematics(frames: np.ndarray) -> np.ndarray:
    """``(T, J, 3)`` world joint positions (cm) from the clip's own rotations."""
    rot = local_rotations(frames)
    world_r, world_p = {}, {}
    for j, (name, parent, offset, _, _) in enumerate(_SKELETON):
        off = np.asarray(offset) * SCALE_CM
        if parent is None:
            world_r[name], world_p[name] = rot[:, j], frames[:, 1:4] * 100.0
        else:
            pr = world_r[parent]
            world_p[name] = world_p[parent] + pr @ off
            world_r[name] = pr @ rot[:, j]
    return np.stack([world_p[n] for n in JOINTS], axis=1)


def write_bvh(frames: np.ndarray, fps: float, path: Path) -> None:
    """The clip as a BVH file: centimetres, y up, ``Zrotation Yrotation Xrotation`` channels."""
    children: dict[str | None, list[int]] = {}
    for j, s in enumerate(_SKELETON):
        children.setdefault(s[1], []).append(j)
    lines, order = ["HIERARCHY"], []  # order: joints as the hierarchy lists them

    def emit(j: int, depth: int) -> None:
        name, parent, offset, _, _ = _SKELETON[j]
        order.append(j)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parent is None else 'JOINT'} {name}")
        lines.append(pad + "{")
        o = np.asarray(offset) * SCALE_CM
        lines.append(f"{pad}  OFFSET {o[0]:.4f} {o[1]:.4f} {o[2]:.4f}")
        pos = "Xposition Yposition Zposition " if parent is None else ""
        lines.append(
            f"{pad}  CHANNELS {6 if parent is None else 3} {pos}Zrotation Yrotation Xrotation"
        )
        for c in children.get(name, []):  # the motion lines follow this depth-first order
            emit(c, depth + 1)
        if name in _END_SITES:
            e = np.asarray(_END_SITES[name]) * SCALE_CM
            lines.extend(
                [
                    f"{pad}  End Site",
                    pad + "  {",
                    f"{pad}    OFFSET {e[0]:.4f} {e[1]:.4f} {e[2]:.4f}",
                ]
            )
            lines.append(pad + "  }")
        lines.append(pad + "}")

    emit(0, 0)
    rot = local_rotations(frames)[:, order]
    euler = Rotation.from_matrix(rot.reshape(-1, 3, 3)).as_euler("ZYX", degrees=True)
    euler = euler.reshape(len(frames), -1)
    values = np.concatenate([frames[:, 1:4] * 100.0, euler], axis=1)
    lines += ["MOTION", f"Frames: {len(frames)}", f"Frame Time: {1.0 / fps:.7f}"]
    lines += [" ".join(f"{v:.5f}" for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")


def read_clip(path: Path) -> tuple[np.ndarray, float]:
    """A DeepMimic clip: its frames ``(T, 44)`` and frame rate."""
    frames = np.asarray(json.loads(path.read_text())["Frames"], dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != 44:
        sys.exit(f"{path}: expected frames of 44 values (DeepMimic humanoid), got {frames.shape}")
    return frames, 1.0 / float(frames[0, 0])


def sa3dhp(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "sa3dhp", *args], check=True)


def main() -> None:
    from sa3dhp.config import load_config
    from sa3dhp.convert.bvh import read_bvh
    from sa3dhp.data import splits
    from sa3dhp.data.store import read_split
    from sa3dhp.data.synth import load_split
    from sa3dhp.prior_metrics import pose_reconstruction
    from sa3dhp.runs import priors

    synthetic_run = sys.argv[1] if len(sys.argv) > 1 else "out/demo"
    bvh_dir, split_dir = OUT / "bvh", OUT / "split"
    bvh_dir.mkdir(parents=True, exist_ok=True)
    clips, fk_err = [], 0.0
    for i, f in enumerate(motion_files()):
        frames, fps = read_clip(f)
        path = bvh_dir / f"{i:02d}_{f.parent.name}_{f.stem}.bvh"
        write_bvh(frames, fps, path)
        got = read_bvh(path)
        ours = forward_kinematics(frames)[:, [JOINTS.index(n) for n in got.names]]
        fk_err = max(fk_err, float(np.abs(got.positions - ours).max()) * 10)
        clips.append({"clip": f.stem, "frames": len(frames), "fps": round(fps, 3)})
    assert fk_err < 1.0, f"BVH round trip off by {fk_err:.3f} mm"
    if not split_dir.exists():
        files = sorted(str(p) for p in bvh_dir.glob("*.bvh"))
        sa3dhp("data", "convert", "bvh", *files, "--out", str(split_dir), "--clip-frames", "10")
    split = read_split(split_dir)
    meta = json.loads((split_dir / "meta.json").read_text())
    n_clips = len(np.unique(split.clip))
    # the held-out motions' clips are the last ones (their files come last): hold out exactly them
    names = [Path(n).stem.split("_", 2)[2] for n in meta["subjects"]]
    held_subjects = [i for i, n in enumerate(names) if n in HELD_OUT]
    n_held = len(np.unique(split.clip[np.isin(split.subject, held_subjects)]))
    assert np.isin(split.subject[split.clip >= n_clips - n_held], held_subjects).all()
    fraction = n_held / n_clips
    overrides = [
        "--config", "demo", f"out_dir={OUT}", f"data.mocap={split_dir}",
        f"data.mocap_holdout={fraction!r}", "pose_prior.augment_yaw=true",
    ]  # fmt: skip
    trained_before = (OUT / "pose_prior" / "checkpoint.safetensors").exists()
    t0 = time.perf_counter()
    sa3dhp("train", "pose-prior", *overrides)  # skipped when that run is finished
    train_s = time.perf_counter() - t0
    if trained_before and RESULT.exists():  # keep the time of the run that trained it
        train_s = json.loads(RESULT.read_text()).get("train_seconds", train_s)
    sa3dhp("evaluate", "prior", *overrides)
    real_eval = json.loads((OUT / "pose_prior" / "prior_eval.json").read_text())

    real_cfg = load_config("demo", [f"out_dir={OUT}", f"data.mocap={split_dir}"])
    synth_cfg = load_config("demo", [f"out_dir={synthetic_run}"])
    real_val = splits.split_frames(split.poses, split.clip, fraction)[1]
    synth_mocap = load_split(synth_cfg.data, "mocap", images=False)
    synth_val = splits.split_frames(
        synth_mocap.poses, synth_mocap.clip, synth_cfg.data.mocap_holdout
    )[1]

    real_prior, synth_prior = priors.load_pose_prior(real_cfg), priors.load_pose_prior(synth_cfg)

    def rec(prior, poses) -> dict:
        r = pose_reconstruction(prior, poses)
        return {"mpjpe": round(r["val_mpjpe"], 2), "pa_mpjpe": round(r["val_pa_mpjpe"], 2)}

    def per_motion(prior) -> dict:
        """MPJPE (mm) of each motion's frames, trained on or held out."""
        return {
            n: round(pose_reconstruction(prior, split.poses[split.subject == i])["val_mpjpe"], 1)
            for i, n in enumerate(names)
        }

    out = {
        "what": "the pose prior on real mocap (DeepMimic's clips as BVH), and across worlds",
        "source": "pybullet_data/data/motions/{humanoid3d_*,walker/*}.txt (DeepMimic)",
        "clips": clips,
        "bvh_round_trip_max_error_mm": round(fk_err, 4),
        "converted": {"frames": len(split.poses), "clips": n_clips, "held_out_clips": n_held},
        "held_out_motions": list(HELD_OUT),
        "femur_mm": round(
            float(np.linalg.norm(split.poses[:, 1] - split.poses[:, 2], axis=-1).mean()), 1
        ),
        "train_seconds": round(train_s, 1),
        "rows": {
            "real_prior_on_real_held_out": real_eval["pose_reconstruction"],
            "synthetic_prior_on_real_held_out": rec(synth_prior, real_val),
            "real_prior_on_synthetic_held_out": rec(real_prior, synth_val),
            "synthetic_prior_on_synthetic_held_out": rec(synth_prior, synth_val),
        },
        "per_motion_mpjpe": {
            "synthetic_prior": per_motion(synth_prior),
            "real_prior (held-out motions last)": per_motion(real_prior),
        },
        "real_prior_eval": {k: real_eval[k] for k in EVAL_KEYS},
        "synthetic_run": synthetic_run,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
