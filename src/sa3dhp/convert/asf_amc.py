"""Acclaim ASF + AMC files (CMU MoCap), with the ASF's units and axis conventions.

The ASF gives the skeleton: per bone a rest ``direction`` (world frame), a ``length``, an
``axis`` (Euler angles of the bone's local frame, applied X, then Y, then Z unless another order
is named) and its ``dof``; ``:units length L`` means a stored length ``l`` is ``l / L`` inches
(CMU: 0.45), and ``angle deg|rad``. The AMC gives per frame the root's translation and rotation
(``:root order``) and each bone's dof values. Forward kinematics, as the Acclaim format defines
it: ``L = C M C^-1`` with ``C`` the bone's axis rotation and ``M`` its motion rotation
(Rz Ry Rx for ``rx ry rz``); a bone's global rotation is its parent's times ``L``; its end is its
parent's end plus ``length x`` (global rotation) ``direction``. Our joints are bone end points
(:data:`sa3dhp.skeleton.FROM_CMU_ASF`). CMU's world has y up.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sa3dhp import skeleton as sk
from sa3dhp.convert.mocap import ConvertError, axis_rotation, matmul3

MM_PER_INCH = 25.4


@dataclass
class _Bone:
    name: str
    direction: np.ndarray
    length: float
    axis: np.ndarray  # degrees
    order: str = "XYZ"
    dof: list[str] = field(default_factory=list)


@dataclass
class Skeleton:
    """A parsed ASF: bones, hierarchy, units (mm per stored length unit), root conventions."""

    bones: dict[str, _Bone]
    children: dict[str, list[str]]
    mm_per_unit: float
    degrees: bool
    root_order: list[str]
    root_axis: str


def _euler(angles_deg: np.ndarray, order: str, axes: str = "XYZ") -> np.ndarray:
    """``(..., 3, 3)`` rotations for angles ``(..., 3)`` about the axes ``order`` (X, Y, Z
    letters), the first applied first: R = R_order[2] R_order[1] R_order[0]; axes not in
    ``axes`` (no such dof) are skipped."""
    angles_deg = np.asarray(angles_deg, dtype=np.float64)
    out = None
    for k, axis in enumerate(order):
        if axis not in axes:
            continue
        r = axis_rotation(axis, angles_deg[..., k])
        out = r if out is None else matmul3(r, out)
    if out is None:
        return np.broadcast_to(np.eye(3), (*angles_deg.shape[:-1], 3, 3)).copy()
    return out


def _sections(path: Path) -> dict[str, list[list[str]]]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConvertError(f"{path}: not a readable text file ({type(e).__name__})") from None
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            key, *rest = line[1:].split()
            current = key.lower()
            sections[current] = [rest] if rest else []
        elif current is not None:
            sections[current].append(line.split())
    return sections


def read_asf(path: str | Path) -> Skeleton:
    """Parse an ASF skeleton file.

    Raises:
        ConvertError: not an ASF file, or a bone or hierarchy entry that does not parse.
    """
    path = Path(path)
    sec = _sections(path)
    if "bonedata" not in sec or "hierarchy" not in sec or "root" not in sec:
        raise ConvertError(f"{path}: not an ASF skeleton (needs :root, :bonedata, :hierarchy)")
    units = {r[0].lower(): r[1] for r in sec.get("units", []) if len(r) >= 2}
    try:
        length = float(units.get("length", 1.0))
        root = {r[0].lower(): r[1:] for r in sec["root"]}
        bones: dict[str, _Bone] = {}
        cur: dict = {}
        for row in sec["bonedata"]:
            key = row[0].lower()
            if key == "begin":
                cur = {}
            elif key == "end":
                axis = cur.get("axis", ["0", "0", "0", "XYZ"])
                bones[cur["name"]] = _Bone(
                    name=cur["name"],
                    direction=np.array(cur["direction"], dtype=np.float64),
                    length=float(cur["length"][0]),
                    axis=np.array(axis[:3], dtype=np.float64),
                    order=axis[3].upper() if len(axis) > 3 else "XYZ",
                    dof=[d.lower() for d in cur.get("dof", [])],
                )
            elif key == "name":
                cur["name"] = row[1]
            elif key in ("direction", "length", "axis", "dof"):
                cur[key] = row[1:]
        children: dict[str, list[str]] = {}
        for row in sec["hierarchy"]:
            if row[0].lower() in ("begin", "end"):
                continue
            children.setdefault(row[0], []).extend(row[1:])
    except (KeyError, IndexError, ValueError) as e:
        raise ConvertError(f"{path}: broken ASF bone data ({type(e).__name__}: {e})") from None
    missing = [b for kids in children.values() for b in kids if b not in bones]
    if missing:
        raise ConvertError(f"{path}: the hierarchy names bones without bonedata: {missing[:5]}")
    return Skeleton(
        bones=bones,
        children=children,
        mm_per_unit=MM_PER_INCH / length,
        degrees=units.get("angle", "deg").lower().startswith("deg"),
        root_order=[o.lower() for o in root.get("order", ["tx", "ty", "tz", "rx", "ry", "rz"])],
        root_axis=root.get("axis", ["XYZ"])[0].upper(),
    )


def _fast_amc(body: str, n_dofs: dict[str, int]) -> dict[str, np.ndarray] | None:
    """Every bone's values at once when each frame lists the same bones in the same order with
    the ASF's dof counts (CMU's files do), else None (the careful parse then names the fault)."""
    lines = body.split("\n", 40)
    if not lines or not lines[0].strip().isdigit():
        return None
    names = []
    for line in lines[1:]:
        word = line.split(None, 1)[0] if line.strip() else ""
        if not word or word.isdigit():
            break
        names.append(word)
    if not names or any(n not in n_dofs for n in names):
        return None
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body)
    n = len(words) // len(names)
    if len(words) != n * len(names) or words != names * n:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            values = np.fromstring(re.sub(r"[A-Za-z_][A-Za-z0-9_]*", " ", body), sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    width = 1 + sum(n_dofs[k] for k in names)
    if values.size != n * width:
        return None
    values = values.reshape(n, width)[:, 1:]
    out, col = {}, 0
    for name in names:
        out[name] = values[:, col : col + n_dofs[name]]
        col += n_dofs[name]
    return out


def read_amc(path: str | Path, skel: Skeleton) -> dict[str, np.ndarray]:
    """Per-bone dof values ``(T, n_dof)`` of an AMC file (``root``: its ``order`` values)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConvertError(f"{path}: not a readable text file ({type(e).__name__})") from None
    n_dofs = {"root": len(skel.root_order), **{k: len(b.dof) for k, b in skel.bones.items()}}
    start = re.search(r"^\s*\d+\s*$", text, flags=re.M)
    fast = _fast_amc(text[start.start() :].strip(), n_dofs) if start else None
    if fast is not None and all(k in fast for k, v in n_dofs.items() if v):
        return {k: v for k, v in fast.items() if n_dofs[k]}
    frames: list[dict[str, list[float]]] = []
    try:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ":")):
                continue
            parts = line.split()
            if len(parts) == 1 and parts[0].isdigit():
                frames.append({})
            elif frames:
                frames[-1][parts[0]] = [float(v) for v in parts[1:]]
    except ValueError as e:
        raise ConvertError(f"{path}: broken AMC frame ({e})") from None
    if not frames:
        raise ConvertError(f"{path}: no frames (an AMC file numbers each frame on its own line)")
    out = {}
    for name, n in n_dofs.items():
        if n == 0:
            continue
        rows = [f.get(name) for f in frames]
        bad = next((i for i, r in enumerate(rows) if r is None or len(r) != n), None)
        if bad is not None:
            got = 0 if rows[bad] is None else len(rows[bad])  # type: ignore[arg-type]
            raise ConvertError(
                f"{path}: frame {bad + 1} gives bone '{name}' {got} values, the ASF expects {n} "
                "(truncated file, or the AMC of another skeleton)"
            )
        out[name] = np.array(rows, dtype=np.float64)
    return out


def forward_kinematics(skel: Skeleton, dofs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """World positions ``(T, 3)`` mm of the root and of every bone's end point."""
    root = dofs["root"]
    t = len(root)
    scale = 1.0 if skel.degrees else 180.0 / np.pi
    vals = dict(zip(skel.root_order, root.T, strict=True))
    pos = np.stack([vals.get(k, np.zeros(t)) for k in ("tx", "ty", "tz")], -1) * skel.mm_per_unit
    rot = np.stack([vals.get(k, np.zeros(t)) * scale for k in ("rx", "ry", "rz")], -1)
    c_root = _euler(np.zeros(3), skel.root_axis)
    glob = {"root": c_root @ _euler(rot, "XYZ") @ np.linalg.inv(c_root)}
    ends = {"root": pos}
    queue = ["root"]
    while queue:
        parent = queue.pop(0)
        for name in skel.children.get(parent, []):
            bone = skel.bones[name]
            angles = np.zeros((t, 3))
            for k, d in enumerate(bone.dof):
                if d in ("rx", "ry", "rz"):
                    angles[:, "xyz".index(d[1])] = dofs[name][:, k] * scale
            c = _euler(bone.axis, bone.order)
            axes = "".join(d[1].upper() for d in bone.dof if d in ("rx", "ry", "rz"))
            local = c @ _euler(angles, "XYZ", axes) @ c.T  # C M C^-1 (C is a rotation)
            glob[name] = matmul3(glob[parent], local)
            step = (
                bone.length * skel.mm_per_unit * np.einsum("tij,j->ti", glob[name], bone.direction)
            )
            ends[name] = ends[parent] + step
            queue.append(name)
    return ends


def to_h36m(ends: dict[str, np.ndarray], path: str | Path) -> np.ndarray:
    """Our 17 joints ``(T, 17, 3)`` mm from the bone end points (y up, the file's world)."""
    missing = [b for b in sk.FROM_CMU_ASF if b not in ends]
    if missing:
        raise ConvertError(f"{path}: the skeleton has no bones {missing} (CMU's ASF names)")
    return np.stack([ends[b] for b in sk.FROM_CMU_ASF], axis=1)
