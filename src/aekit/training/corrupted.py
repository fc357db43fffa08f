"""Validation on corrupted inputs, so a denoising model is judged on what it is for.

The training loop corrupts training batches only, and evaluates ``loss(module(x), x)`` on
clean validation rows. For a denoising autoencoder that measures clean reconstruction, a
proxy that can pick the wrong epoch, and it lets a PCA-initialised start (an excellent
clean reconstructor, a poor denoiser) beat every trained epoch. Wrapping the module with
:class:`CorruptedValidation` makes every evaluation denoise: in eval mode the wrapper
corrupts its input with a fixed seed (the same noise at every epoch, so validation losses
are comparable), in training mode it passes the loop's corrupted batches through.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class CorruptedValidation(nn.Module):
    """``module`` whose eval-mode forward sees ``corrupt(x)`` with noise fixed by ``seed``."""

    def __init__(self, module: nn.Module, corrupt: Callable[[Tensor], Tensor], seed: int) -> None:
        super().__init__()
        self.module = module
        self.corrupt = corrupt
        self.seed = int(seed)

    def forward(self, x: Tensor):
        if self.training:
            return self.module(x)
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # the caller's random stream is untouched
            torch.manual_seed(self.seed)
            return self.module(self.corrupt(x))


def with_corrupted_validation(module: nn.Module, corrupt: Callable[[Tensor], Tensor] | None,
                              seed: int) -> nn.Module:
    """Wrap ``module`` when training with corruption; return it unchanged otherwise."""
    return module if corrupt is None else CorruptedValidation(module, corrupt, seed)
