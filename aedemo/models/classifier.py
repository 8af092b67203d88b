"""The project's MNIST classifier: it reads drawings in the app and scores the CVAE's samples."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .base import OnDevice, Trainable, check_images, check_range, check_sizes, eval_mode
from .pretrained import Pretrained


class MnistClassifier(OnDevice, Trainable, Pretrained, nn.Module):
    variant: ClassVar[str] = "classifier"
    display_name: ClassVar[str] = "Classifier"
    description: ClassVar[str] = "a small CNN that reads MNIST digits (it scores the CVAE's samples)"

    def __init__(
        self, channels: list[int] | tuple[int, ...] = (16, 32), hidden: int = 128, dropout: float = 0.3
    ) -> None:
        super().__init__()
        channels = check_sizes("channels", channels, min_count=2, max_count=2)  # one per convolution
        hidden = check_sizes("hidden", hidden)
        dropout = check_range("dropout", dropout, 0, 1)  # at 1 every unit is dropped: nothing to learn from
        c1, c2 = channels
        self.config = {"variant": self.variant, "channels": channels, "hidden": hidden, "dropout": dropout}
        # Small on purpose: it trains in minutes on a laptop CPU and reads a drawing in well under a millisecond.
        self.net = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(c1, c2, 5, padding=2), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),  # 14 -> 7
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 49, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`model(x)`: logits [B,10] for x float [B,1,28,28] in [0,1], unchecked (as the autoencoders' forward:
        training and torch.compile call it)."""
        return self.net(x)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities [B,10]; x is checked and shaped as the autoencoders take it (floats in [0, 1],
        [B,1,28,28], [B,28,28] or [B,784]). Always the eval-mode reading, the model left in the mode it was in: in
        training mode, batch norm would read each batch by its own statistics, and update the running ones."""
        with eval_mode(self):
            return F.softmax(self(check_images(x, self)), dim=1)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class ids, int64 [B]: the most probable class of each image, as scikit-learn's predict; x is checked, and
        read in eval mode, as predict_proba does."""
        return self.predict_proba(x).argmax(1)

    def loss_terms(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Cross-entropy; in training, on randomly shifted, rotated and scaled digits.

        The augmentation is for the app: hand-drawn digits are never as centred and upright as MNIST's.
        """
        if self.training:
            x = random_affine(x, generator)
        logits = self(x)
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {"loss": loss, "accuracy": accuracy}


def random_affine(
    x: torch.Tensor, generator: torch.Generator | None = None, max_degrees: float = 12.0,
    max_shift: float = 0.12, scale: tuple[float, float] = (0.85, 1.15),
) -> torch.Tensor:
    """A random rotation, scale and shift per image, done on the whole batch with one grid_sample."""
    b = x.shape[0]

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator, device=x.device)

    angle = u(-max_degrees, max_degrees) * torch.pi / 180
    s = 1 / u(*scale)
    cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
    theta = torch.stack(
        [torch.stack([cos, -sin, u(-max_shift, max_shift) * 2], 1),
         torch.stack([sin, cos, u(-max_shift, max_shift) * 2], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
