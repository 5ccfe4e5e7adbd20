"""Image-to-latent regressor G: crop -> z in [-1, 1]^32 (and the direct-regression baseline).

A torchvision ResNet truncated after Res-4F (``layer3``), then three conv layers and four FC
blocks of two FC layers each; the last layer ends in tanh and gives z (the pose is
FK(Dp(G(x))) with the frozen pose prior). With ``head="pose"`` the same network regresses the
17x3 pose directly (no prior): the direct-regression baseline.

ImageNet weights come through torchvision's weights API when they are already in the local
torch hub cache, or from a file the user names; otherwise the backbone is randomly initialised.
A log line says which. Nothing is ever downloaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torchvision
from torch import nn

from sa3dhp import skeleton as sk
from sa3dhp.models.pose_prior import LATENT_DIM, POSE_SCALE_MM

log = logging.getLogger(__name__)

BACKBONES = {
    "resnet18": (torchvision.models.resnet18, torchvision.models.ResNet18_Weights, 256),
    "resnet34": (torchvision.models.resnet34, torchvision.models.ResNet34_Weights, 256),
    "resnet50": (torchvision.models.resnet50, torchvision.models.ResNet50_Weights, 1024),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_backbone(name: str, weights: str | None = "auto") -> tuple[nn.Module, str]:
    """A torchvision ResNet and a word on where its weights came from.

    Args:
        name: ``resnet18``, ``resnet34`` or ``resnet50``.
        weights: ``"auto"`` (ImageNet weights if in the local torch hub cache, else random),
            ``None``/``"none"`` (random), or a state-dict file (``.pth``/``.safetensors``).
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone '{name}'; choose from {sorted(BACKBONES)}")
    build, weights_enum, _ = BACKBONES[name]
    net = build(weights=None)
    if weights in (None, "none", ""):
        return net, "random initialisation"
    if weights == "auto":
        w = weights_enum.DEFAULT
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(w.url).name
        if cached.is_file():
            net.load_state_dict(w.get_state_dict(progress=False, check_hash=False))
            return net, f"ImageNet weights {w} from {cached}"
        return net, f"random initialisation (no ImageNet weights in {cached.parent})"
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    missing, _ = net.load_state_dict(state, strict=False)
    if len(missing) > 10:
        raise ValueError(f"{path}: not {name} weights ({len(missing)} missing keys)")
    return net, f"weights from {path}"


class ImageToLatent(nn.Module):
    """G: crops ``(B, 3, H, W)`` (uint8 or float in [0, 1]) -> z ``(B, 32)`` or pose ``(B, 17, 3)``.

    Args:
        backbone: ``resnet18`` (CPU demo), ``resnet34`` or ``resnet50`` (the paper).
        weights: see :func:`load_backbone`.
        conv_channels: width of the three conv layers after ``layer3``.
        fc_hidden: width of the FC blocks.
        head: ``"latent"`` (tanh -> z) or ``"pose"`` (direct regression baseline, mm).
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        weights: str | None = "auto",
        conv_channels: int = 256,
        fc_hidden: int = 512,
        head: str = "latent",
    ) -> None:
        super().__init__()
        if head not in ("latent", "pose"):
            raise ValueError(f"head must be 'latent' or 'pose', got '{head}'")
        net, self.weights_source = load_backbone(backbone, weights)
        log.info("G backbone %s: %s", backbone, self.weights_source)
        self.backbone_name, self.head = backbone, head
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layer1, self.layer2, self.layer3 = net.layer1, net.layer2, net.layer3
        c_in, c = BACKBONES[backbone][2], conv_channels
        self.convs = nn.Sequential(
            nn.Conv2d(c_in, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        out_dim = LATENT_DIM if head == "latent" else 3 * sk.NUM_JOINTS
        dims = [c, fc_hidden, fc_hidden, fc_hidden, out_dim]
        self.fc_blocks = nn.ModuleList(
            nn.Sequential(
                nn.Linear(dims[i], fc_hidden),
                nn.ReLU(inplace=True),
                nn.Linear(fc_hidden, dims[i + 1]),
            )
            for i in range(4)
        )
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        # NHWC (channels-last) convolutions: the layout oneDNN on a CPU and tensor cores on a
        # GPU prefer
        self.to(memory_format=torch.channels_last)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 or [0, 1] float crops -> ImageNet-normalised float."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"crops must be (B, 3, H, W), got {tuple(x.shape)}")
        x = x.float() / 255.0 if not x.is_floating_point() else x
        return ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone up to ``layer3``: ``(B, C3, H/16, W/16)``."""
        x = self.stem(self.normalize(x))
        return self.layer3(self.layer2(self.layer1(x)))

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """Conv layers and FC blocks: features -> z ``(B, 32)`` or pose ``(B, 17, 3)``."""
        h = self.convs(feats)
        for i, block in enumerate(self.fc_blocks):
            h = block(h) if i in (0, 3) else torch.relu(h + block(h))
            if i == 0:
                h = torch.relu(h)
        if self.head == "latent":
            return torch.tanh(h)
        return h.view(-1, sk.NUM_JOINTS, 3) * POSE_SCALE_MM

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
