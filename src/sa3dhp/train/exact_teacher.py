"""Exact relation teachers (ours, a control: ``adapt.teacher=exact``).

The paper's relation terms ask G to agree with a relation *network* learnt on mocap:
L_z(tau) = |Tz(G(x)) - G(tau x)| and L_v(tau) = |Tv(Em(G(X))) - Em(G(tau X))|. The exact teacher
replaces the network by the relation itself, applied to G's own answer through the frozen
priors, so that a term measures G's consistency with tau and nothing of the network's error:

* L_z: ``Tz(z) := Ep(tau(Dp(z)))``, the spatial relation on the decoded pose, re-encoded.
* L_v: ``Tv(Em(Z)) := Em(tau Z)`` for the anchor's latents ``Z`` ``(N, T, 32)``. ``backward``
  reverses ``Z``; ``slow`` doubles its frame rate (linear interpolation in z between the
  anchor's frames, which are every other frame of the clip) and takes the middle half, the
  frames :meth:`sa3dhp.relations.Relation.video` takes; a spatial part acts frame by frame
  through Dp and Ep.

For a G that reads one frame at a time, ``backward`` then asks nothing (G(tau X) is tau G(X)),
``slow`` asks G's answers on the in-between frames to lie between its answers on their
neighbours (smoothness), and ``flip`` asks G to answer a mirrored crop with the mirror of its
answer. What remains of the paper's relation terms is that consistency, without the networks.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from sa3dhp import relations as rel
from sa3dhp.models.pose_prior import PosePrior
from sa3dhp.train import adapt_terms as at


def _spatial(prior: PosePrior, r: rel.Relation, z: torch.Tensor) -> torch.Tensor:
    """``Ep(tau_s(Dp(z)))`` for latents ``(..., 32)``, tau_s the spatial part of ``r``; ``z``
    itself when ``r`` has none (no round trip through the prior)."""
    if not (r.flip or r.theta):
        return z
    return at.through_pose(prior, replace(r, backward=False, slow=False).pose, z)


def double_rate(z: torch.Tensor) -> torch.Tensor:
    """The sequences ``(N, T, D)`` at twice the frame rate, ``(N, 2T, D)``: frame ``2k`` is
    ``z[:, k]``, frame ``2k + 1`` the mean of ``z[:, k]`` and ``z[:, k + 1]`` (the last one
    repeats ``z[:, -1]``)."""
    mid = torch.cat([(z[:, :-1] + z[:, 1:]) / 2, z[:, -1:]], dim=1)
    return torch.stack([z, mid], dim=2).flatten(1, 2)


def pose_teacher(prior: PosePrior, r: rel.Relation, z: torch.Tensor) -> torch.Tensor:
    """The exact L_z teacher for a spatial relation: ``Ep(tau(Dp(z)))``, ``(B, 32)``."""
    if r.is_temporal:
        raise ValueError(f"L_z takes a spatial relation, got '{r.name}'")
    return _spatial(prior, r, z)


def motion_latents(prior: PosePrior, r: rel.Relation, anchor: torch.Tensor) -> torch.Tensor:
    """The exact relation of the anchor's latent sequences ``(N, T, 32)``: the latents
    ``(N, T, 32)`` whose motion L_v's exact teacher encodes (``Em`` of this)."""
    seq = double_rate(anchor) if r.slow else anchor
    return _spatial(prior, r, r.sequence(seq, axis=1))
