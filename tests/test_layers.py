"""Layers only point down: evaluation, scoring and inference import no training code; geometry
imports no models or data; models import no stages, data or config."""

import json
import subprocess
import sys

import pytest

_PROBE = """
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    out[name] = sorted(m for m in sys.modules if m.startswith("sa3dhp"))
    for m in [m for m in sys.modules if m.startswith("sa3dhp")]:
        del sys.modules[m]
print(json.dumps(out))
"""

READERS = [
    "sa3dhp.evaluate",
    "sa3dhp.scoring",
    "sa3dhp.inference",
    "sa3dhp.predict",
    "sa3dhp.protocols",
    "sa3dhp.relation_pairs",
]
GEOMETRY = ["sa3dhp.kinematics", "sa3dhp.camera", "sa3dhp.skeleton", "sa3dhp.plausibility"]
MODELS = [
    "sa3dhp.models.image_to_latent",
    "sa3dhp.models.pose_prior",
    "sa3dhp.models.motion_prior",
    "sa3dhp.models.relation_net",
]


@pytest.fixture(scope="module")
def imported() -> dict[str, list[str]]:
    names = READERS + GEOMETRY + MODELS
    res = subprocess.run([sys.executable, "-c", _PROBE, *names], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout)


@pytest.mark.parametrize("name", READERS)
def test_readers_import_no_training_code(imported, name):
    assert imported[name], "the probe saw no module"
    assert [m for m in imported[name] if m.startswith("sa3dhp.train")] == []


@pytest.mark.parametrize("name", GEOMETRY)
def test_geometry_imports_no_models_or_data(imported, name):
    bad = ("sa3dhp.models", "sa3dhp.data", "sa3dhp.train", "sa3dhp.config")
    assert [m for m in imported[name] if m.startswith(bad)] == []


@pytest.mark.parametrize("name", MODELS)
def test_models_import_no_stages_data_or_config(imported, name):
    bad = ("sa3dhp.train", "sa3dhp.data", "sa3dhp.config", "sa3dhp.runs", "sa3dhp.pipeline")
    assert [m for m in imported[name] if m.startswith(bad)] == []
