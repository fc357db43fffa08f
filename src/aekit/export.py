"""Export fitted estimators to ONNX, so they score without Python or PyTorch.

Three graphs, each taking raw rows in the units of the training data:

Missing cells (NaN) of numeric columns are handled inside the graphs as aekit handles them:
the network sees the column's centre there, and the cell counts in no error.

- ``"score"``: preprocessing -> reconstruction -> per-row error. For an autoencoder the
  output is ``reconstruction_error`` (mean squared error in the scaled space, as
  :meth:`~aekit.Autoencoder.reconstruction_error`); for an :class:`~aekit.AnomalyDetector`
  it is the full ensemble ``anomaly_score`` (each part -- member RMSE, latent distance,
  local-density distance to the stored reference rows -- normalised by its calibration
  median and IQR, then weighted), as :meth:`~aekit.AnomalyDetector.anomaly_score`.
- ``"encoder"``: preprocessing -> latent code ``z`` (the posterior mean for a VAE).
- ``"decoder"``: latent code -> reconstruction in the data's units.

Each graph is built from the estimator's input contract (its encoding) and, for a
detector, its scorer (:meth:`~aekit.estimators._scorer.Scorer.torch_module`), so it
computes what aekit computes: encoding and score normalisation in float64, the networks
in float32.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from aekit._atomic import atomic_file
from aekit.exceptions import ParameterError

Part = Literal["score", "encoder", "decoder"]
PARTS = ("score", "encoder", "decoder")
OPSET = 17


class _Scale(nn.Module):
    """An input contract's encoding in torch: ``(x - center) / scale`` in float64,
    optionally limited beyond +/- ``clip``, as aekit computes it."""

    def __init__(self, spec: Any) -> None:
        super().__init__()
        self.register_buffer("center", torch.as_tensor(spec.scaler.center, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(spec.scaler.scale, dtype=torch.float64))
        self.clip = None if spec.clip is None else float(spec.clip)
        self.clip_mode = spec.clip_mode

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B, D) float64
        xs = (x.double() - self.center) / self.scale
        if self.clip is None:
            return xs
        if self.clip_mode == "hard":
            return xs.clamp(-self.clip, self.clip)
        excess = (xs.abs() - self.clip).clamp(min=0.0)
        return torch.where(excess > 0, torch.sign(xs) * (self.clip + torch.log1p(excess)), xs)

    def inverse(self, x: Tensor) -> Tensor:
        return (x.double() * self.scale + self.center).float()


class _AutoencoderScore(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.input_spec_)
        self.module = estimator.module_  # registered, so its weights become graph constants
        self._estimator = [estimator]  # a list hides it from nn.Module attribute handling

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B,) float64
        xs = self.scale(x).float()
        observed = ~torch.isnan(xs)  # a missing cell (NaN): the centre in, no error out
        seen = torch.where(observed, xs, torch.zeros_like(xs))
        recon = self._estimator[0].reconstruct_scaled(seen)
        squared = (recon - seen).pow(2) * observed
        return (squared.sum(dim=1) / observed.sum(dim=1).clamp(min=1)).double()


class _DetectorScore(nn.Module):
    def __init__(self, detector: Any) -> None:
        super().__init__()
        try:
            self.score = detector.scorer_.torch_module()
        except ValueError as err:
            raise ParameterError(f"ONNX export supports scoring 'reconstruction', 'latent' "
                                 f"and 'combined'; this detector uses scoring="
                                 f"{detector.scoring!r} ({err}).") from None
        self.scale = _Scale(detector.input_spec_)

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B,) float64
        return self.score(self.scale(x))


class _Encoder(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.input_spec_)
        self.module = estimator.module_
        self._estimator = [estimator]

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B, L)
        xs = self.scale(x).float()
        return self._estimator[0].encode_scaled(torch.where(torch.isnan(xs), 0.0, xs))


class _Decoder(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.input_spec_)
        self.module = estimator.module_
        self._estimator = [estimator]

    def forward(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D) float64, data units
        return self.scale.inverse(self._estimator[0].decode_scaled(z)).double()


def export_module(estimator: Any, part: Part = "score") -> tuple[nn.Module, str, str, int]:
    """The ``nn.Module`` exported for ``part``, its input/output names and input width."""
    estimator._check_is_fitted()
    columns = estimator.input_spec_.columns or ()
    encoded = [f"{c.name!r} ({c.role})" for c in columns if c.is_feature and c.role != "numeric"]
    if encoded:
        raise ParameterError(
            "ONNX export takes numeric columns; this model also encodes "
            + ", ".join(encoded) + ". Encode those columns yourself before fitting to export it.")
    if part not in PARTS:
        raise ParameterError(f"part must be one of {PARTS}. Got {part!r} instead.")
    is_detector = hasattr(estimator, "scorer_")
    if part == "score":
        graph = _DetectorScore(estimator) if is_detector else _AutoencoderScore(estimator)
        out = "anomaly_score" if is_detector else "reconstruction_error"
        return graph, "x", out, int(estimator.input_spec_.n_features)
    if is_detector:
        raise ParameterError(
            f"part={part!r} is for a single autoencoder; an AnomalyDetector is an ensemble. "
            "Export part='score', or a member: to_onnx(detector.estimators_[i], ...).")
    if part == "encoder":
        return _Encoder(estimator), "x", "z", int(estimator.input_spec_.n_features)
    return _Decoder(estimator), "z", "reconstruction", int(estimator.latent_dim)


def to_onnx(estimator: Any, path: str | os.PathLike, *, part: Part = "score") -> Path:
    """Write ``part`` of a fitted estimator as an ONNX model to ``path`` (atomically).

    Parameters
    ----------
    estimator : fitted Autoencoder, DenoisingAutoencoder, VAE or AnomalyDetector
    path : str or PathLike
        Output ``.onnx`` file.
    part : {"score", "encoder", "decoder"}, default="score"
        See the module docstring. The batch dimension is dynamic.

    Returns
    -------
    Path of the written file.
    """
    graph, in_name, out_name, width = export_module(estimator, part)
    graph.eval()
    example = torch.zeros(2, width, dtype=torch.float32)
    path = Path(path)
    with atomic_file(path) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about constants; not for users
        # dynamo=False: the TorchScript exporter needs no onnxscript and handles these
        # small static graphs exactly.
        torch.onnx.export(graph, (example,), str(tmp), input_names=[in_name],
                          output_names=[out_name], dynamic_axes={in_name: {0: "batch"},
                                                                 out_name: {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    return path


__all__ = ["PARTS", "export_module", "to_onnx"]
