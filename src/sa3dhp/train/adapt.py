"""Algorithm 1 steps 8-11: unsupervised adaptation of G on unlabelled target videos.

G starts from Gs; only the blocks in ``trainable`` (default torchvision ``layer2``, the paper's
Res-3) receive updates; Dp, Em, and the relation networks Tz/Tv are frozen. Every BatchNorm stays
in eval mode (running statistics of the source): the distillation batches hold frames of few
clips, whose batch statistics would be far from the data's. Refreshing the statistics on the
target instead is the separate AdaBN baseline (:func:`~sa3dhp.train.adapt_terms.adabn`), and our
option ``bn="target"``: AdaBN's statistics before the first step, re-estimated every
``bn_every`` steps as the trained block changes what the later BatchNorms see.

Losses (``losses``; METHOD.md), each with its own Adam, stepped in alternation (step ``s``
minimises loss ``s mod len(losses)``):

* ``cr`` -- L_CR: InfoNCE between projections of G(A1(x)) and G(A2(x)) for ``frames`` frames, one
  per clip (so the other clips' frames are the negatives); A = pose-preserving photometric
  jitter, blur and a few pixels of shift; every sample is an anchor; 128-d L2-normalised
  projection head, temperature 0.07. Our option ``cr_negatives="same_clip"`` takes
  ``cr_per_clip`` frames from each clip instead, and each anchor's negatives are the other
  frames of its own clip (same look, other poses).
* ``hcr`` -- L_HCR: the same on motion latents Em(G(X)) of ``clips`` clips.
* ``z:REL`` -- L_z(tau) = |Tz(G(x)) - G(tau x)| on ``frames`` frames (L1, as the authors' code).
* ``v:REL`` -- L_v(tau) = |Tv(Em(G(X))) - Em(G(tau X))| on ``clips`` clips of ``seq_len`` frames
  (``slow`` pairs use the 60-frame clip: anchor = every other frame, tau = middle half).
* ``src`` -- ours, not the paper's: the source-training loss (mean joint distance of
  FK(Dp(G(xs))) to ys, metres) on ``frames`` labelled source frames with photometric jitter,
  an anchor that keeps G's poses where the source taught them while the other terms pull.

Our option ``relation_facing="free"`` lets G(tau x) (Em(G(tau X))) meet the relation's answer
as it is or depth-mirrored, whichever is nearer (:func:`~sa3dhp.train.adapt_terms.relation_l1`),
as ``cr_positive="view_or_mirror"`` does for L_CR: neither then asks G to settle facing.

Our option ``teacher_grad=False`` makes the relation side a fixed teacher: the gradient of
L_z / L_v reaches G only through G(tau x) (distillation in the usual sense, one way).

Our control ``teacher="exact"`` replaces the relation networks by the relation itself, applied
to G's own answer through the frozen priors (:mod:`~sa3dhp.train.exact_teacher`): a term then
measures G's consistency with tau and nothing of the networks' error.

Our non-localness guard (``nonlocal_guard`` > 0) adds, to each relation term, a hinge that keeps
the mean distance between G's latents of x and tau x at least the relation's non-localness on
the mocap (:func:`sa3dhp.runs.adaptation.nonlocalness`).

Our collapse guard (``collapse_guard`` > 0; off = the paper's objective) keeps G's
per-dimension spread at Gs's (:func:`~sa3dhp.train.adapt_terms.spread_hinge`): the relation terms
are minimised by a G whose outputs sit near a fixed point of Tz, which L_CR on one frame per clip
does not stop. It reads the batches of one frame per clip only (:meth:`Adapter.guarded`). Target
labels are never read; the result is the run's last checkpoint. Runs are deterministic for a seed
(:mod:`sa3dhp.train.adapt_terms`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from sa3dhp import relations as rel
from sa3dhp.data.augment import augment_images, pose_preserving
from sa3dhp.device import resolve_device
from sa3dhp.inference import G_STAGE, load_image_model
from sa3dhp.models.image_to_latent import ImageToLatent
from sa3dhp.models.motion_prior import MotionPrior
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.models.relation_net import RelationNet
from sa3dhp.provenance import check as check_provenance
from sa3dhp.train import adapt_terms as at
from sa3dhp.train import exact_teacher as et
from sa3dhp.train.optim import adam
from sa3dhp.train.sampling import seed_step, step_generator
from sa3dhp.train.trainer import Trainer

STAGE = G_STAGE  # an adapted G is a G checkpoint: `evaluate` reads it as such


@dataclass
class AdaptConfig:
    """Adaptation (demo: a few minutes on 2 CPU cores; the paper: 8 clips x 30 frames)."""

    losses: list[str] = field(default_factory=lambda: list(at.DEMO_LOSSES))
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
    # our BatchNorm option: "source" keeps Gs's source statistics throughout (the paper's);
    # "target" re-estimates every BatchNorm's statistics on adabn_frames unlabelled target_train
    # frames (AdaBN) before the first step and every bn_every steps with the current weights
    bn: str = "source"
    bn_every: int = 100
    # our option: false makes the relation side of L_z / L_v a fixed teacher, Tz(G(x)) and
    # Tv(Em(G(X))) without gradient, so only G(tau x) is pulled (true: both sides, as the
    # loss is written; the supplement does not say)
    teacher_grad: bool = True
    # our non-localness guard (0 = off): + weight x max(0, d_tau - mean |G(x) - G(tau x)|) on
    # each L_z (and the same on Em for L_v), d_tau = the relation's non-localness on the mocap
    # (mean |Ep(y) - Ep(tau y)|, same metric): G may not answer tau x as it answers x, which
    # rules out the fixed points of tau where the relation terms are smallest
    nonlocal_guard: float = 0.0
    # L_CR's negatives: "clips" (the paper's) takes one frame per clip, so every negative is
    # another clip, told apart by its person and background as well as its pose; "same_clip"
    # (ours) takes cr_per_clip frames from each of frames // cr_per_clip clips, and each
    # anchor's negatives are the other frames of its own clip, whose look is the same
    cr_negatives: str = "clips"
    cr_per_clip: int = 8
    # L_CR's positive: "view" (the paper's) is the other view; "view_or_mirror" (ours) is the
    # other view or its depth mirror (the same 2D joints facing the other way, through the
    # frozen pose prior), whichever is nearer, so L_CR does not ask G to settle facing
    cr_positive: str = "view"
    # the relation terms' student: "match" (the paper's) asks G(tau x) (Em(G(tau X)) for L_v) to
    # match the relation's answer as it is; "free" (ours) takes it or its depth mirror (each
    # frame facing the other way, through the frozen pose prior), whichever is nearer, so a
    # relation term does not ask G to settle facing either
    relation_facing: str = "match"
    # the relation side of L_z / L_v: "network" (the paper's) is the relation network's answer
    # Tz(G(x)), Tv(Em(G(X))); "exact" (ours, a control) applies tau to G's own answer through the
    # frozen priors (sa3dhp.train.exact_teacher), so a term measures G's consistency with tau
    teacher: str = "network"
    # every N steps, log target_val MPJPE (labels: for the report only, never to choose a step
    # or a setting) and G's spread over those crops (label-free); 0: never
    eval_every: int = 0


#: The adaptation options that name a choice: option -> (the paper's, ours).
CHOICES = {
    "bn": ("source", "target"),
    "cr_negatives": ("clips", "same_clip"),
    "cr_positive": ("view", "view_or_mirror"),
    "relation_facing": ("match", "free"),
    "teacher": ("network", "exact"),
}

#: Our options that decode through the frozen pose prior: option -> the value that needs it.
NEEDS_PRIOR = {"cr_positive": "view_or_mirror", "relation_facing": "free", "teacher": "exact"}


def needs_prior(cfg: AdaptConfig) -> str | None:
    """The first of our options of :data:`NEEDS_PRIOR` set to decode through the pose prior, as
    ``adapt.KEY=VALUE``; None when none is."""
    return next((f"adapt.{k}={v}" for k, v in NEEDS_PRIOR.items() if getattr(cfg, k) == v), None)


def check_choices(cfg: AdaptConfig) -> None:
    """Refuse an option of :data:`CHOICES` set to anything else, in one line (e.g.
    ``adapt.bn=x: choose source (the paper's) or target``)."""
    for key, (paper, ours) in CHOICES.items():
        value = getattr(cfg, key)
        if value not in (paper, ours):
            raise ValueError(f"adapt.{key}={value}: choose {paper} (the paper's) or {ours}")


class Adapter:
    """Computes the adaptation losses for a G, its frozen teachers, and unlabelled target clips.

    Args:
        model: G (modified in place by the optimisers of :func:`train`).
        motion_prior: Em (needed by ``hcr`` and ``v:`` terms).
        nets: relation networks by relation name.
        clips: unlabelled target clips ``(C, L, 3, S, S)`` uint8, L >= 2 x ``seq_len``.
        seed: the run seed; the projection heads are initialised from it (the global RNG is
            left as it was).
        source: labelled source frames ``(uint8 (N, 3, S, S), poses (N, 17, 3) mm)`` and
            ``prior``, the frozen pose prior (needed by the ``src`` term only).
        nonlocalness: ``{relation name: d_tau}``, the margins of the non-localness guard.
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
        source: tuple[torch.Tensor, torch.Tensor] | None = None,
        prior: PosePrior | None = None,
        nonlocalness: dict[str, float] | None = None,
    ) -> None:
        self.cfg, self.model, self.motion, self.nets = cfg, model, motion_prior, nets
        self.source, self.prior, self.nonlocalness = source, prior, nonlocalness or {}
        self.clips, self.device = clips, device
        self.seq_len = motion_prior.seq_len if motion_prior is not None else 30
        self.terms = at.parse_losses(cfg.losses)
        self.guard_std: torch.Tensor | None = None  # set by train() from Gs (collapse guard)
        self.heads = at.projection_heads(self.terms, seed, cfg.proj_dim).to(device)
        at.check_terms(
            self.terms, motion_prior, nets, source if prior is not None else None, cfg.teacher
        )
        if (option := needs_prior(cfg)) and prior is None:
            raise ValueError(f"{option} needs the pose prior")
        if cfg.collapse_guard > 0 and not any(map(self.guarded, range(len(self.terms)))):
            raise ValueError(
                f"adapt.collapse_guard={cfg.collapse_guard}: no term of {list(cfg.losses)} has "
                "batches of one frame per clip (L_z, or L_CR with adapt.cr_negatives=clips) for "
                "it to read; add one or set adapt.collapse_guard=0"
            )

    def guarded(self, i: int) -> bool:
        """Whether the collapse guard reads term ``i``'s batches: those of one frame per clip
        only (L_z, and L_CR with the paper's negatives), as Gs's spread was measured; the frames
        of one clip are alike, so a batch of a few clips would show too little spread."""
        kind = self.terms[i][0]
        return kind == "z" or (kind == "cr" and self.cfg.cr_negatives == "clips")

    def optimizer(self, i: int, backbone: list[nn.Parameter]) -> torch.optim.Optimizer:
        """Term ``i``'s own Adam: the trainable blocks (and its projection head) at its lr."""
        head = at.HEAD_OF.get(self.terms[i][0])
        params = backbone + (list(self.heads[head].parameters()) if head else [])
        return adam(params, self.cfg.lr_contrastive if head else self.cfg.lr)

    def _g(self, x: torch.Tensor) -> torch.Tensor:
        return at.encode(self.model, x, self.device, self.cfg.amp)

    def _teacher(
        self,
        r: rel.Relation,
        z: torch.Tensor,
        em: Callable | None = None,
        v: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The relation side of L_z (``z`` = G(x)) or of L_v (``z`` = G(X) of the anchor,
        ``v`` = Em(z), ``em`` = Em): the relation network's answer, or with our
        ``teacher=exact`` tau of G's own answer (:mod:`~sa3dhp.train.exact_teacher`); detached
        unless ``teacher_grad``."""
        if at.needs_networks(self.cfg.teacher):
            t = self.nets[r.name](z if v is None else v)
        elif em is None:
            t = et.pose_teacher(self.prior, r, z)  # type: ignore[arg-type]
        else:
            t = em(et.motion_latents(self.prior, r, z))  # type: ignore[arg-type]
        return t if self.cfg.teacher_grad else t.detach()

    def _nonlocal(self, name: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor | float:
        """The non-localness guard of relation ``name`` on the latents of x and tau x."""
        if self.cfg.nonlocal_guard <= 0:
            return 0.0
        if name not in self.nonlocalness:
            raise ValueError(f"adapt.nonlocal_guard: no non-localness for '{name}'")
        gap = self.nonlocalness[name] - (a - b).abs().mean()
        return self.cfg.nonlocal_guard * torch.relu(gap)

    def _mirror(self, z: torch.Tensor, then: Callable | None = None) -> torch.Tensor:
        """``then`` (default: nothing) of the depth mirror of latents ``z`` ``(..., 32)``, each
        frame facing the other way through the frozen pose prior (our facing options)."""
        assert self.prior is not None
        flat = at.depth_mirror_latent(self.prior, z)
        return then(flat) if then is not None else flat

    def _student_mirror(self, z: torch.Tensor, then: Callable | None = None) -> torch.Tensor | None:
        """Our ``relation_facing=free``: :meth:`_mirror` of the relation term's student side;
        None under the paper's ``match``."""
        return self._mirror(z, then) if self.cfg.relation_facing == "free" else None

    def loss(self, i: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """Term ``i`` on a fresh batch: ``{"loss": ..., "z_std": ...}``."""
        kind, r = self.terms[i]
        cfg, em = self.cfg, lambda z: at.encode_motion(self.motion, z)
        if kind in ("cr", "hcr"):  # two pose-preserving views; the other samples are negatives
            groups = None
            if kind == "hcr":
                x = at.clip_batch(self.clips, cfg.clips, self.seq_len, gen)
            elif cfg.cr_negatives == "same_clip":  # ours: negatives share the anchor's look
                x, groups = at.clip_frames_batch(self.clips, cfg.frames, cfg.cr_per_clip, gen)
            else:
                x = at.frame_batch(self.clips, cfg.frames, gen)  # one frame per clip
            za = self._g(pose_preserving(x, gen, cfg.shift_px))
            zb = self._g(pose_preserving(x, gen, cfg.shift_px))
            head = self.heads[at.HEAD_OF[kind]]
            a, b = (za, zb) if kind == "cr" else (em(za), em(zb))
            mirrors = None
            if kind == "cr" and cfg.cr_positive == "view_or_mirror":  # ours
                mirrors = tuple(self._mirror(v, head) for v in (za, zb))
            loss = at.info_nce(head(a), head(b), cfg.temperature, groups, mirrors)
            z = za.flatten(0, -2)
        elif kind == "src":  # ours: the source-training loss on labelled source frames
            assert self.source is not None and self.prior is not None
            images, poses = self.source
            idx = torch.randint(len(images), (cfg.frames,), generator=gen)
            z = self._g(augment_images(images[idx], gen))
            pred = self.prior.decode(z)
            loss = (pred - poses[idx].to(pred)).norm(dim=-1).mean() / 1000.0
        elif kind == "z":  # L_z(tau) = |Tz(G(x)) - G(tau x)|
            assert r is not None
            x = at.frame_batch(self.clips, cfg.frames, gen).float() / 255.0
            z, student = self._g(x), self._g(r.image(x))
            teacher = self._teacher(r, z)
            loss = at.relation_l1(teacher, student, self._student_mirror(student))
            loss = loss + self._nonlocal(r.name, z, student)
        else:  # L_v(tau) = |Tv(Em(G(X))) - Em(G(tau X))|
            assert r is not None
            x = at.clip_batch(self.clips, cfg.clips, r.clip_length(self.seq_len), gen)
            x = x.float() / 255.0
            za, zt = self._g(r.anchor_video(x)), self._g(r.video(x))
            anchor, student = em(za), em(zt)
            teacher = self._teacher(r, za, em, anchor)
            loss = at.relation_l1(teacher, student, self._student_mirror(zt, em))
            loss = loss + self._nonlocal(r.name, anchor, student)
            z = za.flatten(0, 1)
        if cfg.collapse_guard > 0 and self.guard_std is not None and self.guarded(i):
            loss = loss + cfg.collapse_guard * at.spread_hinge(z, self.guard_std)
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
    source: tuple[torch.Tensor, torch.Tensor] | None = None,
    nonlocalness: dict[str, float] | None = None,
) -> dict:
    """Adapt ``model`` (initialised from Gs) on unlabelled target ``clips``; resumable, and
    refused when an existing checkpoint has another ``provenance`` (:mod:`sa3dhp.provenance`).
    ``report_sets`` (``{name: (uint8 crops, poses)}``, decoded with ``prior``) are evaluated every
    ``cfg.eval_every`` steps for the report's learning curves; nothing in the run reads them.
    ``source`` (labelled source crops and poses, decoded with ``prior``) feeds the ``src`` term;
    ``nonlocalness`` (``{relation: d_tau}``) the non-localness guard.

    Returns:
        the mean of each term over the last quarter of the run (diagnostics, not selection).
    """
    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoint.safetensors"
    if ckpt.exists() and provenance is not None:
        check_provenance(ckpt, provenance, STAGE)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    backbone = at.set_trainable(model, cfg.trainable)
    motion_prior, nets = at.freeze_teachers(motion_prior, nets, dev)
    check_choices(cfg)
    if prior is not None:
        prior = prior.to(dev).eval().requires_grad_(False)
    adapter = Adapter(cfg, model, motion_prior, nets, clips, dev, seed, source, prior, nonlocalness)
    if cfg.collapse_guard > 0:
        # Gs's own spread, measured before a resumed run's weights are loaded
        adapter.guard_std = at.latent_spread(model, clips, 512, seed, dev)
    opts = {f"loss{i}": adapter.optimizer(i, backbone) for i in range(len(adapter.terms))}
    names = [at.term_name(t) for t in adapter.terms]
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
    bn_frames = at.target_frames(clips, cfg.adabn_frames, seed) if cfg.bn == "target" else None

    def train_step(step: int, lr: float | None) -> dict:
        i = step % len(adapter.terms)  # one Adam per term, in turn
        opt = opts[f"loss{i}"]
        if bn_frames is not None and step % cfg.bn_every == 0:  # resumed runs redo it alike
            at.adabn(model, bn_frames, seed=seed)
        gen = step_generator(seed * 7907 + 11, step)
        seed_step(seed * 7907 + 11, step, 1)  # any global-RNG draw is keyed by the step
        with at.deterministic(dev):
            out = adapter.loss(i, gen)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            opt.step()
        if step >= cfg.steps - max(len(names), cfg.steps // 4):
            tail[names[i]].append(out["loss"].item())
        return {names[i]: out["loss"], "z_std": out["z_std"]}

    def evaluate() -> dict:
        return at.report(model, prior, report_sets, dev)  # type: ignore[arg-type]

    trainer.fit(train_step, start, evaluate if report_sets else None, cfg.eval_every)
    return {n: round(sum(v) / len(v), 5) for n, v in tail.items() if v}
