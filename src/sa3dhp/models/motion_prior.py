"""Motion prior {Em, Dm}: a BiLSTM auto-encoder over sequences of pose latents.

Em: Z = Ep(Y) ``(B, T, 32)`` -> 2-layer bidirectional LSTM (128 hidden) -> the last layer's final
forward and backward hidden states, concatenated -> FC -> tanh -> v ``(B, 128)`` in [-1, 1].
Dm: v initialises the hidden and cell states of a 2-layer bidirectional LSTM and is repeated as
its input at every step next to a fixed sinusoidal encoding of the time index (v is its only
data: no chained, autoregressive input) -> FC per step -> clamp to [-1, 1] -> ``(B, T, 32)``
pose latents, which the frozen pose decoder Dp turns into poses.

Linear skip paths (``skip=True``, default; ours): Em adds a linear map of the whole flattened
sequence to the FC before its tanh, and Dm adds a linear map of v to every step's FC output.
The BiLSTMs then learn what a linear code misses. Why: on the demo mocap, a 128-component PCA of
the latent windows already reconstructs motions to about 21 mm. The pure BiLSTM pair of the paper
(``skip=False``) reaches only 50-70 mm in the 3-minute CPU budget (docs/findings.md, motion prior).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sa3dhp.models.pose_prior import LATENT_DIM

MOTION_DIM = 128
SEQ_LEN = 30


def time_encoding(length: int, dim: int = 16) -> torch.Tensor:
    """Sinusoidal encoding of the step index, ``(length, dim)``."""
    t = torch.arange(length, dtype=torch.float32)[:, None]
    freqs = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(100.0) / dim))
    return torch.cat([torch.sin(t * freqs), torch.cos(t * freqs)], dim=-1)


class MotionPrior(nn.Module):
    """The motion auto-encoder {Em, Dm}.

    Args:
        hidden: LSTM hidden units per direction (128 in the paper).
        layers: stacked BiLSTM layers (2 in the paper).
        seq_len: frames per motion (30).
        motion_dim: size of v (128).
        skip: add the linear skip paths of the module docstring (``False``: the paper's pure
            BiLSTM pair).
    """

    def __init__(
        self,
        hidden: int = 128,
        layers: int = 2,
        seq_len: int = SEQ_LEN,
        motion_dim: int = MOTION_DIM,
        skip: bool = True,
    ) -> None:
        super().__init__()
        self.hidden, self.layers, self.seq_len, self.skip = hidden, layers, seq_len, skip
        self.enc = nn.LSTM(
            LATENT_DIM, hidden, num_layers=layers, bidirectional=True, batch_first=True
        )
        self.enc_fc = nn.Linear(2 * hidden, motion_dim)
        self.init_fc = nn.Linear(
            motion_dim, 2 * layers * 2 * hidden
        )  # (h0, c0) per layer+direction
        self.dec = nn.LSTM(
            16 + motion_dim, hidden, num_layers=layers, bidirectional=True, batch_first=True
        )
        self.dec_fc = nn.Linear(2 * hidden, LATENT_DIM)
        if skip:
            self.enc_skip = nn.Linear(seq_len * LATENT_DIM, motion_dim)
            self.dec_skip = nn.Linear(motion_dim, seq_len * LATENT_DIM)
        self.register_buffer("steps", time_encoding(seq_len), persistent=False)

    @torch.no_grad()
    def init_skip_pca(
        self, z_seq: torch.Tensor, spread: float = 2.0, whitening: float = 0.25
    ) -> None:
        """Start the skip paths at the PCA code of ``z_seq`` ``(N, T, 32)`` latent windows.

        Em's skip maps a window to its first ``motion_dim`` principal components, component k
        divided by ``spread * std_k ** whitening * std_1 ** (1 - whitening)`` (std_k: its standard
        deviation; ``whitening`` 1: every component of v gets the same spread, 0: one scale for
        all, so that distances in v follow distances between sequences); Dm's skip maps them
        back. The BiLSTM paths' output layers start at zero, so training starts from the linear
        code exactly. Needs more than ``motion_dim`` windows.
        """
        if not self.skip:
            raise ValueError("init_skip_pca needs a motion prior built with skip=True")
        x = z_seq.flatten(1).double()
        mean = x.mean(0)
        _, sv, basis = torch.linalg.svd(x - mean, full_matrices=False)
        k = self.enc_skip.out_features
        if len(sv) < k:
            raise ValueError(f"init_skip_pca needs more than {k} windows, got {len(x)}")
        std = sv[:k] / (len(x) - 1) ** 0.5
        std = std.clamp_min(1e-6 * float(std[0]))  # components the data lacks stay finite
        scale = spread * std**whitening * std[0] ** (1.0 - whitening)
        enc_w = basis[:k] / scale[:, None]
        self.enc_skip.weight.copy_(enc_w)
        self.enc_skip.bias.copy_(-enc_w @ mean)
        self.dec_skip.weight.copy_(basis[:k].T * scale)
        self.dec_skip.bias.copy_(mean)
        for fc in (self.enc_fc, self.dec_fc):  # the BiLSTM paths start silent
            fc.weight.zero_()
            fc.bias.zero_()

    def encode(self, z_seq: torch.Tensor) -> torch.Tensor:
        """Em: ``(B, T, 32)`` -> v ``(B, 128)``."""
        if z_seq.ndim != 3 or z_seq.shape[-1] != LATENT_DIM:
            raise ValueError(
                f"latent sequences must be (B, T, {LATENT_DIM}), got {tuple(z_seq.shape)}"
            )
        if self.skip and z_seq.shape[1] != self.seq_len:
            raise ValueError(
                f"the motion prior encodes {self.seq_len}-frame sequences, got {z_seq.shape[1]}"
            )
        _, (h, _) = self.enc(z_seq)
        last = h.view(self.layers, 2, z_seq.shape[0], self.hidden)[-1]  # (2, B, H)
        pre = self.enc_fc(torch.cat([last[0], last[1]], dim=-1))
        if self.skip:
            pre = pre + self.enc_skip(z_seq.flatten(1))
        return torch.tanh(pre)

    def decode(self, v: torch.Tensor) -> torch.Tensor:
        """Dm: v ``(B, 128)`` -> latent sequence ``(B, T, 32)`` in [-1, 1]."""
        b = v.shape[0]
        init = torch.tanh(self.init_fc(v)).view(b, 2, 2 * self.layers, self.hidden)
        h0 = init[:, 0].transpose(0, 1).contiguous()
        c0 = init[:, 1].transpose(0, 1).contiguous()
        steps = self.steps.to(v.dtype).expand(b, -1, -1)
        # v is the decoder's only data: it initialises the states and is repeated at every step
        # next to the time encoding (no chained / autoregressive input)
        inputs = torch.cat([steps, v[:, None].expand(-1, self.seq_len, -1)], dim=-1)
        out, _ = self.dec(inputs, (h0, c0))
        # linear then clamped to the cube: a tanh here saturates on the many targets near +-1
        # of a uniform latent and slows training down badly
        z = self.dec_fc(out)
        if self.skip:
            z = z + self.dec_skip(v).view(b, self.seq_len, LATENT_DIM)
        return z.clamp(-1.0, 1.0)

    def forward(self, z_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(v, reconstructed latent sequence)``."""
        v = self.encode(z_seq)
        return v, self.decode(v)
