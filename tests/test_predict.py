"""`sa3dhp predict`: detection, tracking, crops, outputs, smoothing and what bad input gets.

The videos are the synthetic world's (:mod:`sa3dhp.data.video`); the model is a small randomly
initialised G with its pose prior written as a model file, so the plumbing is tested without
training (the demo model's accuracy on these videos is `benchmarks/predict_video.py`'s).
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from sa3dhp import cli, media
from sa3dhp.data.video import synthetic_video, write_synthetic_video
from sa3dhp.data.world import WorldConfig
from sa3dhp.detect import BoxesDetector, DetectorError, crop_from_box, cut_crop, make_detector
from sa3dhp.inference import load_image_model
from sa3dhp.inference import predict as predict_crops
from sa3dhp.people import TrackHeights
from sa3dhp.smooth import OneEuro, smooth_tracks
from sa3dhp.track import IoUTracker, iou


@pytest.fixture(scope="module")
def video_files(tmp_path_factory):
    """A 24-frame video at the training scale (64-pixel crops) with its true boxes."""
    video = synthetic_video(WorldConfig(), frames=24, width=256, height=160, seed=3)
    files = write_synthetic_video(video, tmp_path_factory.mktemp("video") / "walk.mp4")
    return video, files


def _predict(*args: str) -> int:
    return cli.main(["predict", *args])


def test_the_true_box_cuts_the_renderers_crop():
    video = synthetic_video(WorldConfig(), frames=6, width=200, height=120, seed=1)
    for f in range(6):
        crop = cut_crop(video.frames[f], crop_from_box(video.boxes[f], 1.7), 64)
        body = video.masks[f]
        assert body.sum() > 50
        assert np.array_equal(crop[body], video.crops[f][body])


def test_predict_with_true_boxes_gives_the_poses_of_the_crops(video_files, tiny_model, tmp_path):
    video, files = video_files
    out = tmp_path / "pred"
    rc = _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(out),
                  "--detector", "boxes", "--boxes", str(files["boxes"]))  # fmt: skip
    assert rc == 0
    got = np.load(out / "predictions.npz")
    assert list(got["frame"]) == list(range(24)) and set(got["track"]) == {0}
    assert got["pose_mm"].shape == (24, 17, 3) and got["joints_2d"].shape == (24, 17, 2)
    # the same crops cut from the decoded frames, through the evaluation's prediction path
    frames = list(media.read_video(files["video"]))
    crops = np.stack(
        [cut_crop(fr, crop_from_box(b, 1.7), 64) for fr, b in zip(frames, video.boxes, strict=True)]
    )
    model, prior, _ = load_image_model(tiny_model)
    expected = predict_crops(model, prior, crops)
    assert np.allclose(got["pose_mm"], expected, atol=0.05)
    # and the error against the truth is the error of the renderer's own crops, within 10 %
    err = lambda p: np.linalg.norm(p - video.poses, axis=-1).mean()  # noqa: E731
    assert err(got["pose_mm"]) == pytest.approx(
        err(predict_crops(model, prior, video.crops)), rel=0.1
    )
    # the pelvis lands on the box centre
    centres = (got["box"][:, :2] + got["box"][:, 2:]) / 2
    assert np.allclose(got["joints_2d"][:, 0], centres, atol=1e-3)


def test_jsonl_has_one_object_per_frame_with_the_documented_fields(
    video_files, tiny_model, tmp_path
):
    _, files = video_files
    boxes = json.loads(files["boxes"].read_text())
    del boxes["5"], boxes["6"]  # two frames without a person
    (tmp_path / "b.json").write_text(json.dumps(boxes))
    out = tmp_path / "pred"
    assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(out),
                    "--detector", "boxes", "--boxes", str(tmp_path / "b.json")) == 0  # fmt: skip
    lines = [json.loads(ln) for ln in (out / "predictions.jsonl").read_text().splitlines()]
    assert [ln["frame"] for ln in lines] == list(range(24))
    assert lines[5]["people"] == [] and lines[6]["people"] == []
    person = lines[0]["people"][0]
    assert set(person) == {"track", "box", "score", "filled", "pose_mm", "joints_2d"}
    assert person["filled"] is False
    assert np.array(person["pose_mm"]).shape == (17, 3)
    assert np.array(person["joints_2d"]).shape == (17, 2)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 24 and summary["people"] == 22
    assert summary["frames_without_person"] == 2
    assert not list(tmp_path.glob(".pred.partial-*"))


def test_fill_gaps_carries_a_tracks_last_box_over_short_misses_only(
    video_files, tiny_model, tmp_path
):
    _, files = video_files
    boxes = json.loads(files["boxes"].read_text())
    for f in (5, 6, *range(10, 18)):  # a 2-frame and an 8-frame miss
        del boxes[str(f)]
    boxes["20"] = boxes["20"] + [[200, 10, 230, 70, 0.9]]  # a one-frame false positive
    (tmp_path / "b.json").write_text(json.dumps(boxes))
    out = tmp_path / "pred"
    assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(out),
                    "--detector", "boxes", "--boxes", str(tmp_path / "b.json"),
                    "--fill-gaps", "3") == 0  # fmt: skip
    lines = [json.loads(ln) for ln in (out / "predictions.jsonl").read_text().splitlines()]
    filled = [ln["frame"] for ln in lines if any(p["filled"] for p in ln["people"])]
    assert filled == [5, 6, 10, 11, 12]  # up to 3 frames of each miss; the rest stays empty
    assert [ln["people"] for ln in lines[13:18]] == [[]] * 5
    truth = json.loads(files["boxes"].read_text())
    for f in (5, 6, 10):  # the track's box moved on at its velocity, score 0, the same track
        p = lines[f]["people"][0]
        assert np.abs(np.array(p["box"]) - np.array(truth[str(f)][0][:4])).max() < 1.0
        assert p["score"] == 0.0 and p["track"] == lines[4]["people"][0]["track"]
    assert {p["track"] for ln in lines for p in ln["people"][:1]} == {0}  # found again: one track
    assert len(lines[21]["people"]) == 1  # the one-frame false positive is not carried
    summary = json.loads((out / "summary.json").read_text())
    assert summary["filled_boxes"] == 5 and summary["fill_gaps"] == 3
    assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(tmp_path / "x"),
                    "--fill-gaps", "-1") == 2  # fmt: skip


def test_track_heights_keep_a_crouching_tracks_standing_height_and_its_feet():
    heights = TrackHeights(frames=3)
    stand = np.array([[10, 20, 40, 80]], np.float32)  # 60 tall, 30 wide
    crouch = np.array([[12, 50, 32, 80]], np.float32)  # 30 tall, 20 wide, the same feet
    assert np.array_equal(heights(stand, [0]), stand)
    got = heights(crouch, [0])[0]
    assert got[3] == 80 and got[3] - got[1] == 60  # standing height, bottom kept
    assert np.isclose((got[0] + got[2]) / 2, 22) and np.isclose(got[2] - got[0], 40)  # aspect
    assert np.array_equal(heights(crouch, [1]), crouch)  # another track: its own history
    # a filled box reads the history but does not enter it
    assert heights(crouch, [0], np.array([False]))[0][1] == 20
    heights(crouch, [0])  # the standing box leaves the 3-frame window
    assert np.array_equal(heights(crouch, [0]), crouch)
    off = TrackHeights(frames=0)
    off(stand, [0])
    assert np.array_equal(off(crouch, [0]), crouch)
    # an ended track's history is dropped: a new track with its id starts afresh
    heights(stand, [5])
    heights.forget([0, 1])
    assert np.array_equal(heights(crouch, [5]), crouch)
    kept = TrackHeights(frames=3)
    kept(stand, [0])
    kept.forget([0])
    assert kept(crouch, [0])[0][1] == 20


def test_predict_boxes_take_the_tracks_height_unless_switched_off(
    video_files, tiny_model, tmp_path
):
    _, files = video_files
    boxes = json.loads(files["boxes"].read_text())
    for f in range(8, 12):  # a crouch: the box shrinks to 70 %, the feet stay (the same track)
        x0, y0, x1, y1 = boxes[str(f)][0][:4]
        cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
        boxes[str(f)] = [[cx - 0.35 * w, y1 - 0.7 * h, cx + 0.35 * w, y1]]
    (tmp_path / "b.json").write_text(json.dumps(boxes))
    truth = json.loads(files["boxes"].read_text())
    for n, want in ((None, truth), ("0", boxes)):
        out = tmp_path / f"pred{n}"
        extra = ["--track-height", n] if n else []
        assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(out),
                        "--detector", "boxes", "--boxes", str(tmp_path / "b.json"),
                        *extra) == 0  # fmt: skip
        got = np.load(out / "predictions.npz")["box"]
        assert np.abs(got - np.array([want[str(f)][0][:4] for f in range(len(got))])).max() < 0.1
        assert json.loads((out / "summary.json").read_text())["track_height"] == int(n or 30)
    assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(tmp_path / "x"),
                    "--track-height", "-1") == 2  # fmt: skip


def test_hog_finds_the_person_and_its_joints_stay_in_the_crop(tiny_model, tmp_path):
    video = synthetic_video(WorldConfig(), frames=12, width=320, height=240, person_px=200, seed=1)
    files = write_synthetic_video(video, tmp_path / "big.mp4")
    out = tmp_path / "hog"
    assert _predict(str(files["video"]), "--model", str(tiny_model), "--out", str(out),
                    "--render", "--max-people", "1") == 0  # fmt: skip
    got = np.load(out / "predictions.npz")
    assert len(np.unique(got["frame"])) >= 10  # found in >= 10 of 12 frames
    true = {int(f): b for f, b in enumerate(video.boxes)}
    for f, box in zip(got["frame"], got["box"], strict=True):
        assert iou(box, true[int(f)])[0, 0] > 0.4
    side = crop_from_box(got["box"], 1.7)[:, 2]
    offset = np.abs(got["joints_2d"] - got["joints_2d"][:, :1]).max(axis=(1, 2))
    assert np.all(offset < side / 2)
    assert len(np.unique(got["track"])) <= 2
    cap = cv2.VideoCapture(str(out / "big.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320 + 2 * 240


def test_a_folder_of_gray_rgba_and_colour_images(tiny_model, tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    folder.mkdir()
    img = rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)
    cv2.imwrite(str(folder / "a.png"), img)
    cv2.imwrite(str(folder / "b.png"), img[..., 0])  # grayscale
    cv2.imwrite(str(folder / "c.png"), np.concatenate([img, img[..., :1]], axis=2))  # RGBA
    cv2.imwrite(str(folder / "d.jpg"), img)
    out = tmp_path / "pred"
    assert _predict(str(folder), "--model", str(tiny_model), "--out", str(out),
                    "--detector", "full", "--render") == 0  # fmt: skip
    lines = [json.loads(ln) for ln in (out / "predictions.jsonl").read_text().splitlines()]
    assert [ln["source"] for ln in lines] == ["a.png", "b.png", "c.png", "d.jpg"]
    assert all(len(ln["people"]) == 1 and ln["people"][0]["box"] == [0, 0, 60, 80] for ln in lines)
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "b.png", "c.png", "d.png"]


def _bad_inputs(tmp_path, video_files):
    _, files = video_files
    cases = {}
    (tmp_path / "garbage.mp4").write_bytes(b"\x00not a video" * 100)
    cases["unreadable video"] = tmp_path / "garbage.mp4"
    data = files["video"].read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # its index is at the end
    cases["truncated mp4"] = tmp_path / "cut.mp4"
    avi = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 64))
    for i in range(30):
        writer.write(np.full((64, 64, 3), i * 8, np.uint8))
    writer.release()
    (tmp_path / "cut.avi").write_bytes(avi.read_bytes()[: avi.stat().st_size // 2])
    cases["truncated avi"] = tmp_path / "cut.avi"  # opens, stops decoding part-way
    (tmp_path / "empty").mkdir()
    cases["empty folder"] = tmp_path / "empty"
    (tmp_path / "notes.txt").write_text("hello")
    cases["non-image file"] = tmp_path / "notes.txt"
    (tmp_path / "fake.png").write_text("not a png")
    cases["damaged image"] = tmp_path / "fake.png"
    cv2.imwrite(str(tmp_path / "dot.png"), np.zeros((1, 1, 3), np.uint8))
    cases["1x1 image"] = tmp_path / "dot.png"
    writer = cv2.VideoWriter(
        str(tmp_path / "none.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64)
    )
    writer.release()
    cases["video with zero frames"] = tmp_path / "none.mp4"
    return cases


@pytest.mark.parametrize(
    "case",
    ["unreadable video", "truncated mp4", "truncated avi", "empty folder", "non-image file",
     "damaged image", "1x1 image", "video with zero frames"],
)  # fmt: skip
def test_bad_input_is_one_line_naming_the_file(
    case, video_files, tiny_model, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")  # stderr holds the error line alone
    path = _bad_inputs(tmp_path, video_files)[case]
    out = tmp_path / "pred"
    assert (
        _predict(str(path), "--model", str(tiny_model), "--out", str(out), "--detector", "full")
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and path.name in err, err
    assert not out.exists() and not list(tmp_path.glob(".pred.partial-*"))


def test_model_files_that_are_not_models_are_refused(
    video_files, tiny_model, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("SA3DHP_NO_PROGRESS", "1")
    _, files = video_files
    pickle = tmp_path / "pickle.safetensors"
    torch.save({"G": torch.zeros(3)}, pickle)
    from safetensors.torch import save_file

    other = tmp_path / "prior.safetensors"
    save_file({"x": torch.zeros(2)}, str(other), metadata={"stage": "pose_prior"})
    for bad in (pickle, other):
        out = tmp_path / "pred"
        assert _predict(str(files["video"]), "--model", str(bad), "--out", str(out)) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and bad.name in err, err
        assert not out.exists()


def test_boxes_files_in_json_by_file_and_in_csv(tmp_path):
    frame = np.zeros((50, 50, 3), np.uint8)
    (tmp_path / "b.json").write_text(json.dumps({"clip.mp4": {"2": [[1, 2, 11, 22, 0.7]]}}))
    det = BoxesDetector(tmp_path / "b.json")
    det.select("clip.mp4")
    boxes, scores = det(frame, 2)
    assert boxes.tolist() == [[1, 2, 11, 22]] and scores.tolist() == pytest.approx([0.7])
    assert len(det(frame, 3)[0]) == 0
    (tmp_path / "b.csv").write_text("frame,x0,y0,x1,y1\n0,5,5,15,40\n0,20,5,30,40\n")
    assert len(BoxesDetector(tmp_path / "b.csv")(frame, 0)[0]) == 2
    (tmp_path / "bad.json").write_text(json.dumps({"0": [[5, 5, 1, 1]]}))
    with pytest.raises(DetectorError, match=r"bad\.json"):
        BoxesDetector(tmp_path / "bad.json")


def test_torchvision_without_weights_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(DetectorError, match="--detector-weights") as e:
        make_detector("torchvision")
    assert "\n" not in str(e.value)


def test_tracker_keeps_ids_and_starts_new_ones():
    tracker = IoUTracker()
    a, b = np.array([0, 0, 10, 20.0]), np.array([50, 0, 60, 20.0])
    assert tracker.update(np.stack([a, b])).tolist() == [0, 1]
    assert tracker.update(np.stack([b + 1, a + 1])).tolist() == [1, 0]
    assert tracker.update(np.stack([a + 2, a + 100])).tolist() == [0, 2]
    assert sorted(tracker.live()) == [0, 1, 2]
    short = IoUTracker(max_age=1)
    short.update(np.stack([a, b]))
    for _ in range(2):
        short.update(a[None])
    assert short.live() == [0]  # b's track ended after more than max_age missed frames


def test_tracker_follows_a_moving_box_over_a_gap():
    tracker, box = IoUTracker(), np.array([0, 0, 10, 20.0])
    step = np.array([4.0, 0, 4, 0])  # 4 px a frame: after a 2-frame miss, 12 px from its last box
    assert [tracker.update(box[None] + f * step)[0] for f in range(4)] == [0, 0, 0, 0]
    assert len(tracker.missed(5)[0]) == 0  # not missed
    tracker.update(np.zeros((0, 4)))
    tracker.update(np.zeros((0, 4)))
    ids, boxes = tracker.missed(5)
    assert ids.tolist() == [0] and np.allclose(boxes[0], box + 5 * step)
    assert tracker.missed(1)[0].tolist() == []  # missed for 2 frames: beyond a gap of 1
    assert tracker.update(box[None] + 6 * step).tolist() == [0]  # found again where expected
    fresh = IoUTracker()
    fresh.update(box[None])
    fresh.update(np.zeros((0, 4)))
    assert fresh.missed(5)[0].tolist() == []  # seen once: a false positive is not carried


def test_one_euro_removes_jitter_and_follows_motion():
    rng = np.random.default_rng(0)
    still = 100 + rng.normal(0, 5, (120, 3))
    filt = OneEuro(30.0)
    out = np.array([filt(x) for x in still])
    assert out[30:].std() < 0.5 * still[30:].std()
    ramp = np.arange(120.0)[:, None] * np.array([20.0, 0, 0])  # 600 mm/s
    filt = OneEuro(30.0)
    lag = np.abs(np.array([filt(x) for x in ramp]) - ramp)[60:, 0].max()
    assert lag < 40  # mm
    tracks, frames = np.zeros(120, int), np.arange(120)
    assert np.allclose(smooth_tracks(still, tracks, frames, 30.0), out)


def test_nested_duplicates_of_one_person_are_suppressed():
    from sa3dhp.detect import suppress_nested

    boxes = np.array([[10, 10, 30, 60], [5, 0, 40, 75], [100, 10, 120, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert suppress_nested(boxes, scores).tolist() == [0, 2]


def test_folding_batchnorm_for_prediction_keeps_the_poses(tiny_model):
    import copy

    from sa3dhp.inference import fold_batchnorm, predict_poses

    model, prior, _ = load_image_model(tiny_model)
    folded = fold_batchnorm(copy.deepcopy(model))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.randint(0, 256, (6, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(
            predict_poses(folded, prior, x), predict_poses(model, prior, x), atol=0.01
        )
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(copy.deepcopy(model).train())


def test_iou_by_hand():
    a = np.array([[0, 0, 2, 2], [0, 0, 0, 0]], np.float32)
    b = np.array([[1, 1, 3, 3], [5, 5, 6, 6], [0, 0, 2, 2]], np.float32)
    want = np.array([[1 / 7, 0, 1], [0, 0, 0]])
    assert np.allclose(iou(a, b), want)
    assert iou(a, np.zeros((0, 4))).shape == (2, 0)
