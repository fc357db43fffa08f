"""Typed, frozen training configuration, built from an estimator's parameters inside ``fit``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TrainConfig:
    max_epochs: int = 200
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.0
    optimizer: Literal["adam", "adamw"] = "adam"
    lr_schedule: Literal["plateau", "cosine", "constant"] = "plateau"
    grad_clip: float = 5.0  # max global gradient norm; 0 disables clipping
    patience: int = 10  # epochs without validation improvement before stopping; 0 disables
    min_delta: float = 1e-4  # relative improvement that counts
    # Relative improvement trained weights need over the *initial* ones (when those are a
    # solution already, e.g. PCA) to replace them: smaller gains on a small validation set
    # are mostly noise, and keeping the simpler solution generalises better.
    init_margin: float = 0.01
    verbose: int = 1
    desc: str = "training"
