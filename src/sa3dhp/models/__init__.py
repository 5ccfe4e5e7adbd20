"""Networks: pose prior, motion prior, image-to-latent regressor, relation networks; and
:func:`no_init`, for building a network whose weights are loaded right after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch.nn import init

#: The initialisers torch's and torchvision's layers call while they are built.
_INITS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "orthogonal_",
)


@contextlib.contextmanager
def no_init() -> Iterator[None]:
    """Build modules without initialising their parameters (they are left as allocated), for a
    network whose every weight is loaded next with a strict ``load_state_dict``: building G and
    its decoder took a fifth of a short ``sa3dhp predict`` run in random initialisation alone.
    The initialisers are restored on exit, also after an error."""
    saved = {name: getattr(init, name) for name in _INITS}
    try:
        for name in _INITS:
            setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)
