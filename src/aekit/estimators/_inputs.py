"""The scikit-learn view of a fitted estimator's input contract (``input_spec_``)."""

from __future__ import annotations

import numpy as np

from aekit.data.preprocessing import AffineScaler


class FittedInputMixin:
    """``n_features_in_``, ``feature_names_in_``, ``scaler_`` and ``image_shape_``, read
    from the fitted :class:`~aekit.data.schema.InputSpec` ``input_spec_``."""

    @property
    def n_features_in_(self) -> int:
        """Input features: columns (for a table with roles, the feature columns before
        encoding; ``input_spec_.n_features`` counts the encoded ones), or pixels per image."""
        spec = self.input_spec_
        return spec.n_features if spec.columns is None else len(spec.feature_names)

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names seen in fit (only when X was a DataFrame with string names)."""
        names = self.input_spec_.feature_names
        if names is None:
            raise AttributeError(f"{type(self).__name__} was not fitted on named columns")
        return np.asarray(names, dtype=object)

    @property
    def scaler_(self) -> AffineScaler:
        return self.input_spec_.scaler

    @property
    def image_shape_(self) -> tuple[int, ...] | None:
        """One training image's shape, (H, W) or (C, H, W); None for tables."""
        return self.input_spec_.image_shape if hasattr(self, "input_spec_") else None
