"""Algorithm 1 steps 8-11: unsupervised adaptation of G on unlabelled target videos.

G starts from Gs; only the blocks in ``trainable`` (default torchvision ``layer2``, the paper's
Res-3) receive updates; Dp, Em, and the relation networks Tz/Tv are frozen. Every BatchNorm stays
in eval mode (running statistics of the source): the distillation batches hold frames of few
clips, whose batch statistics would be far from the data's. Refreshing the statistics on the
target instead is the separate AdaBN baseline (:func:`~sa3dhp.train.adapt_terms.adabn`).

Losses (``losses``; METHOD.md), each with its own Adam, stepped in alternation (step ``s``
minimises loss ``s mod len(losses)``):

* ``cr`` -- L_CR: InfoNCE between projections of G(A1(x)) and G(A2(x)) for ``frames`` frames, one
  per clip (so the other clips' frames are the negatives); A = pose-preserving photometric
  jitter, blur and a few pixels of shift; every sample is an anchor; 128-d L2-normalised
  projection head, temperature 0.07.
* ``hcr`` -- L_HCR: the same on motion latents Em(G(X)) of ``clips`` clips.
* ``z:REL`` -- L_z(tau) = |Tz(G(x)) - G(tau x)| on ``frames`` frames (L1, as the authors' code).
* ``v:REL`` -- L_v(tau) = |Tv(Em(G(X))) - Em(G(tau X))| on ``clips`` clips of ``seq_len`` frames
  (``slow`` pairs use the 60-frame clip: anchor = every other frame, tau = middle half).

Our collapse guard (``collapse_guard`` > 0; off = the paper's objective): the relation terms are
minimised by a G whose outputs all sit near a fixed point of Tz, which L_CR on one frame per clip
does not stop; the guard keeps G's per-dimension spread at Gs's (:func:`spread_hinge`).

Target labels are never read: the data is the ``target_train`` split, which has none, and the
result is the run's last checkpoint.

Determinism: the projection heads start from the run seed (not the global RNG), every batch and
augmentation of step ``k`` comes from ``(seed, k)``, the global RNGs are reseeded from
``(seed, k)`` at every step, and on CUDA cuDNN is restricted to deterministic algorithms; two runs
of the same command, and a killed run resumed, give the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from sa3dhp.device import autocast, resolve_device
from sa3dhp.inference import G_STAGE, load_image_model
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.provenance import check as check_provenance
from sa3dhp.train.adapt_terms import (
    DEMO_LOSSES,
    check_terms,
    clip_batch,
    deterministic,
    frame_batch,
    info_nce,
    latent_spread,
    parse_losses,
    pose_preserving,
    projection_heads,
    report,
    set_trainable,
    spread_hinge,
)
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import seed_step, step_generator
from sa3dhp.train.trainer import Trainer

STAGE = G_STAGE  # an adapted G is a G checkpoint: `evaluate` reads it as such


@dataclass
class AdaptConfig:
    """Adaptation (demo: a few minutes on 2 CPU cores; the paper: 8 clips x 30 frames)."""

    losses: list[str] = field(default_factory=lambda: list(DEMO_LOSSES))
    trainable: list[str] = field(default_factory=lambda: ["layer2"])
    steps: int = 240
    frames: int = 32  # frames per lower-order batch (one per clip)
    clips: int = 2  # clips per higher-order batch
    lr: float = 1e-5  # distillation terms (the paper's value)
    lr_contrastive: float = 2e-5  # contrastive terms and their projection heads (the paper's)
    temperature: float = 0.07
    proj_dim: int = 128
    shift_px: int = 3  # contrastive augmentation: max shift, pixels at 64 px
    amp: bool = True  # bf16 autocast on CUDA and on CPUs with native bf16 (false: fp32)
    adabn_frames: int = 4096  # target frames whose statistics the AdaBN baseline uses
    checkpoint_every: int = 80
    log_every: int = 8
    # our collapse guard (0 = the paper's objective): + weight x mean_d max(0, s_d - std_d(G(x)))
    # on the lower-order batches (one frame per clip), s_d = Gs's spread on target_train frames
    collapse_guard: float = 0.0
    # every N steps, log target_val MPJPE (labels: for the report only, never to choose a step
    # or a setting) and G's spread over those crops (label-free); 0: never
    eval_every: int = 0


class Adapter:
    """Computes the adaptation losses for a G, its frozen teachers, and unlabelled target clips.

    Args:
        model: G (modified in place by the optimisers of :func:`train`).
        motion_prior: Em (needed by ``hcr`` and ``v:`` terms).
        nets: relation networks by relation name.
        clips: unlabelled target clips ``(C, L, 3, S, S)`` uint8, L >= 2 x ``seq_len``.
        seed: the run seed; the projection heads are initialised from it (the global RNG is
            left as it was).
    """

    def __init__(
        self,
        cfg: AdaptConfig,
        model: ImageToLatent,
        motion_prior: MotionPrior | None,
        nets: dict[str, RelationNet],
        clips: torch.Tensor,
        device: torch.device,
        seed: int = 0,
    ) -> None:
        self.cfg, self.model, self.motion, self.nets = cfg, model, motion_prior, nets
        self.clips, self.device = clips, device
        self.seq_len = motion_prior.seq_len if motion_prior is not None else 30
        self.terms = parse_losses(cfg.losses)
        self.guard_std: torch.Tensor | None = None  # set by train() from Gs (collapse guard)
        self.heads = projection_heads(self.terms, seed, cfg.proj_dim).to(device)
        check_terms(self.terms, motion_prior, nets)

    def name(self, i: int) -> str:
        """Log name of term ``i``, e.g. ``L_z(flip)``."""
        kind, r = self.terms[i]
        return {"cr": "L_CR", "hcr": "L_HCR"}.get(kind, f"L_{kind}({r.name if r else ''})")

    def params(self, i: int, backbone: list[nn.Parameter]) -> list[nn.Parameter]:
        """Parameters the optimiser of term ``i`` updates."""
        kind = self.terms[i][0]
        head = {"cr": "proj_z", "hcr": "proj_v"}.get(kind)
        return backbone + (list(self.heads[head].parameters()) if head else [])

    def lr(self, i: int) -> float:
        """Learning rate of term ``i``."""
        return self.cfg.lr_contrastive if self.terms[i][0] in ("cr", "hcr") else self.cfg.lr

    # ------------------------------------------------------------------ batches
    def _frames(self, gen: torch.Generator) -> torch.Tensor:
        return frame_batch(self.clips, self.cfg.frames, gen)  # one frame per clip

    def _clips(self, length: int, gen: torch.Generator) -> torch.Tensor:
        return clip_batch(self.clips, self.cfg.clips, length, gen)

    def _g(self, x: torch.Tensor) -> torch.Tensor:
        """G on uint8 or float crops ``(..., 3, S, S)`` -> ``(..., 32)`` (float32)."""
        lead = x.shape[:-3]
        x = x.flatten(0, len(lead) - 1).to(self.device) if len(lead) > 1 else x.to(self.device)
        with autocast(self.device, self.cfg.amp):
            z = self.model(x.float() / 255.0 if not x.is_floating_point() else x)
        return z.float().view(*lead, -1)

    def _em(self, z_seq: torch.Tensor) -> torch.Tensor:
        # cuDNN's RNN backward refuses eval mode; the frozen Em needs input gradients only
        with torch.backends.cudnn.flags(enabled=False):
            return self.motion.encode(z_seq)  # type: ignore[union-attr]

    def loss(self, i: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """Term ``i`` on a fresh batch: ``{"loss": ..., "z_std": ...}``."""
        kind, r = self.terms[i]
        cfg = self.cfg
        if kind == "cr":
            x = self._frames(gen)
            a = self._g(pose_preserving(x, gen, cfg.shift_px))
            b = self._g(pose_preserving(x, gen, cfg.shift_px))
            head = self.heads["proj_z"]
            loss, z = info_nce(head(a), head(b), cfg.temperature), a
        elif kind == "hcr":
            x = self._clips(self.seq_len, gen)
            za = self._g(pose_preserving(x, gen, cfg.shift_px))
            zb = self._g(pose_preserving(x, gen, cfg.shift_px))
            head = self.heads["proj_v"]
            loss = info_nce(head(self._em(za)), head(self._em(zb)), cfg.temperature)
            z = za.flatten(0, 1)
        elif kind == "z":
            assert r is not None
            x = self._frames(gen).float() / 255.0
            z = self._g(x)
            z_tau = self._g(r.image(x))
            loss = (self.nets[r.name](z) - z_tau).abs().mean()
        else:
            assert r is not None
            x = self._clips(r.clip_length(self.seq_len), gen).float() / 255.0
            za = self._g(r.anchor_video(x))
            zt = self._g(r.video(x))
            loss = (self.nets[r.name](self._em(za)) - self._em(zt)).abs().mean()
            z = za.flatten(0, 1)
        # the guard reads batches of one frame per clip only (frames of a clip are alike)
        if kind in ("cr", "z") and cfg.collapse_guard > 0 and self.guard_std is not None:
            loss = loss + cfg.collapse_guard * spread_hinge(z, self.guard_std)
        return {"loss": loss, "z_std": z.detach().std(dim=0).mean()}


#: ``load(path, device)``: an adapted G (a G checkpoint) in eval mode, the pose prior it decodes
#: with and the checkpoint's info (:func:`sa3dhp.inference.load_image_model`).
load = load_image_model


def train(
    cfg: AdaptConfig,
    model: ImageToLatent,
    motion_prior: MotionPrior | None,
    nets: dict[str, RelationNet],
    clips: torch.Tensor,
    run_dir: str | Path,
    seed: int = 0,
    device: str = "auto",
    arch: dict | None = None,
    extra: dict | None = None,
    provenance: dict | None = None,
    report_sets: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    prior: PosePrior | None = None,
) -> dict:
    """Adapt ``model`` (initialised from Gs) on unlabelled target ``clips``; resumable.

    ``report_sets`` (``{name: (uint8 crops (N, 3, S, S), poses (N, 17, 3))}``, decoded with
    ``prior``) are evaluated every ``cfg.eval_every`` steps for the learning curves of the
    report; nothing in the run reads them.

    ``provenance`` (:mod:`sa3dhp.provenance`) is stored in every checkpoint and, when given, an
    existing checkpoint with another record is refused before anything is loaded.

    Returns:
        the mean of each term over the last quarter of the run (at least one step of each;
        diagnostics, not selection).
    """
    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoint.safetensors"
    if ckpt.exists() and provenance is not None:
        check_provenance(ckpt, provenance, STAGE)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    backbone = set_trainable(model, cfg.trainable)
    if motion_prior is not None:
        motion_prior = motion_prior.to(dev).eval().requires_grad_(False)
    nets = {k: v.to(dev).eval().requires_grad_(False) for k, v in nets.items()}
    adapter = Adapter(cfg, model, motion_prior, nets, clips, dev, seed)
    if cfg.collapse_guard > 0:
        # Gs's own spread: measured before a resumed run's weights are loaded, so a resumed
        # run has the same floor as the straight one
        adapter.guard_std = latent_spread(model, clips, 512, seed, dev)
    opts = {
        f"loss{i}": adam(adapter.params(i, backbone), adapter.lr(i))
        for i in range(len(adapter.terms))
    }
    names = [adapter.name(i) for i in range(len(adapter.terms))]
    trainer = Trainer.for_stage(
        run_dir,
        cfg,
        stage=STAGE,
        arch=arch or {},
        models={"G": model, **{k: v for k, v in adapter.heads.items()}},
        optimizers=opts,
        provenance=provenance,
        extra={"variant": "adapted", "losses": list(cfg.losses), **(extra or {})},
        desc="adapt",
        # one record per term around every multiple of log_every (the terms take turns)
        should_log=lambda step: (step + 1) % cfg.log_every < len(names) or step + 1 == cfg.steps,
    )
    start = trainer.resume()
    tail: dict[str, list[float]] = {n: [] for n in names}

    def train_step(step: int, lr: float | None) -> dict:
        i = step % len(adapter.terms)  # one Adam per term, in turn
        opt = opts[f"loss{i}"]
        gen = step_generator(seed * 7907 + 11, step)
        seed_step(seed * 7907 + 11, step, 1)  # any global-RNG draw is keyed by the step
        with deterministic(dev):
            out = adapter.loss(i, gen)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            opt.step()
        if step >= cfg.steps - max(len(names), cfg.steps // 4):
            tail[names[i]].append(out["loss"].item())
        return {names[i]: out["loss"], "z_std": out["z_std"]}

    def evaluate() -> dict:
        return report(model, prior, report_sets, dev)  # type: ignore[arg-type]

    trainer.fit(train_step, start, evaluate if report_sets else None, cfg.eval_every)
    return {n: round(sum(v) / len(v), 5) for n, v in tail.items() if v}
