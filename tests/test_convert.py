"""Converters: small files in the real BVH and ASF/AMC layouts, with joint positions known by
construction, converted and checked (positions within 1 mm up to the virtual camera's rigid
motion, left stays left, units, bad input)."""

from __future__ import annotations

import numpy as np
import pytest

from sa3dhp import cli
from sa3dhp import skeleton as sk
from sa3dhp.convert import convert
from sa3dhp.convert.mocap import ConvertError, MocapConvertConfig, to_y_down
from sa3dhp.data.store import read_split

CFG = MocapConvertConfig(clip_frames=2)

# ------------------------------------------------------------------------------------- BVH
# a CMU-style hierarchy in cm, y up, the person facing +z (their left is +x)
_BVH_JOINTS = [  # name, parent, offset (cm), end site
    ("Hips", None, (0, 0, 0), None),
    ("LeftUpLeg", "Hips", (10, 0, 0), None),
    ("LeftLeg", "LeftUpLeg", (0, -45, 0), None),
    ("LeftFoot", "LeftLeg", (0, -45, 0), (0, 0, 10)),
    ("RightUpLeg", "Hips", (-10, 0, 0), None),
    ("RightLeg", "RightUpLeg", (0, -45, 0), None),
    ("RightFoot", "RightLeg", (0, -45, 0), (0, 0, 10)),
    ("Spine", "Hips", (0, 20, 0), None),
    ("Spine1", "Spine", (0, 25, 0), None),
    ("Neck", "Spine1", (0, 20, 0), None),
    ("Head", "Neck", (0, 10, 0), (0, 15, 0)),
    ("LeftShoulder", "Spine1", (5, 15, 10), None),  # forward: the body is not mirror-symmetric
    ("LeftArm", "LeftShoulder", (15, 0, 0), None),
    ("LeftForeArm", "LeftArm", (28, 0, 0), None),
    ("LeftHand", "LeftForeArm", (25, 0, 0), (5, 0, 0)),
    ("RightShoulder", "Spine1", (-5, 15, 0), None),
    ("RightArm", "RightShoulder", (-15, 0, 0), None),
    ("RightForeArm", "RightArm", (-28, 0, 0), None),
    ("RightHand", "RightForeArm", (-25, 0, 0), (-5, 0, 0)),
]
_OURS = {  # our joint -> BVH joint (head: the Head's end site)
    "pelvis": "Hips", "r_hip": "RightUpLeg", "r_knee": "RightLeg", "r_ankle": "RightFoot",
    "l_hip": "LeftUpLeg", "l_knee": "LeftLeg", "l_ankle": "LeftFoot", "spine": "Spine",
    "thorax": "Spine1", "neck": "Neck", "head": "Head@end", "l_shoulder": "LeftArm",
    "l_elbow": "LeftForeArm", "l_wrist": "LeftHand", "r_shoulder": "RightArm",
    "r_elbow": "RightForeArm", "r_wrist": "RightHand",
}  # fmt: skip


def _bvh_truth(raise_left: bool) -> np.ndarray:
    """Our 17 joints (mm, y up) of the hierarchy, left arm along +x or raised along +y."""
    pos = {}
    for name, parent, off, end in _BVH_JOINTS:
        off = np.array(off, float)
        if raise_left and name in ("LeftForeArm", "LeftHand"):
            off = np.array([0.0, off[0], 0.0])  # LeftArm turned +90 deg about z
        pos[name] = (pos[parent] if parent else np.array([0.0, 100.0, 0.0])) + off
        if end is not None:
            e = np.array(end, float)
            if raise_left and name == "LeftHand":
                e = np.array([0.0, e[0], 0.0])
            pos[name + "@end"] = pos[name] + e
    return np.stack([pos[_OURS[j]] for j in sk.JOINT_NAMES]) * 10.0


def _write_bvh(path, frames: int = 4, order: str = "ZXY", newline: str = "\n", nan: bool = False):
    lines, depth = ["HIERARCHY"], 0
    kids = {n: [c for c, p, _, _ in _BVH_JOINTS if p == n] for n, *_ in _BVH_JOINTS}
    info = {n: (o, e) for n, _, o, e in _BVH_JOINTS}

    def emit(name: str, root: bool) -> None:
        nonlocal depth
        pad = "  " * depth
        off, end = info[name]
        lines.append(f"{pad}{'ROOT' if root else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {off[0]} {off[1]} {off[2]}")
        rot = " ".join(f"{a}rotation" for a in order)
        chans = f"6 Xposition Yposition Zposition {rot}" if root else f"3 {rot}"
        lines.append(f"{pad}  CHANNELS {chans}")
        depth += 1
        for k in kids[name]:
            emit(k, False)
        if end is not None:
            site = [f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET {end[0]} {end[1]} {end[2]}"]
            lines.extend([*site, pad + "  }"])
        depth -= 1
        lines.append(pad + "}")

    emit("Hips", True)
    names = [n for n, *_ in _BVH_JOINTS]
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    for f in range(frames):
        row = []
        for n in names:
            if n == "Hips":
                row += [0.0, 100.0, 0.0]
            angles = {"X": 0.0, "Y": 0.0, "Z": 90.0 if (n == "LeftArm" and f % 2) else 0.0}
            row += [angles[a] for a in order]
        if nan and f == 2:
            row[5] = float("nan")
        lines.append(" ".join(f"{v:g}" for v in row))
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


def _aligned_error(a: np.ndarray, b: np.ndarray) -> float:
    """Max joint error (mm) after the best *proper* rotation of root-relative ``a`` onto ``b``."""
    a, b = a - a[0], b - b[0]
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, 1.0, d]) @ vt
    return float(np.linalg.norm(a @ r - b, axis=-1).max())


@pytest.mark.parametrize("order,newline", [("ZXY", "\n"), ("XYZ", "\r\n"), ("YZX", "\n")])
def test_bvh_joints_within_a_millimetre_and_left_stays_left(tmp_path, order, newline):
    out = convert("bvh", [str(_write_bvh(tmp_path / "take.bvh", order=order, newline=newline))],
                  tmp_path / "split", CFG)  # fmt: skip
    split = read_split(out)
    assert split.meta["source_format"] == "bvh" and split.meta["clip_length"] == 2
    assert split.poses.shape == (4, 17, 3) and split.roots[:, 2].min() > 3000
    for f in range(4):
        truth = to_y_down(_bvh_truth(raise_left=bool(f % 2)), "y")
        assert _aligned_error(truth, split.poses[f]) < 1.0
        # a proper rotation only: the mirror image (left and right swapped) does not fit
        assert _aligned_error(truth[list(sk.FLIP_PERMUTATION)] * [-1, 1, 1], split.poses[f]) > 20
    femur = np.linalg.norm(split.poses[:, sk.L_KNEE] - split.poses[:, sk.L_HIP], axis=-1)
    assert np.allclose(femur, 450.0, atol=0.5)  # cm read as cm: an adult's femur


def test_bvh_units_are_guessed_or_given(tmp_path):
    path = _write_bvh(tmp_path / "take.bvh")
    as_cm = read_split(convert("bvh", [str(path)], tmp_path / "a", CFG)).poses
    as_mm = read_split(convert("bvh", [str(path)], tmp_path / "b", CFG, units="cm")).poses
    assert np.allclose(as_cm, as_mm)
    with pytest.raises(ConvertError, match="units are wrong"):
        convert("bvh", [str(path)], tmp_path / "c", CFG, units="m")


# ------------------------------------------------------------------------------- ASF / AMC
_ASF_BONES = [  # name, parent, direction, length (ASF units), axis, dof
    ("lhipjoint", "root", (1, 0, 0), 2.25, (0, 0, 0), ""),
    ("lfemur", "lhipjoint", (0, -1, 0), 7.875, (0, 0, 0), "rx ry rz"),
    ("ltibia", "lfemur", (0, -1, 0), 7.875, (0, 0, 0), "rx"),
    ("rhipjoint", "root", (-1, 0, 0), 2.25, (0, 0, 0), ""),
    ("rfemur", "rhipjoint", (0, -1, 0), 7.875, (0, 0, 0), "rx ry rz"),
    ("rtibia", "rfemur", (0, -1, 0), 7.875, (0, 0, 0), "rx"),
    ("lowerback", "root", (0, 1, 0), 3.6, (0, 0, 0), "rx ry rz"),
    ("thorax", "lowerback", (0, 1, 0), 4.5, (0, 0, 0), "rx ry rz"),
    ("upperneck", "thorax", (0, 1, 0), 3.6, (0, 0, 0), "rx ry rz"),
    ("head", "upperneck", (0, 1, 0), 3.6, (0, 0, 0), "rx ry rz"),
    ("lclavicle", "thorax", (1, 0, 0), 2.7, (0, 0, 0), ""),
    ("lhumerus", "lclavicle", (1, 0, 0), 5.0, (90, 0, 0), "rx ry rz"),
    ("lradius", "lhumerus", (1, 0, 0), 4.5, (90, 0, 0), "rx"),
    ("rclavicle", "thorax", (-1, 0, 0), 2.7, (0, 0, 0), ""),
    ("rhumerus", "rclavicle", (-1, 0, 0), 5.0, (0, 0, 0), "rx ry rz"),
    ("rradius", "rhumerus", (-1, 0, 0), 4.5, (0, 0, 0), "rx"),
]
MM = 25.4 / 0.45  # mm per ASF unit at ":units length 0.45"


def _write_asf_amc(tmp_path, frames: int = 4, truncate: bool = False):
    asf = [":version 1.10", ":name test", ":units", "  mass 1.0", "  length 0.45",
           "  angle deg", ":root", "   order TX TY TZ RX RY RZ", "   axis XYZ",
           "   position 0 0 0", "   orientation 0 0 0", ":bonedata"]  # fmt: skip
    for i, (name, _, d, length, axis, dof) in enumerate(_ASF_BONES):
        asf += ["  begin", f"     id {i + 1}", f"     name {name}",
                f"     direction {d[0]} {d[1]} {d[2]}", f"     length {length}",
                f"     axis {axis[0]} {axis[1]} {axis[2]} XYZ"]  # fmt: skip
        if dof:
            asf.append(f"     dof {dof}")
        asf.append("  end")
    asf += [":hierarchy", "  begin"]
    for parent in ["root", *(b[0] for b in _ASF_BONES)]:
        kids = [b[0] for b in _ASF_BONES if b[1] == parent]
        if kids:
            asf.append(f"    {parent} {' '.join(kids)}")
    asf.append("  end")
    (tmp_path / "01.asf").write_text("\n".join(asf) + "\n")
    amc = ["#!OML:ASF 01.asf", ":FULLY-SPECIFIED", ":DEGREES"]
    for f in range(frames):
        amc.append(str(f + 1))
        amc.append("root 0 40 0 0 0 0")
        for name, _, _, _, _, dof in _ASF_BONES:
            if dof:
                vals = [0.0] * len(dof.split())
                if name == "lhumerus" and f % 2:
                    vals[2] = 90.0  # rz
                amc.append(f"{name} " + " ".join(f"{v:g}" for v in vals))
    if truncate:
        amc = amc[:-5]
    (tmp_path / "01_01.amc").write_text("\n".join(amc) + "\n")
    return tmp_path / "01.asf", tmp_path / "01_01.amc"


def _asf_truth(turned: bool) -> np.ndarray:
    ends = {"root": np.array([0.0, 40.0, 0.0]) * MM}
    for name, parent, d, length, _, _ in _ASF_BONES:
        d = np.array(d, float)
        if turned and name in ("lhumerus", "lradius"):
            # L = C Rz(90) C^-1 with C = Rx(90): a quarter turn about -y, so +x -> +z
            d = np.array([0.0, 0.0, 1.0])
        ends[name] = ends[parent] + length * MM * d
    return np.stack([ends[b] for b in sk.FROM_CMU_ASF])


def test_asf_amc_joints_within_a_millimetre_with_the_axis_convention(tmp_path):
    asf, amc = _write_asf_amc(tmp_path)
    split = read_split(convert("cmu-amc", [str(asf), str(amc)], tmp_path / "s", CFG, source_fps=30))
    assert split.poses.shape == (4, 17, 3)
    for f in range(4):
        truth = to_y_down(_asf_truth(turned=bool(f % 2)), "y")
        assert _aligned_error(truth, split.poses[f]) < 1.0
    femur = np.linalg.norm(split.poses[:, sk.L_KNEE] - split.poses[:, sk.L_HIP], axis=-1)
    assert np.allclose(femur, 7.875 * MM, atol=0.5) and 350 < femur.mean() < 550


# ------------------------------------------------------------------------------- bad input
def _bad(tmp_path, case: str) -> list[str]:
    if case == "missing file":
        return ["bvh", str(tmp_path / "nope.bvh")]
    if case == "wrong layout":
        (tmp_path / "x.bvh").write_text("MOTION\nFrames: 1\n")
        return ["bvh", str(tmp_path / "x.bvh")]
    if case == "truncated bvh":
        path = _write_bvh(tmp_path / "t.bvh")
        path.write_bytes(path.read_bytes()[:-40])
        return ["bvh", str(path)]
    if case == "NaN joints":
        return ["bvh", str(_write_bvh(tmp_path / "n.bvh", nan=True))]
    asf, amc = _write_asf_amc(tmp_path, truncate=True)
    return ["cmu-amc", str(asf), str(amc)]


@pytest.mark.parametrize(
    "case", ["missing file", "wrong layout", "truncated bvh", "NaN joints", "truncated amc"]
)
def test_bad_input_is_one_line_naming_the_file_and_leaves_nothing(tmp_path, case, capsys):
    args = _bad(tmp_path, case)
    out = tmp_path / "split"
    rc = cli.main(["data", "convert", *args, "--out", str(out), "--clip-frames", "2"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and args[-1].split("/")[-1] in err, err
    assert not out.exists() and not list(tmp_path.glob("split*"))


# --------------------------------------------------------------- training on converted data
def test_the_pose_prior_trains_on_a_converted_mocap_split(tmp_path, capsys):
    import json

    from sa3dhp import checkpoint
    from tests.test_stages import TINY_PRIORS

    bvh = _write_bvh(tmp_path / "long.bvh", frames=600)
    split = convert("bvh", [str(bvh)], tmp_path / "mocap", MocapConvertConfig(clip_frames=60))
    assert read_split(split).meta["num_clips"] == 10
    run = tmp_path / "run"
    args = ["train", "pose-prior", f"data.mocap={split}", f"out_dir={run}", *TINY_PRIORS]
    assert cli.main(args) == 0
    metrics = json.loads((run / "pose_prior" / "metrics.json").read_text())
    assert metrics["val_mpjpe"] > 0  # reconstruction of the held-out converted clip
    info = checkpoint.checkpoint_info(run / "pose_prior" / "checkpoint.safetensors", "pose_prior")
    assert info["provenance"]["data"]["mocap"].startswith("c")  # the converted split's hash
    # another converted split into the same run is refused, naming what differs
    other = convert("bvh", [str(bvh)], tmp_path / "m2", MocapConvertConfig(clip_frames=60, seed=1))
    capsys.readouterr()
    assert cli.main([*args[:2], f"data.mocap={other}", *args[3:]]) == 2
    assert "mocap" in capsys.readouterr().err
