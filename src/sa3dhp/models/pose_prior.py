"""Pose prior {Ep, Dp}: an adversarial auto-encoder with a uniform latent z in [-1, 1]^32.

Ep: root-relative pose ``(B, 17, 3)`` mm -> z ``(B, 32)`` (tanh). Dp: z -> local representation
(root vectors, bone directions, bone lengths; :mod:`sa3dhp.kinematics`) -> forward kinematics ->
pose ``(B, 17, 3)`` mm. A discriminator on z (:class:`LatentCritic`) pushes the distribution of
Ep(y) towards U[-1, 1]^32 so that Dp decodes *any* z in the cube to a plausible pose.

Two architectures (``arch``):

* ``"mlp"``: plain residual MLPs;
* ``"tree"``: the authors' kinematic-tree-structured FC network (Kundu et al., AAAI 2020): the
  encoder goes joints -> limbs (trunk, two arms, two legs) -> trunk+limb -> upper / lower body ->
  full body, and the decoder mirrors it, each part predicting its own bones.

Bone lengths (``lengths``): ``"predicted"`` -- Dp predicts a per-bone scale of the canonical
length in [exp(-0.35), exp(0.35)] from z, so subjects of different size and proportions are
reconstructed; ``"canonical"`` -- FK uses the canonical lengths (then the error is bounded below
by the subjects' deviation from the canonical skeleton; ``sa3dhp evaluate prior`` measures it).
"""

from __future__ import annotations

import torch
from torch import nn

from sa3dhp import kinematics as kin
from sa3dhp import skeleton as sk

LATENT_DIM = 32
POSE_SCALE_MM = 1000.0  # network inputs and root-vector outputs are in metres
LENGTH_LOG_RANGE = 0.35

# Kinematic-tree parts: the joints each part reads (encoder) and the bones it writes (decoder).
TRUNK = (sk.PELVIS, sk.L_HIP, sk.R_HIP, sk.SPINE, sk.THORAX, sk.NECK, sk.HEAD)
LIMBS = {
    "trunk": TRUNK,
    "l_arm": (sk.L_SHOULDER, sk.L_ELBOW, sk.L_WRIST),
    "r_arm": (sk.R_SHOULDER, sk.R_ELBOW, sk.R_WRIST),
    "l_leg": (sk.L_KNEE, sk.L_ANKLE),
    "r_leg": (sk.R_KNEE, sk.R_ANKLE),
}
TRUNK_BONES = (sk.SPINE, sk.NECK, sk.HEAD)  # direction bones the trunk part decodes


def _mlp(dims: list[int], last_act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2 or last_act:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class ResidualMLP(nn.Module):
    """Linear -> ``blocks`` x (two-layer residual block) -> Linear."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, blocks: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_dim, hidden)
        self.blocks = nn.ModuleList(
            _mlp([hidden, hidden, hidden], last_act=False) for _ in range(blocks)
        )
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(x))
        for block in self.blocks:
            h = self.act(h + block(h))
        return self.out(h)


class TreeEncoder(nn.Module):
    """Kinematic-tree encoder: limbs -> trunk+limb -> upper/lower body -> body -> z."""

    def __init__(self, hidden: int, out_dim: int) -> None:
        super().__init__()
        h = hidden
        self.limb = nn.ModuleDict({k: _mlp([3 * len(v), h // 2, h // 2]) for k, v in LIMBS.items()})
        self.pair = nn.ModuleDict({k: _mlp([h, h // 2]) for k in LIMBS if k != "trunk"})
        self.halves = nn.ModuleDict({"upper": _mlp([h, h]), "lower": _mlp([h, h])})
        self.body = nn.Sequential(_mlp([2 * h, h, h]), nn.Linear(h, out_dim))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        f = {k: m(y[:, list(LIMBS[k])].flatten(1)) for k, m in self.limb.items()}
        p = {k: m(torch.cat([f["trunk"], f[k]], -1)) for k, m in self.pair.items()}
        upper = self.halves["upper"](torch.cat([p["l_arm"], p["r_arm"]], -1))
        lower = self.halves["lower"](torch.cat([p["l_leg"], p["r_leg"]], -1))
        return self.body(torch.cat([upper, lower], -1))


class TreeDecoder(nn.Module):
    """Kinematic-tree decoder: z -> body -> upper/lower -> trunk+limb -> per-part bones."""

    def __init__(self, hidden: int, per_bone: int) -> None:
        super().__init__()
        h = hidden
        self.per_bone = per_bone
        self.body = _mlp([LATENT_DIM, h, 2 * h])
        self.halves = nn.ModuleDict({"upper": _mlp([h, h]), "lower": _mlp([h, h])})
        self.pair = nn.ModuleDict({k: _mlp([h // 2, h // 2]) for k in LIMBS if k != "trunk"})
        self.trunk = nn.Sequential(_mlp([2 * h, h]), nn.Linear(h, 9 + 3 * per_bone))
        self.limb = nn.ModuleDict(
            {k: nn.Linear(h // 2, len(v) * per_bone) for k, v in LIMBS.items() if k != "trunk"}
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = self.body(z)
        h = b.shape[-1] // 2
        upper, lower = self.halves["upper"](b[:, :h]), self.halves["lower"](b[:, h:])
        parts = {
            "l_arm": upper[:, : h // 2],
            "r_arm": upper[:, h // 2 :],
            "l_leg": lower[:, : h // 2],
            "r_leg": lower[:, h // 2 :],
        }
        pb = self.per_bone
        trunk = self.trunk(b)
        bones = {j: trunk[:, 9 + i * pb : 9 + (i + 1) * pb] for i, j in enumerate(TRUNK_BONES)}
        for name, joints in LIMBS.items():
            if name != "trunk":
                feat = self.limb[name](self.pair[name](parts[name]))
                bones.update({j: feat[:, i * pb : (i + 1) * pb] for i, j in enumerate(joints)})
        return torch.cat([trunk[:, :9]] + [bones[j] for j in kin.DIRECTION_JOINTS], dim=-1)


class PosePrior(nn.Module):
    """The pose auto-encoder {Ep, Dp}.

    Args:
        arch: ``"mlp"`` or ``"tree"`` (see the module docstring).
        hidden: hidden width.
        blocks: residual blocks of the MLP variant.
        lengths: ``"predicted"`` or ``"canonical"`` bone lengths in the decoder.
    """

    def __init__(
        self, arch: str = "mlp", hidden: int = 512, blocks: int = 2, lengths: str = "predicted"
    ) -> None:
        super().__init__()
        if arch not in ("mlp", "tree"):
            raise ValueError(f"pose prior arch must be 'mlp' or 'tree', got '{arch}'")
        if lengths not in ("predicted", "canonical"):
            raise ValueError(
                f"pose prior lengths must be 'predicted' or 'canonical', got '{lengths}'"
            )
        self.arch, self.lengths = arch, lengths
        self.per_bone = 4 if lengths == "predicted" else 3  # direction (3) [+ log length scale]
        out_dim = 9 + kin.NUM_DIRECTIONS * self.per_bone
        if arch == "mlp":
            self.encoder: nn.Module = ResidualMLP(3 * sk.NUM_JOINTS, hidden, LATENT_DIM, blocks)
            self.decoder: nn.Module = ResidualMLP(LATENT_DIM, hidden, out_dim, blocks)
        else:
            self.encoder = TreeEncoder(hidden, LATENT_DIM)
            self.decoder = TreeDecoder(hidden, self.per_bone)
        self.register_buffer(
            "canonical", torch.as_tensor(kin.canonical_direction_lengths(), dtype=torch.float32)
        )

    def encode(self, pose: torch.Tensor) -> torch.Tensor:
        """Ep: ``(B, 17, 3)`` mm -> ``(B, 32)`` in [-1, 1]."""
        if pose.ndim != 3 or pose.shape[1:] != (sk.NUM_JOINTS, 3):
            raise ValueError(f"pose must be (B, 17, 3), got {tuple(pose.shape)}")
        y = (pose - pose[:, :1]) / POSE_SCALE_MM
        feats = y if self.arch == "tree" else y.flatten(1)
        return torch.tanh(self.encoder(feats))

    def decode_local(self, z: torch.Tensor) -> tuple[kin.LocalPose, torch.Tensor]:
        """Dp before FK: local representation (root vectors in mm) and bone lengths (mm)."""
        if z.ndim != 2 or z.shape[1] != LATENT_DIM:
            raise ValueError(f"z must be (B, {LATENT_DIM}), got {tuple(z.shape)}")
        out = self.decoder(z)
        roots = out[:, :9].reshape(-1, 3, 3) * POSE_SCALE_MM
        bones = out[:, 9:].reshape(-1, kin.NUM_DIRECTIONS, self.per_bone)
        directions = bones[..., :3]
        if self.lengths == "predicted":
            lengths = self.canonical * torch.exp(LENGTH_LOG_RANGE * torch.tanh(bones[..., 3]))
        else:
            lengths = self.canonical.expand(z.shape[0], -1)
        return kin.LocalPose(roots, directions), lengths

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Dp: ``(B, 32)`` -> pose ``(B, 17, 3)`` mm."""
        local, lengths = self.decode_local(z)
        return kin.forward_kinematics(local, lengths)  # type: ignore[return-value]

    def forward(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(z, reconstruction)``."""
        z = self.encode(pose)
        return z, self.decode(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` latents drawn from U[-1, 1]^32, ``(n, 17, 3)`` mm."""
        z = torch.rand(n, LATENT_DIM, generator=generator, device=self.canonical.device) * 2 - 1
        return self.decode(z)


class LatentCritic(nn.Module):
    """Discriminator / critic on z: ``(B, 32)`` -> ``(B,)`` score (real = prior samples)."""

    def __init__(self, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(_mlp([LATENT_DIM, hidden, hidden]), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).squeeze(-1)
