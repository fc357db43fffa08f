"""Per-epoch record of a training run, saved with the model as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # empty when there is no validation split
    lr: list[float] = field(default_factory=list)
    best_epoch: int = -1  # 0-based epoch whose weights were kept; -1: the initial weights
    initial_loss: float = float("nan")  # validation loss before training
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def n_epochs(self) -> int:
        return len(self.train_loss)

    @property
    def best_loss(self) -> float:
        losses = self.val_loss or self.train_loss
        if self.best_epoch < 0:
            return self.initial_loss
        return losses[self.best_epoch] if losses else float("nan")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(
            train_loss=[float(v) for v in d.get("train_loss", [])],
            val_loss=[float(v) for v in d.get("val_loss", [])],
            lr=[float(v) for v in d.get("lr", [])],
            best_epoch=int(d.get("best_epoch", -1)),
            stopped_early=bool(d.get("stopped_early", False)),
            seconds=float(d.get("seconds", 0.0)),
            initial_loss=float(d.get("initial_loss", float("nan"))),
        )
