"""The training loop and its configuration."""

from aekit.training.config import TrainConfig
from aekit.training.history import History
from aekit.training.loop import evaluate, resolve_device, train

__all__ = ["TrainConfig", "History", "train", "evaluate", "resolve_device"]
