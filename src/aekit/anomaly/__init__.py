"""Turn reconstruction errors into anomaly decisions, and measure how good they are.

- :mod:`aekit.anomaly.thresholds`: fitted thresholds on anomaly scores (mean + k std,
  quantile, median + k MAD, peaks-over-threshold), with JSON round trip and a registry.
- :mod:`aekit.anomaly.metrics`: ROC-AUC, average precision, precision/recall/F1 at a
  threshold and precision@n, when labels exist.
"""

from aekit.anomaly.metrics import detection_metrics, format_metrics
from aekit.anomaly.thresholds import (
    MADThreshold,
    MeanStdThreshold,
    POTThreshold,
    QuantileThreshold,
    make_threshold,
    threshold_from_dict,
)

__all__ = [
    "MADThreshold",
    "MeanStdThreshold",
    "POTThreshold",
    "QuantileThreshold",
    "detection_metrics",
    "format_metrics",
    "make_threshold",
    "threshold_from_dict",
]
