"""Training checkpoints: resume after a crash and end with the same weights, bit for bit.

A checkpoint is a directory holding ``state.safetensors`` (every tensor: module weights,
optimizer moments, the best weights so far, the torch RNG state) and ``state.json``
(everything else: epoch, history, early-stopping counters, optimizer hyper-parameters,
scheduler state, and a fingerprint of the run). Nothing is pickled. Each save writes a new
directory beside the old one and renames it into place, so a crash while saving leaves the
previous checkpoint intact.

On CPU, resuming from the checkpoint of epoch k replays epochs k+1... exactly as the
uninterrupted run would have: same weights, same optimizer state, same random numbers.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from aekit._atomic import atomic_directory
from aekit.exceptions import CheckpointError
from aekit.training.history import History

FORMAT = "aekit-checkpoint"
FORMAT_VERSION = 1
TENSORS_FILE = "state.safetensors"
JSON_FILE = "state.json"


@dataclass
class TrainState:
    """Everything :func:`~aekit.training.loop.train` needs to continue after ``epoch``."""

    epoch: int  # the last completed epoch (0-based)
    history: History
    best: float
    bad_epochs: int
    best_state: dict[str, torch.Tensor] | None
    initial_rows: torch.Tensor | None
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] | None
    rng: torch.Tensor
    cuda_rng: torch.Tensor | None = None


def _split_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for idx, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{idx}.{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars,
                     "indices": [int(i) for i in state["state"]]}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {i: {} for i in meta["indices"]}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, idx, key = name.split(".", 2)
            state[int(idx)][key] = value
    for idx, values in meta["scalars"].items():
        state[int(idx)].update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


@dataclass
class Checkpoint:
    """Where and how often :func:`~aekit.training.loop.train` saves its state.

    Parameters
    ----------
    path : directory of the checkpoint (created; replaced at each save)
    every : save after every ``every`` completed epochs
    resume : continue from ``path`` when it holds a checkpoint of the same run
    """

    path: str | os.PathLike
    every: int = 1
    resume: bool = False

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not isinstance(self.every, int) or self.every < 1:
            raise CheckpointError(f"checkpoint every must be an int >= 1. Got {self.every!r}.")

    def exists(self) -> bool:
        return (self.path / JSON_FILE).is_file()

    def due(self, epoch: int) -> bool:
        return (epoch + 1) % self.every == 0

    # ------------------------------------------------------------------ save
    def save(self, state: TrainState, module: torch.nn.Module, fingerprint: dict[str, Any]) -> None:
        tensors = {f"module.{k}": v for k, v in module.state_dict().items()}
        if state.best_state is not None:
            tensors.update({f"best.{k}": v for k, v in state.best_state.items()})
        if state.initial_rows is not None:
            tensors["initial_rows"] = state.initial_rows
        tensors["rng"] = state.rng
        if state.cuda_rng is not None:
            tensors["cuda_rng"] = state.cuda_rng
        opt_tensors, opt_meta = _split_optimizer(state.optimizer)
        tensors.update(opt_tensors)
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        meta = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "fingerprint": fingerprint,
            "epoch": state.epoch, "history": state.history.to_dict(),
            "best": state.best, "bad_epochs": state.bad_epochs,
            "has_best_state": state.best_state is not None,
            "optimizer": opt_meta, "scheduler": state.scheduler,
        }
        text = json.dumps(meta, allow_nan=True)  # inf is a legal "best so far"
        with atomic_directory(self.path) as tmp:
            save_file(tensors, str(tmp / TENSORS_FILE), metadata={"format": FORMAT})
            (tmp / JSON_FILE).write_text(text)

    # ------------------------------------------------------------------ load
    def load(self, module: torch.nn.Module, fingerprint: dict[str, Any]) -> TrainState:
        """Read the checkpoint and load its weights into ``module``; check it fits this run."""
        try:
            meta = json.loads((self.path / JSON_FILE).read_text(encoding="utf-8"))
            tensors = load_file(str(self.path / TENSORS_FILE))
        except (OSError, ValueError, SafetensorError) as err:
            raise CheckpointError(f"{self.path}: unreadable checkpoint ({err}). Delete it and "
                                  "train without --resume.") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{self.path}: not an aekit checkpoint.")
        if meta.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{self.path}: checkpoint format {meta.get('format_version')!r};"
                                  f" this aekit reads format {FORMAT_VERSION}.")
        saved = meta.get("fingerprint")
        if saved != json.loads(json.dumps(fingerprint)):
            diff = sorted(k for k in set(saved or {}) | set(fingerprint)
                          if (saved or {}).get(k) != json.loads(json.dumps(fingerprint.get(k))))
            raise CheckpointError(
                f"{self.path}: the checkpoint belongs to a different run (differs in {diff}). "
                "Resume with the same data, model and training options, or delete the "
                "checkpoint to start over.")
        module.load_state_dict({k[len("module."):]: v for k, v in tensors.items()
                                if k.startswith("module.")}, strict=True)
        best_state = ({k[len("best."):]: v for k, v in tensors.items() if k.startswith("best.")}
                      if meta["has_best_state"] else None)
        best = meta["best"]
        return TrainState(
            epoch=int(meta["epoch"]), history=History.from_dict(meta["history"]),
            best=float(best) if best is not None else math.inf, bad_epochs=int(meta["bad_epochs"]),
            best_state=best_state, initial_rows=tensors.get("initial_rows"),
            optimizer=_join_optimizer(tensors, meta["optimizer"]), scheduler=meta["scheduler"],
            rng=tensors["rng"], cuda_rng=tensors.get("cuda_rng"))


__all__ = ["Checkpoint", "TrainState"]
