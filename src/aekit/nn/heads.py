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
    def _masks(self) -> dict[str, Tensor]:
        """Index tensors and masks, built once (outside inference mode, so they serve
        training and inference alike)."""
        with torch.inference_mode(False):
            plain = torch.ones(self.n_features)
            groups = torch.zeros(self.n_features, len(self.blocks))  # every slot of a block
            levels = torch.zeros(self.n_features, len(self.blocks))  # its training levels
            for k, (start, stop) in enumerate(self.blocks):
                plain[start:stop] = 0.0
                groups[start:stop, k] = 1.0
                levels[start:stop - 1, k] = 1.0
            return {"plain": plain, "groups": groups, "levels": levels,
                    "others": torch.tensor([stop - 1 for _, stop in self.blocks]),
                    "starts": torch.tensor([start for start, _ in self.blocks])}

    def _mask(self, name: str, like: Tensor) -> Tensor:
        mask = self._masks[name]
        if mask.dtype == torch.long:
            return mask.to(like.device)
        return mask.to(device=like.device, dtype=like.dtype)

    @property
    def plain(self) -> Tensor:
        """(D,) 1.0 where a column is a plain cell, 0.0 in the categorical blocks."""
        return self._masks["plain"]

    def _observed(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``x`` with missing cells at 0, the weight of each plain cell (1 if observed),
        and whether each block holds a value (B, n_blocks)."""
        missing = torch.isnan(x)
        xf = x.masked_fill(missing, 0.0)
        weight = self._mask("plain", x) * ~missing
        present = (xf @ self._mask("groups", x)) > 0
        return xf, weight, present

    def _log_normalisers(self, raw: Tensor) -> Tensor:
        """(B, n_blocks) log of each block's softmax denominator, all blocks in one product.
        The row's largest level logit is subtracted first (a shift changes nothing but
        rounding); a block more than ~80 nats below it gets a denominator of at least
        ``tiny``, so its levels score as the floor, not as NaN."""
        levels = self._mask("levels", raw)
        in_block = levels.sum(dim=1) > 0
        shift = raw.detach().masked_fill(~in_block, -torch.inf).amax(dim=1, keepdim=True)
        exps = (raw - shift).masked_fill(~in_block, -torch.inf).exp()
        tiny = torch.finfo(raw.dtype).tiny
        return shift + (exps @ levels).clamp(min=tiny).log()

    def _deviance(self, raw: Tensor, xf: Tensor, present: Tensor, *,
                  floor: bool = True) -> Tensor:
        """(B, n_blocks) deviance ``-2 log p`` of each block's value: from the logits of its
        level, or ``MAX_DEVIANCE`` for a value fit never saw; 0 where none is present.
        ``floor``: a seen level's probability is at least ``P_FLOOR`` (for scores)."""
        logit = (raw * xf) @ self._mask("levels", raw)
        deviance = 2.0 * (self._log_normalisers(raw) - logit)
        if floor:
            deviance = deviance.clamp(max=MAX_DEVIANCE)
        unseen = xf[:, self._mask("others", raw)] > 0
        return torch.where(unseen, MAX_DEVIANCE, deviance) * present

    # ---------------------------------------------------------------- outputs
    def decode(self, raw: Tensor) -> Tensor:
        """The network's raw output with each block as probabilities over its levels."""
        out = raw * self._mask("plain", raw)
        for start, stop in self.blocks:
            out[:, start:stop - 1] = torch.softmax(raw[:, start:stop - 1], dim=1)
        return out

    def cell_errors(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B, D) error of each cell of encoded rows ``x`` (NaN: missing) for the network's
        raw output ``raw``: squared for plain cells, each block's deviance in its first
        slot."""
        xf, weight, present = self._observed(x)
        err = (raw - xf).pow(2) * weight
        err[:, self._mask("starts", err)] = self._deviance(raw, xf, present)
        return err

    def units(self, x: Tensor) -> Tensor:
        """(B,) observed columns per row: plain cells, and a categorical column once."""
        _, weight, present = self._observed(x)
        return (weight.sum(dim=1) + present.sum(dim=1)).clamp(min=1)

    def row_errors(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B,) each row's mean error over its observed columns."""
        xf, weight, present = self._observed(x)
        total = ((raw - xf).pow(2) * weight).sum(dim=1) \
            + self._deviance(raw, xf, present).sum(dim=1)
        return total / (weight.sum(dim=1) + present.sum(dim=1)).clamp(min=1)

    # ---------------------------------------------------------------- training
    def logit_deviance(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B,) the blocks' summed deviance for training (no floor: a confident mistake
        keeps its gradient); ``x`` without missing cells."""
        present = (x @ self._mask("groups", x)) > 0
        return self._deviance(raw, x, present, floor=False).sum(dim=1)

    def row_losses(self, raw: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B,) summed error and observed columns per row, from the raw output."""
        xf, weight, present = self._observed(x)
        squared = ((raw - xf).pow(2) * weight).sum(dim=1)
        units = (weight.sum(dim=1) + present.sum(dim=1)).clamp(min=1)
        return squared + self._deviance(raw, xf, present, floor=False).sum(dim=1), units

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


__all__ = ["MAX_DEVIANCE", "P_FLOOR", "CellLayout"]
