"""Label-free diagnostics of adaptation: G's relation consistency and its spread across target
crops (a collapse check), per checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sa3dhp import pipeline
from sa3dhp.checkpoint import CheckpointError
from sa3dhp.config import Config
from sa3dhp.data.synth import load_split


@torch.no_grad()
def adaptation_diagnostics(cfg: Config, checkpoints: dict[str, Path], n: int = 256) -> dict:
    """Label-free checks of G on target_val crops, per checkpoint: relation consistency
    ``mean |Tz(G(x)) - G(tau x)|`` for each trained spatial relation of the config, and the
    spread of G(x) across crops (``z_std``, a collapse check)."""
    from sa3dhp import relations as rel
    from sa3dhp.inference import load_image_model, load_relation

    images = load_split(cfg.data, "target_val").images
    idx = np.random.default_rng(cfg.seed).choice(len(images), min(n, len(images)), replace=False)
    x = torch.as_tensor(images[np.sort(idx)]).permute(0, 3, 1, 2).float() / 255.0
    run_dir = pipeline.stage_dir(cfg, pipeline.RELATIONS_DIR)
    spatial = [r for r in cfg.relations.relations if not rel.get(r).is_temporal]
    nets = {}
    for r in spatial:
        try:
            nets[r] = load_relation(run_dir, r, cfg.relations.hidden)
        except CheckpointError:
            continue
    out = {}
    for name, path in checkpoints.items():
        model, _, _ = load_image_model(path)
        if model.head != "latent":
            continue
        z = model(x)
        row = {"z_std": round(float(z.std(dim=0).mean()), 4)}
        for r, net in nets.items():
            row[f"consistency_z({r})"] = round(
                float((net(z) - model(rel.get(r).image(x))).abs().mean()), 4
            )
        out[name] = row
    return out
