"""Detection metrics when labels exist (re-exported from :mod:`aekit.anomaly.metrics`)."""

from aekit.anomaly.metrics import detection_metrics, format_metrics

__all__ = ["detection_metrics", "format_metrics"]
