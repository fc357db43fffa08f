"""How a table's encoded columns are reconstructed and how far off a reconstruction is.

A categorical column is one-hot encoded over its training levels plus an "(other)" slot
for values fit never saw. Its output slots form a softmax head over the training levels
(the "(other)" slot's probability is 0 by construction), and its error is the deviance
``-2 log p(true level)``: twice the negative log-likelihood, the same scale as a numeric
cell's squared error in standard units (twice a unit Gaussian's, up to a constant). Every
other column is a plain cell with a squared error.

A level fit never saw gets the least probability a head can give, ``P_FLOOR``, so it is
the most surprising value its column can hold. A block of zeros (a missing category, when
fit saw none missing) and a missing plain cell (NaN) carry no information: no error, and
they do not count in the row's mean. A row's error is its mean over its observed columns,
a categorical column counting once, so rows with and without missing cells compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch import Tensor

P_FLOOR = 1e-6  # the least probability a level gets; an unseen level gets exactly this
MAX_DEVIANCE = -2.0 * math.log(P_FLOOR)


@dataclass(frozen=True)
class CellLayout:
    """The softmax groups among ``n_features`` encoded columns.

    ``blocks``: ``(start, stop)`` of each categorical column's one-hot slots; the last slot
    of each block is its "(other)" slot.
    """

    n_features: int
    blocks: tuple[tuple[int, int], ...]

    # ---------------------------------------------------------------- masks
    @cached_property
    def _plain(self) -> Tensor:
        """(D,) 1.0 where a column is a plain cell (squared error), else 0.0."""
        with torch.inference_mode(False):  # cached: usable in training and inference alike
            mask = torch.ones(self.n_features)
            for start, stop in self.blocks:
                mask[start:stop] = 0.0
        return mask

    @cached_property
    def _groups(self) -> Tensor:
        """(D, n_blocks) indicator of each block's slots (sums a block in one product)."""
        with torch.inference_mode(False):
            groups = torch.zeros(self.n_features, len(self.blocks))
            for k, (start, stop) in enumerate(self.blocks):
                groups[start:stop, k] = 1.0
        return groups

    @cached_property
    def _starts(self) -> Tensor:
        with torch.inference_mode(False):
            return torch.tensor([start for start, _ in self.blocks], dtype=torch.long)

    # ---------------------------------------------------------------- outputs
    def decode(self, raw: Tensor) -> Tensor:
        """The network's raw output with each block as probabilities over its levels."""
        out = raw.clone()
        for start, stop in self.blocks:
            out[:, start:stop - 1] = torch.softmax(raw[:, start:stop - 1], dim=1)
            out[:, stop - 1] = 0.0
        return out

    def _deviance(self, decoded: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B, n_blocks) deviance of each block's true level, and whether it is present."""
        groups = _like(self._groups, decoded)
        present = (x @ groups) > 0
        p_true = (decoded * x) @ groups
        return -2.0 * torch.log(p_true.clamp(min=P_FLOOR)) * present, present

    def cell_errors(self, decoded: Tensor, x: Tensor) -> Tensor:
        """(B, D) error of each cell of encoded rows ``x`` (NaN: missing) reconstructed as
        ``decoded``: squared for plain cells, each block's deviance in its first slot."""
        observed = ~torch.isnan(x)
        xf = torch.nan_to_num(x, nan=0.0)
        err = (decoded - xf).pow(2) * (observed * _like(self._plain, decoded))
        deviance, _ = self._deviance(decoded, xf)
        err[:, self._starts.to(err.device)] = deviance
        return err

    def units(self, x: Tensor) -> Tensor:
        """(B,) observed columns per row: plain cells, and a categorical column once."""
        xf = torch.nan_to_num(x, nan=0.0)
        plain = ((~torch.isnan(x)) * _like(self._plain, x)).sum(dim=1)
        present = ((xf @ _like(self._groups, x)) > 0).sum(dim=1)
        return (plain + present).clamp(min=1)

    def row_errors(self, decoded: Tensor, x: Tensor) -> Tensor:
        """(B,) each row's mean error over its observed columns."""
        return self.cell_errors(decoded, x).sum(dim=1) / self.units(x)

    # ---------------------------------------------------------------- training
    @property
    def plain(self) -> Tensor:
        """(D,) 1.0 where a column is a plain cell, 0.0 in the categorical blocks."""
        return self._plain

    def logit_deviance(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B,) the blocks' summed deviance, from the raw output (logits in the blocks: a
        log-softmax is exact and its gradient stable)."""
        total = torch.zeros(raw.shape[0], dtype=raw.dtype, device=raw.device)
        for start, stop in self.blocks:
            log_p = torch.log_softmax(raw[:, start:stop - 1], dim=1)
            total = total - 2.0 * (log_p * x[:, start:stop - 1]).sum(dim=1) \
                + MAX_DEVIANCE * x[:, stop - 1]
        return total

    def row_losses(self, raw: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B,) summed error and observed columns per row, from the raw output."""
        observed = ~torch.isnan(x)
        xf = torch.nan_to_num(x, nan=0.0)
        plain = _like(self._plain, raw)
        squared = ((raw - xf).pow(2) * (observed * plain)).sum(dim=1)
        return squared + self.logit_deviance(raw, xf), self.units(x)

    # ---------------------------------------------------------------- saving
    def to_dict(self) -> dict[str, Any]:
        return {"n_features": int(self.n_features), "blocks": [list(b) for b in self.blocks]}

    @classmethod
    def from_dict(cls, state: dict[str, Any] | None) -> CellLayout | None:
        if state is None:
            return None
        blocks = tuple((int(a), int(b)) for a, b in state["blocks"])
        n = int(state["n_features"])
        if any(not 0 <= a < b - 1 < n for a, b in blocks):
            raise ValueError("categorical blocks do not fit the encoded columns")
        return cls(n, blocks)


def _like(mask: Tensor, x: Tensor) -> Tensor:
    return mask.to(device=x.device, dtype=x.dtype)


__all__ = ["MAX_DEVIANCE", "P_FLOOR", "CellLayout"]
