"""Motion prior {Em, Dm}: a BiLSTM auto-encoder over sequences of pose latents.

Em: Z = Ep(Y) ``(B, T, 32)`` -> 2-layer bidirectional LSTM (128 hidden) -> the last layer's final
forward and backward hidden states, concatenated -> FC -> tanh -> v ``(B, 128)`` in [-1, 1].
Dm: v initialises the hidden and cell states of a 2-layer bidirectional LSTM and is repeated as
its input at every step next to a fixed sinusoidal encoding of the time index (v is its only
data: no chained, autoregressive input) -> FC per step -> clamp to [-1, 1] -> ``(B, T, 32)``
pose latents, which the frozen pose decoder Dp turns into poses.
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
    """

    def __init__(
        self,
        hidden: int = 128,
        layers: int = 2,
        seq_len: int = SEQ_LEN,
        motion_dim: int = MOTION_DIM,
    ) -> None:
        super().__init__()
        self.hidden, self.layers, self.seq_len = hidden, layers, seq_len
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
        self.register_buffer("steps", time_encoding(seq_len), persistent=False)

    def encode(self, z_seq: torch.Tensor) -> torch.Tensor:
        """Em: ``(B, T, 32)`` -> v ``(B, 128)``."""
        if z_seq.ndim != 3 or z_seq.shape[-1] != LATENT_DIM:
            raise ValueError(
                f"latent sequences must be (B, T, {LATENT_DIM}), got {tuple(z_seq.shape)}"
            )
        _, (h, _) = self.enc(z_seq)
        last = h.view(self.layers, 2, z_seq.shape[0], self.hidden)[-1]  # (2, B, H)
        return torch.tanh(self.enc_fc(torch.cat([last[0], last[1]], dim=-1)))

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
        return self.dec_fc(out).clamp(-1.0, 1.0)

    def forward(self, z_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(v, reconstructed latent sequence)``."""
        v = self.encode(z_seq)
        return v, self.decode(v)
