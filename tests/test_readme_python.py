"""The README's Python block runs as written, on a tiny model file."""

import re
from pathlib import Path

import cv2
import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block() -> str:
    text = README.read_text()
    section = text[text.index("### From Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_block_predicts(tiny_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images").mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite("images/person.png", rng.integers(0, 255, (96, 64, 3), dtype=np.uint8))
    code = python_block().replace('"model.safetensors"', repr(str(tiny_model)))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["poses"].shape == (8, 17, 3) and np.isfinite(scope["poses"]).all()
    assert (tmp_path / "pred" / "predictions.jsonl").is_file()
    assert scope["summary"]["people"] == 1
