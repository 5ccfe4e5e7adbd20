"""``sa3dhp export onnx``: a model file as an ONNX graph, crops in and 17x3 poses out.

The graph takes ``crops`` ``(B, 3, S, S)`` uint8 RGB (any batch size ``B``; ``S`` is the model
file's crop size) and returns ``poses`` ``(B, 17, 3)`` float32, root-relative mm in the camera
frame: G, the pose decoder and its forward kinematics, exactly what ``sa3dhp predict`` computes.
It is made by PyTorch's ``torch.export``-based exporter, which needs the optional extra
``pip install sa3dhp[onnx]`` (onnx, onnxscript; onnxruntime to run it).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from sa3dhp import skeleton as sk
from sa3dhp.inference import predict_poses
from sa3dhp.model_file import ModelFileError, load_model

OPSET = 18


class _CropsToPoses(nn.Module):
    def __init__(self, model: nn.Module, prior: nn.Module | None) -> None:
        super().__init__()
        self.model, self.prior = model, prior

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return predict_poses(self.model, self.prior, crops)  # type: ignore[arg-type]


def _require_exporter() -> None:
    missing = []
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ModelFileError(
            f"export onnx needs {' and '.join(missing)}: pip install 'sa3dhp[onnx]'"
        )


def export_onnx(model_file: str | Path, out: str | Path) -> Path:
    """Write the ONNX graph of the model file ``model_file`` to ``out``.

    Raises:
        ModelFileError: not a model file (see :func:`sa3dhp.model_file.read_metadata`), or the
            exporter's packages are missing.
    """
    _require_exporter()
    model, prior, meta = load_model(model_file, "cpu")
    size = int(meta["crop_size"])
    net = _CropsToPoses(model, prior).eval()
    example = torch.zeros(2, 3, size, size, dtype=torch.uint8)
    batch = torch.export.Dim("batch", min=1, max=65536)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        program = torch.onnx.export(
            net,
            (example,),
            input_names=["crops"],
            output_names=["poses"],
            dynamic_shapes=({0: batch},),
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    import onnx

    proto = program.model_proto
    for key, value in {
        "sa3dhp_crop_size": str(size),
        "sa3dhp_crop": json.dumps(meta["crop"]),
        "sa3dhp_joints": json.dumps(list(sk.JOINT_NAMES)),
        "sa3dhp_model_file": str(model_file),
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    tmp = out.with_name(out.name + ".tmp")
    onnx.save(proto, str(tmp))
    tmp.replace(out)
    return out
