"""Building blocks shared by the autoencoders."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def mlp(widths: Sequence[int], activation: str = "relu", *, dropout: float = 0.0,
        activate_last: bool = False) -> nn.Sequential:
    """Linear layers through ``widths`` (input first), activation between them.

    ``mlp([20, 64, 8])`` is Linear(20, 64) -> act -> Linear(64, 8). The last layer stays
    linear unless ``activate_last``: a bottleneck or an output needs the full real line.
    """
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(w_in, w_out))
        last = i == len(widths) - 2
        if not last or activate_last:
            layers.append(act())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
