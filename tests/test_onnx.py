"""`sa3dhp export onnx`: the graph predicts what PyTorch predicts, at any batch size."""

from __future__ import annotations

import numpy as np
import pytest

from sa3dhp import cli
from sa3dhp.inference import load_image_model
from sa3dhp.inference import predict as predict_crops

ort = pytest.importorskip("onnxruntime")


def test_onnx_poses_match_pytorch_within_half_a_millimetre(tiny_model, tmp_path):
    out = tmp_path / "tiny.onnx"
    assert cli.main(["export", "onnx", str(tiny_model), "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["sa3dhp_crop_size"] == "64"
    model, prior, _ = load_image_model(tiny_model)
    rng = np.random.default_rng(0)
    for batch in (1, 5):
        crops = rng.integers(0, 256, (batch, 64, 64, 3), dtype=np.uint8)
        got = session.run(["poses"], {"crops": crops.transpose(0, 3, 1, 2).copy()})[0]
        expected = predict_crops(model, prior, crops)
        assert got.shape == (batch, 17, 3)
        assert np.abs(got - expected).max() <= 0.5
        assert np.abs(expected).max() > 10  # real poses in mm, not zeros


def test_export_onnx_refuses_what_is_not_a_model_file(tmp_path, capsys):
    bad = tmp_path / "notes.safetensors"
    bad.write_text("hello")
    assert cli.main(["export", "onnx", str(bad), "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.safetensors" in err
    assert not (tmp_path / "x.onnx").exists()
