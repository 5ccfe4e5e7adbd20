"""predict's background thread: used only where a processor is idle, and the same poses either
way."""

import numpy as np
import torch

from sa3dhp import predict as predict_mod
from sa3dhp.data.video import synthetic_video, write_synthetic_video
from sa3dhp.data.world import WorldConfig
from sa3dhp.predict import PredictOptions, background_helps, predict_files


def test_background_thread_only_beside_an_idle_processor(monkeypatch):
    assert background_helps(torch.device("cuda"))  # G on a GPU leaves the CPU to decode
    monkeypatch.setattr(predict_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(predict_mod.torch, "get_num_threads", lambda: 2)
    assert not background_helps(torch.device("cpu"))  # torch's threads fill both cores
    monkeypatch.setattr(predict_mod.torch, "get_num_threads", lambda: 1)
    assert background_helps(torch.device("cpu"))


def test_the_same_poses_with_and_without_the_background_thread(tiny_model, tmp_path):
    video = synthetic_video(WorldConfig(), frames=20, width=256, height=160, seed=5)
    files = write_synthetic_video(video, tmp_path / "walk.mp4")
    got = {}
    for background in (True, False):
        opts = PredictOptions(
            detector="boxes", boxes=str(files["boxes"]), batch=8, background=background
        )
        out = tmp_path / f"bg{background}"
        summary = predict_files([str(files["video"])], str(tiny_model), out, opts)
        assert summary["background_thread"] is background and summary["frames"] == 20
        got[background] = np.load(out / "predictions.npz")
    assert np.array_equal(got[True]["frame"], np.arange(20))
    for key in ("frame", "track", "box", "pose_mm", "joints_2d"):
        assert np.array_equal(got[True][key], got[False][key]), key
