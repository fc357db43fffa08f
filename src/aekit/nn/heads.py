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

    # ---------------------------------------------------------------- indices
    @cached_property
    def _index(self) -> dict[str, Tensor]:
        """The plain-cell mask and index tensors, built once (outside inference mode, so
        they serve training and inference alike)."""
        with torch.inference_mode(False):
            plain = torch.ones(self.n_features)
            for start, stop in self.blocks:
                plain[start:stop] = 0.0
            return {"plain": plain, "plain_columns": torch.nonzero(plain).flatten(),
                    "starts": torch.tensor([start for start, _ in self.blocks])}

    @cached_property
    def _pieces(self) -> tuple[list[int], list[int], list[int]]:
        """Widths of the encoded columns' consecutive pieces (runs of plain cells, each
        block's level slots, each block's "(other)" slot), and which pieces are plain cells
        and which are level slots."""
        widths, plain, levels, at = [], [], [], 0
        for start, stop in self.blocks:
            if start > at:
                plain.append(len(widths))
                widths.append(start - at)
            levels.append(len(widths))
            widths += [stop - 1 - start, 1]
            at = stop
        if at < self.n_features:
            plain.append(len(widths))
            widths.append(self.n_features - at)
        return widths, plain, levels

    def _split(self, t: Tensor) -> tuple[Tensor, list[Tensor]]:
        """``t``'s plain cells side by side, and each block's level slots: split once, so
        that backward puts the gradient together in one step (slices of a tensor that
        needs a gradient each fill a whole-width zero tensor in backward)."""
        widths, plain, levels = self._pieces
        pieces = torch.split(t, widths, dim=1)
        cells = [pieces[k] for k in plain]
        return (cells[0] if len(cells) == 1 else torch.cat(cells, dim=1) if cells
                else t[:, :0]), [pieces[k] for k in levels]

    def _at(self, name: str, like: Tensor) -> Tensor:
        """An index tensor on ``like``'s device."""
        index = self._index[name]
        return index if index.device == like.device else index.to(like.device)

    @property
    def plain(self) -> Tensor:
        """(D,) 1.0 where a column is a plain cell, 0.0 in the categorical blocks."""
        return self._index["plain"]

    def _plain_errors(self, raw: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B, n_plain) squared error of each plain cell (0 if missing) and whether it was
        observed."""
        target, out = x[:, self._at("plain_columns", x)], self._split(raw)[0]
        missing = torch.isnan(target)
        if not missing.any():
            return (out - target).pow(2), ~missing
        return (out - target.masked_fill(missing, 0.0)).pow(2).masked_fill(missing, 0.0), ~missing

    def _present(self, x: Tensor) -> Tensor:
        """(B, n_blocks) whether a block holds a value (see :func:`_holds_value`)."""
        return torch.stack([_holds_value(x[:, start:stop]) for start, stop in self.blocks],
                           dim=1)

    def _deviance(self, raw: Tensor, x: Tensor, *, floor: bool = True) -> tuple[Tensor, Tensor]:
        """(B, n_blocks) deviance ``-2 log p`` of each block's value, from the logits of its
        level, or ``MAX_DEVIANCE`` for a value fit never saw, 0 where none is present; and
        (B, n_blocks) whether a value is present. ``floor``: a seen level's probability is
        at least ``P_FLOOR`` (for scores).

        A block at a time, on views of its slots (no whole-width masks); each block's
        log-normaliser is a logsumexp over its own levels, so a block far below the others
        still gets a finite deviance."""
        deviances, presents = [], []
        for (start, stop), logits in zip(self.blocks, self._split(raw)[1]):
            value = x[:, start:stop]
            present = _holds_value(value)
            deviance = 2.0 * (torch.logsumexp(logits, dim=1)
                              - (logits * value[:, :-1]).sum(dim=1))
            if floor:
                deviance = deviance.clamp(max=MAX_DEVIANCE)
            deviance = torch.where(value[:, -1] > 0, MAX_DEVIANCE, deviance)  # unseen
            deviances.append(torch.where(present, deviance, 0.0))
            presents.append(present)
        return torch.stack(deviances, dim=1), torch.stack(presents, dim=1)

    # ---------------------------------------------------------------- outputs
    def decode(self, raw: Tensor) -> Tensor:
        """The network's raw output with each block as probabilities over its levels."""
        out = raw * self.plain.to(raw)
        for start, stop in self.blocks:
            out[:, start:stop - 1] = torch.softmax(raw[:, start:stop - 1], dim=1)
        return out

    def cell_errors(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B, D) error of each cell of encoded rows ``x`` (NaN: missing) for the network's
        raw output ``raw``: squared for plain cells, each block's deviance in its first
        slot."""
        squared, _ = self._plain_errors(raw, x)
        deviance, _ = self._deviance(raw, x)
        err = torch.zeros_like(raw)
        err[:, self._at("plain_columns", x)] = squared
        err[:, self._at("starts", x)] = deviance
        return err

    def units(self, x: Tensor) -> Tensor:
        """(B,) observed columns per row: plain cells, and a categorical column once."""
        observed = ~torch.isnan(x[:, self._at("plain_columns", x)])
        return _units(observed, self._present(x), x.dtype)

    def row_errors(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B,) each row's mean error over its observed columns."""
        total, units = self._row_totals(raw, x, floor=True)
        return total / units

    def _row_totals(self, raw: Tensor, x: Tensor, *, floor: bool) -> tuple[Tensor, Tensor]:
        squared, observed = self._plain_errors(raw, x)
        deviance, present = self._deviance(raw, x, floor=floor)
        return squared.sum(dim=1) + deviance.sum(dim=1), _units(observed, present, raw.dtype)

    # ---------------------------------------------------------------- training
    def logit_deviance(self, raw: Tensor, x: Tensor) -> Tensor:
        """(B,) the blocks' summed deviance for training (no floor: a confident mistake
        keeps its gradient); ``x`` without missing cells."""
        return self._deviance(raw, x, floor=False)[0].sum(dim=1)

    def row_losses(self, raw: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """(B,) summed error and observed columns per row, from the raw output."""
        return self._row_totals(raw, x, floor=False)

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


def _holds_value(block: Tensor) -> Tensor:
    """(B,) whether a block's one-hot slots hold a value (a block of zeros, or NaN: none)."""
    return block.sum(dim=1) > 0


def _units(observed: Tensor, present: Tensor, dtype: torch.dtype) -> Tensor:
    """(B,) observed columns per row: plain cells, and a categorical column once."""
    return (observed.sum(dim=1) + present.sum(dim=1)).clamp(min=1).to(dtype)


__all__ = ["MAX_DEVIANCE", "P_FLOOR", "CellLayout"]
