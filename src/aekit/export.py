"""Export fitted estimators to ONNX, so they score without Python or PyTorch.

Three graphs, each taking raw rows in the units of the training data:

- ``"score"``: preprocessing -> reconstruction -> per-row error. For an autoencoder the
  output is ``reconstruction_error`` (mean squared error in the scaled space, as
  :meth:`~aekit.Autoencoder.reconstruction_error`); for an :class:`~aekit.AnomalyDetector`
  it is the full ensemble ``anomaly_score`` (each part -- member RMSE, latent distance,
  local-density distance to the stored reference rows -- normalised by its calibration
  median and IQR, then weighted), as :meth:`~aekit.AnomalyDetector.anomaly_score`.
- ``"encoder"``: preprocessing -> latent code ``z`` (the posterior mean for a VAE).
- ``"decoder"``: latent code -> reconstruction in the data's units.

Scaling and score normalisation run in float64 inside the graph, as they do in aekit, and
the networks in float32, so ONNX Runtime reproduces aekit's numbers to about 1e-7.
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
    """``(x - center) / scale`` in float64, optionally clipped to +/- ``clip``, as float32
    (aekit's own order of operations)."""

    def __init__(self, scaler: Any, clip: float | None = None) -> None:
        super().__init__()
        self.register_buffer("center", torch.as_tensor(scaler.center, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scaler.scale, dtype=torch.float64))
        self.clip = None if clip is None else float(clip)

    def forward(self, x: Tensor) -> Tensor:  # (B, D) float32 -> (B, D) float32
        return self.scaled64(x).float()

    def scaled64(self, x: Tensor) -> Tensor:  # (B, D) -> (B, D) float64, before rounding
        xs = (x.double() - self.center) / self.scale
        if self.clip is not None:
            xs = xs.clamp(-self.clip, self.clip)
        return xs

    def inverse(self, x: Tensor) -> Tensor:
        return (x.double() * self.scale + self.center).float()


class _Errors(nn.Module):
    """Scaled input -> per-row mean squared reconstruction error of one autoencoder."""

    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.module = estimator.module_  # registered, so its weights become graph constants
        self._estimator = [estimator]  # a list hides it from nn.Module attribute handling

    def forward(self, xs: Tensor) -> Tensor:  # (B, D) -> (B,)
        recon = self._estimator[0]._reconstruct_scaled(xs)
        return (recon - xs).pow(2).flatten(1).mean(dim=1)


class _AutoencoderScore(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.scaler_)
        self.errors = _Errors(estimator)

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B,) float64
        return self.errors(self.scale(x)).double()


class _DetectorScore(nn.Module):
    def __init__(self, detector: Any) -> None:
        super().__init__()
        for m in detector.estimators_:
            if m.scaler_.kind != "none":
                raise ParameterError("ONNX export expects detector members fitted on "
                                     "pre-scaled data (scaling='none'), as fit() makes them.")
        scoring = getattr(detector, "scoring", "reconstruction")
        if scoring not in ("reconstruction", "latent", "combined"):
            raise ParameterError(f"ONNX export supports scoring 'reconstruction', 'latent' and "
                                 f"'combined'; this detector uses scoring={scoring!r}.")
        self.use_errors = scoring != "latent"
        self.use_latent = scoring in ("latent", "combined")
        self.scale = _Scale(detector.scaler_, getattr(detector, "clip", None))
        self.members = nn.ModuleList(_Errors(m) for m in detector.estimators_)
        self.encoders = nn.ModuleList(_LatentDistance(m, mean, precision) for m, (mean, precision)
                                      in zip(detector.estimators_, getattr(detector, "latent_stats_", [])))
        self.density = (_Density(detector.reference_, detector.n_neighbors_)
                        if getattr(detector, "reference_", None) is not None else None)
        self.register_buffer("center", torch.as_tensor(detector.score_center_, dtype=torch.float64))
        self.register_buffer("spread", torch.as_tensor(detector.score_scale_, dtype=torch.float64))
        weights = getattr(detector, "part_weights_", None)
        if weights is None:  # saved before parts were weighted: a plain mean
            weights = [1.0 / len(detector.score_center_)] * len(detector.score_center_)
        self.register_buffer("weights", torch.as_tensor(weights, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B,) float64
        xs = self.scale(x)
        parts = []
        if self.use_errors:
            parts += [m(xs).double().sqrt() for m in self.members]
        if self.use_latent:
            parts += [e(xs) for e in self.encoders]
        if self.density is not None:
            parts.append(self.density(self.scale.scaled64(x)))
        raw = torch.stack(parts)  # (n_parts, B), the order of AnomalyDetector._raw_errors
        return self.weights @ ((raw - self.center[:, None]) / self.spread[:, None])


class _Density(nn.Module):
    """Scaled float64 input -> mean distance to the k nearest reference rows (float64)."""

    def __init__(self, reference: Any, k: int) -> None:
        super().__init__()
        self.register_buffer("reference", torch.as_tensor(reference, dtype=torch.float64))
        self.register_buffer("reference_sq", (self.reference ** 2).sum(dim=1))
        self.k = int(k)

    def forward(self, xs: Tensor) -> Tensor:  # (B, D) float64 -> (B,)
        d2 = (xs * xs).sum(dim=1, keepdim=True) + self.reference_sq[None, :] \
            - 2.0 * (xs @ self.reference.T)
        nearest = torch.topk(d2, self.k, dim=1, largest=False).values
        return nearest.clamp(min=0).sqrt().mean(dim=1)


class _LatentDistance(nn.Module):
    """Scaled input -> Mahalanobis distance of one member's code (float64)."""

    def __init__(self, estimator: Any, mean: Any, precision: Any) -> None:
        super().__init__()
        self.module = estimator.module_
        self._estimator = [estimator]
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float64))
        self.register_buffer("precision", torch.as_tensor(precision, dtype=torch.float64))

    def forward(self, xs: Tensor) -> Tensor:  # (B, D) -> (B,)
        z = self._estimator[0]._encode(xs).flatten(1).double() - self.mean
        return ((z @ self.precision) * z).sum(dim=1).clamp(min=0).sqrt()


class _Encoder(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.scaler_)
        self.module = estimator.module_
        self._estimator = [estimator]

    def forward(self, x: Tensor) -> Tensor:  # (B, D) -> (B, L)
        return self._estimator[0]._encode(self.scale(x))


class _Decoder(nn.Module):
    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.scale = _Scale(estimator.scaler_)
        self.module = estimator.module_
        self._estimator = [estimator]

    def forward(self, z: Tensor) -> Tensor:  # (B, L) -> (B, D) float64, data units
        return self.scale.inverse(self._estimator[0]._decode(z)).double()


def export_module(estimator: Any, part: Part = "score") -> tuple[nn.Module, str, str, int]:
    """The ``nn.Module`` exported for ``part``, its input/output names and input width."""
    estimator._check_is_fitted()
    if part not in PARTS:
        raise ParameterError(f"part must be one of {PARTS}. Got {part!r} instead.")
    is_detector = hasattr(estimator, "estimators_")
    if part == "score":
        graph = _DetectorScore(estimator) if is_detector else _AutoencoderScore(estimator)
        out = "anomaly_score" if is_detector else "reconstruction_error"
        return graph, "x", out, int(estimator.n_features_in_)
    if is_detector:
        raise ParameterError(
            f"part={part!r} is for a single autoencoder; an AnomalyDetector is an ensemble. "
            "Export part='score', or a member: to_onnx(detector.estimators_[i], ...).")
    if getattr(estimator, "module_", None) is None or not hasattr(estimator.module_, "encode"):
        raise ParameterError(f"{type(estimator).__name__} has no encoder/decoder to export.")
    if part == "encoder":
        return _Encoder(estimator), "x", "z", int(estimator.n_features_in_)
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
