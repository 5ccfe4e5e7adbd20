"""sa3dhp: self-adaptive 3D human pose estimation by non-local latent relation distillation."""

__version__ = "0.1.0"
