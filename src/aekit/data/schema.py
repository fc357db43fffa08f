"""The input contract of a fitted model: what it accepts and how that becomes network input.

An :class:`InputSpec` is learned from the training data and saved with the model. It owns

- the columns: their number, names and order (or, for images, the shape of one image);
- validation of new input against them, with the precise errors of
  :mod:`aekit.data.validation` (file, column, row);
- the encoding into the scaled rows the networks see (per-feature scaling, optional
  clipping) and the decoding of network output back to the input's units and layout.

Every estimator and every path (in-memory and streamed fit, transform, scoring, streaming
scoring, export) goes through it, so a new kind of column is taught here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from aekit.data.chunks import batch_to_float
from aekit.data.columns import (
    MISSING_LEVEL,
    UNSEEN_TEXT,
    Column,
    MixedColumnError,
    calendar_text,
    check_roles,
    decode_column,
    encode_column,
    holds_whole_numbers,
    infer_column,
    mixed_columns_message,
    needs_roles,
    placeholder_cells,
)
from aekit.data.images import looks_like_images as _images_by_ndim
from aekit.data.images import to_image_array
from aekit.data.preprocessing import AffineScaler, RunningMoments
from aekit.data.validation import INDEX_NAMES, align_columns, check_features
from aekit.exceptions import DataError


def looks_like_images(X: Any) -> bool:
    """3-D ``(N, H, W)`` or 4-D ``(N, C, H, W)`` arrays (or nested lists) are images.

    Reads ``X.ndim`` rather than calling ``np.ndim``, so array-likes that only convert on
    request (``__array__``) are not converted here; DataFrames are never images.
    """
    if isinstance(X, (list, tuple)):
        return _images_by_ndim(X)
    return getattr(X, "ndim", None) in (3, 4) and not hasattr(X, "columns")


def _named_columns(X: Any, columns: list[str] | None) -> tuple[str, ...] | None:
    """Column names worth checking later: a DataFrame's, when every name is a string."""
    if columns is not None and all(isinstance(c, str) for c in getattr(X, "columns", [])):
        return tuple(columns)
    return None


@dataclass(frozen=True)
class InputSpec:
    """What a fitted model expects as input and how it is encoded for the network.

    Attributes
    ----------
    n_features : int
        Columns, or pixels per image (channels * height * width).
    feature_names : tuple of str or None
        Column names seen in fit (DataFrames with string names), matched by name later.
    image_shape : tuple of int or None
        One training image's shape as passed to fit, (H, W) or (C, H, W); None for tables.
    scaler : AffineScaler or None
        Per-feature scaling; None until :meth:`with_scaling` is called.
    clip : float or None
        Scaled values beyond +/- ``clip`` are limited by :meth:`encode`, as ``clip_mode``
        says.
    clip_mode : {"log", "hard"}
        "log": a value beyond the bound becomes ``clip + log(1 + excess)``, so a far value
        still counts more than a near one (extremes keep their order) without swamping the
        networks; "hard": clipped to the bound (models saved before "log" existed).
    columns : tuple of Column or None
        For a table with more than numbers (text, dates, identifiers, ...): every input
        column with its role and encoding (:mod:`aekit.data.columns`). ``n_features`` then
        counts the encoded columns the network sees, ``feature_names`` the input columns
        that are features. None: every column is a number, encoded as itself.
    allow_missing : bool
        Missing cells (NaN) are accepted and stay NaN when encoded; the model leaves them
        out of its loss and error. True for tables with roles, and for rows a detector
        hands its members.
    labels : str or None
        The column fit's data held as labels (``aekit fit --labels``): left out of the
        input later too, so the file fit read can be scored as it is.
    """

    n_features: int
    feature_names: tuple[str, ...] | None = None
    image_shape: tuple[int, ...] | None = None
    scaler: AffineScaler | None = None
    clip: float | None = None
    clip_mode: str = "hard"
    columns: tuple[Column, ...] | None = None
    allow_missing: bool = False
    labels: str | None = None

    # ---------------------------------------------------------------- learning it
    @classmethod
    def from_training_data(cls, X: Any, *, source: str = "X",
                           estimator_name: str = "the model", min_samples: int = 2,
                           column_roles: dict[str, str] | None = None,
                           allow_missing: bool = False) -> tuple[InputSpec, np.ndarray]:
        """The contract of training input ``X`` and ``X`` as float64 rows (images flattened).

        ``column_roles`` (name -> role) overrides the roles inferred for a DataFrame's
        columns (see :mod:`aekit.data.columns`).
        """
        declared = check_roles(column_roles, estimator_name)
        frame = as_frame(X)
        if frame is not None and needs_roles(frame, declared):
            return cls.from_frame(frame, declared, source=source, min_samples=min_samples)
        if declared:
            raise DataError(f"{source}: column_roles names columns, but X has no column "
                            "names. Pass a DataFrame.")
        if looks_like_images(X):
            rows = _image_rows(X, source)
            if rows.shape[0] < min_samples:
                raise DataError(f"{source}: got {rows.shape[0]} image; at least {min_samples} "
                                "are needed to fit.")
            shape = tuple(int(s) for s in np.shape(X)[1:])
            return cls(rows.shape[1], image_shape=shape), rows
        rows, columns = check_features(X, source=source, min_samples=min_samples,
                                       estimator_name=estimator_name,
                                       allow_missing=allow_missing)
        # a table may have missing cells at score time even when fit saw none
        return cls(rows.shape[1], feature_names=_named_columns(X, columns),
                   allow_missing=allow_missing or frame is not None), rows

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, declared: dict[str, str], *, source: str = "X",
                   min_samples: int = 2) -> tuple[InputSpec, np.ndarray]:
        """The contract of a table with roles, and the table encoded, without its rows that
        hold no value at all (:func:`blank_rows`)."""
        names = [str(c) for c in frame.columns]
        duplicated = sorted({c for c in names if names.count(c) > 1})
        if duplicated:
            raise DataError(f"{source}: duplicated column names {duplicated}. "
                            "Give every column a unique name.")
        unknown = sorted(set(declared) - set(names))
        if unknown:
            raise DataError(f"{source}: column_roles names columns {unknown} that X does not "
                            f"have; its columns are {names[:20]}.")
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any() and not blank.all():
            # a row with no value at all (a line of delimiters, as spreadsheets export an
            # empty row) teaches nothing, and would make "(missing)" a category's level
            frame = frame[~blank]
        if len(frame) < min_samples:
            raise DataError(f"{source}: got {len(frame)} row(s) (n_samples={len(frame)}); at "
                            f"least {min_samples} samples are needed to fit. Pass more rows.")
        inferred, mixed = [], []
        for j, name in enumerate(names):
            try:
                inferred.append(infer_column(name, frame.iloc[:, j], declared.get(name), source))
            except MixedColumnError as err:  # named together, not one per run
                mixed.append(err)
        if mixed:
            raise DataError(mixed_columns_message(mixed, source))
        columns = tuple(inferred)
        features = [c for c in columns if c.is_feature]
        if not features:
            raise DataError(f"{source}: no feature columns: "
                            + ", ".join(f"{c.name!r} is {c.role}" for c in columns)
                            + ". Declare some with column_roles (--numeric, --categorical).")
        width = sum(len(c.encoded_names) for c in features)
        spec = cls(width, feature_names=tuple(c.name for c in features), columns=columns,
                   allow_missing=True)
        return spec, spec.rows(frame, source=source)

    @classmethod
    def from_columns(cls, columns: list[str] | tuple[str, ...], *,
                     allow_missing: bool = False) -> InputSpec:
        """The contract of a table with these named columns (e.g. Parquet files)."""
        return cls(len(columns), feature_names=tuple(str(c) for c in columns),
                   allow_missing=allow_missing)

    def with_scaling(self, kind: str, rows: np.ndarray | None = None, *,
                     moments: RunningMoments | None = None, sample: np.ndarray | None = None,
                     clip: float | None = None, clip_mode: str = "log") -> InputSpec:
        """This contract with scaling of ``kind`` fitted on ``rows`` (exact), or on streamed
        ``moments`` and a ``sample`` of rows (see :meth:`AffineScaler.from_moments`)."""
        scaler = (AffineScaler.fit(rows, kind) if rows is not None
                  else AffineScaler.from_moments(moments, kind, sample))
        if self.columns is not None:  # 0/1 and cyclic encodings keep their own units
            keep = self.scaled_mask
            centres = np.concatenate([np.full(len(c.encoded_names), c.fixed_centre)
                                      for c in self.columns if c.is_feature])
            scaler = AffineScaler(scaler.kind, np.where(keep, scaler.center, centres),
                                  np.where(keep, scaler.scale, 1.0))
        return replace(self, scaler=scaler, clip=clip, clip_mode=clip_mode)

    # ---------------------------------------------------------------- using it
    @property
    def scaled_mask(self) -> np.ndarray:
        """(encoded columns,) whether each encoded column is a scaled number (a table with
        roles: numeric columns and years; not 0/1 or cyclic encodings)."""
        return np.concatenate([np.full(len(c.encoded_names), c.scaled)
                               for c in self.columns if c.is_feature])

    @property
    def is_images(self) -> bool:
        return self.image_shape is not None

    @property
    def image_chw(self) -> tuple[int, int, int]:
        """(channels, height, width) of one training image."""
        shape = tuple(self.image_shape)
        return (1, *shape) if len(shape) == 2 else shape

    def rows(self, X: Any, *, source: str = "X", estimator_name: str = "the model",
             row_offset: int = 0) -> np.ndarray:
        """Check new input against the contract; return it as float64 rows in fit's order."""
        X = self._without_labels(X)
        if self.columns is not None:
            frame = as_frame(X)
            if frame is None:
                raise DataError(f"{source}: {estimator_name} was fitted on a table with named "
                                "columns of several kinds; pass a DataFrame (or a file) with "
                                "those columns.")
            self.select_columns([str(c) for c in frame.columns], source=source)
            frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
            if len(frame) == 0:
                raise DataError(f"{source}: empty input (0 rows). Pass at least 1 rows.")
            return np.hstack([encode_column(c, frame[c.name], source, row_offset)
                              for c in self.columns if c.is_feature])
        if self.is_images and looks_like_images(X):
            images = to_image_array(X, source=source)
            if images.shape[1:] != self.image_chw:
                raise DataError(
                    f"{source}: images of shape {tuple(np.shape(X)[1:])} (one image), but "
                    f"{estimator_name} was fitted on images of shape {self.image_shape}. "
                    "Resize or crop them to the training size.")
            return images.reshape(images.shape[0], -1).astype(np.float64)
        names = self.feature_names if hasattr(X, "columns") else None
        values, _ = check_features(
            X, source=source, feature_names=list(names) if names is not None else None,
            n_features=self.n_features, estimator_name=estimator_name,
            allow_missing=self.allow_missing)
        # C order whatever the input's (DataFrame.to_numpy() is often Fortran-ordered):
        # reductions then run in one order, so a row scores the same from any container
        return np.ascontiguousarray(values)

    def _without_labels(self, X: Any) -> Any:
        """A DataFrame without fit's labels column, which is no feature."""
        if self.labels and isinstance(X, pd.DataFrame) and self.labels in X.columns:
            return X.drop(columns=[self.labels])
        return X

    def select_columns(self, available: list[str], *, source: str,
                       estimator_name: str = "the model") -> list[str]:
        """Which of a file's columns to read, in fit's order: fit's names (the file's order
        may differ), or for a model fitted on unnamed columns, all of them by position;
        never fit's labels column."""
        available = [c for c in available if c != self.labels]
        if self.columns is not None:
            known = {c.name for c in self.columns}
            required = [c.name for c in self.columns if c.is_feature]
            missing = [c for c in required if c not in available]
            unexpected = [c for c in available if c not in known and c not in INDEX_NAMES]
            if missing or unexpected:
                align_columns(pd.DataFrame(columns=[c for c in available if c in required]
                                           + unexpected), required, source)  # raises
            return [c.name for c in self.columns if c.name in available]
        if self.feature_names is not None:
            # the rule and message of in-memory data: every fitted column, no extra ones
            return list(align_columns(pd.DataFrame(columns=available),
                                      list(self.feature_names), source).columns)
        if len(available) != self.n_features:
            raise DataError(f"{source}: X has {len(available)} features, but "
                            f"{estimator_name} is expecting {self.n_features} "
                            "features as input. Pass the same columns as in fit.")
        return list(available)

    def batch_rows(self, batch: Any, columns: list[str], source: str,
                   row_offset: int) -> np.ndarray:
        """A record batch of a file, holding ``columns`` (:meth:`select_columns`), as
        validated float64 rows; errors name the file's row (``row_offset``: rows before)."""
        if self.columns is not None:
            frame = batch.to_pandas()
            frame.columns = list(columns)
            return self.rows(frame, source=source, row_offset=row_offset)
        return batch_to_float(batch, columns, source, row_offset,
                              allow_missing=self.allow_missing)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Scaled (and limited, see ``clip``) float64 rows."""
        scaled = self.scaler.transform(rows)  # a new array: limited in place
        if self.clip is None:
            return scaled
        if self.clip_mode == "hard":
            return np.clip(scaled, -self.clip, self.clip, out=scaled)
        return compress_beyond(scaled, self.clip)

    def encode_float32(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`encode` rounded to float32, computed a block of rows at a time."""
        if self.clip is None:
            return self.scaler.transform_float32(rows)
        return self.encode(rows).astype(np.float32)

    def decode(self, scaled: np.ndarray) -> np.ndarray:
        """Network output (scaled rows) back in the data's units."""
        return self.scaler.inverse_transform(scaled)

    def shaped_like(self, rows: np.ndarray, X: Any) -> np.ndarray:
        """Per-feature results ``(n, n_features)`` in the layout of input ``X``: images in,
        images out; tables stay rows."""
        if self.is_images and looks_like_images(X):
            return rows.reshape(np.shape(X)[0], *np.shape(X)[1:])
        return rows

    def without_missing_levels(self, rows: np.ndarray) -> np.ndarray:
        """Encoded rows with each categorical "(missing)" slot cleared: for imputation, a
        missing category is no information, not a category of its own."""
        if self.columns is None:
            return rows
        rows, start = rows.copy(), 0
        for column in (c for c in self.columns if c.is_feature):
            width = len(column.encoded_names)
            if column.role == "categorical" and MISSING_LEVEL in column.levels:
                rows[:, start + column.levels.index(MISSING_LEVEL)] = 0.0
            start += width
        return rows

    def within_observed(self, decoded: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``decoded`` rows with each number (a numeric column, a year) clipped to the range
        its column holds in ``rows`` (encoded rows, NaN where missing): a fill that never
        leaves what was seen (no negative count, no rating below the scale)."""
        numeric = np.ones(decoded.shape[1], dtype=bool) if self.columns is None else \
            self.scaled_mask
        seen = numeric & ~np.isnan(rows).all(axis=0)
        if not seen.any() or self.is_images:
            return decoded
        out = decoded.copy()
        out[:, seen] = np.clip(decoded[:, seen], np.nanmin(rows[:, seen], axis=0),
                               np.nanmax(rows[:, seen], axis=0))
        return out

    def missing_cells(self, rows: np.ndarray, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Which cells of each of ``frame``'s columns are missing: empty, and for a numeric
        column also text read as missing ("-", "n/a"; ``rows`` are the encoded rows), for a
        category its placeholders ("?")."""
        missing = {name: frame[name].isna().to_numpy() for name in frame.columns}
        start = 0
        for column in (c for c in self.columns or () if c.is_feature):
            if column.role == "numeric" and column.name in missing:
                missing[column.name] = missing[column.name] | np.isnan(rows[:, start])
            elif column.role in ("categorical", "boolean") and column.name in missing:
                missing[column.name] = missing[column.name] | placeholder_cells(
                    column, frame[column.name])
            start += len(column.encoded_names)
        return missing

    def output_like(self, decoded: np.ndarray, X: Any) -> Any:
        """Decoded rows (data units, ``(n, n_features)``) in the form of input ``X``: images
        for images; for a table with roles given as a DataFrame, a DataFrame with ``X``'s
        columns (features decoded by :func:`aekit.data.columns.decode_column`, the others
        as they were); for plain numbers given as a DataFrame, a DataFrame of fit's
        columns; otherwise rows."""
        frame = as_frame(X) if not self.is_images else None
        if frame is None:
            return self.shaped_like(decoded, X)
        if self.columns is None:  # plain numbers: a DataFrame in fit's column order
            out = pd.DataFrame(decoded, columns=self.column_names(), index=frame.index)
            frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
            integral = {name: frame[name].dtype for name in out.columns if name in frame
                        and pd.api.types.is_integer_dtype(frame[name].dtype)}
            for name in integral:  # ints where the input was integral
                out[name] = np.round(out[name])
            return out.astype(integral) if integral else out
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        out, start = frame.copy(), 0
        for column in self.columns:
            if not column.is_feature:
                continue
            width = len(column.encoded_names)
            if column.name in out:
                out[column.name] = decode_column(column, decoded[:, start:start + width],
                                                 frame[column.name])
            start += width
        return out

    def decoded_table(self, decoded: np.ndarray) -> pd.DataFrame:
        """Decoded rows with no input to take the form of (samples, latent walks): one
        column per feature column, in fit's order: numbers; a boolean's value (bools for a
        bool column); the most likely category; a date's calendar parts as text ("Wed Sep
        13h"), which is all its encoding holds; whole numbers where fit saw only whole
        numbers."""
        out, start = {}, 0
        blank = pd.Series([None] * len(decoded), dtype=object)
        for column in (c for c in self.columns or () if c.is_feature):
            block = decoded[:, start:start + len(column.encoded_names)]
            start += block.shape[1]
            if column.role == "numeric" and column.integral:
                out[column.name] = np.rint(block[:, 0]).astype(np.int64)
            elif column.role == "numeric":
                out[column.name] = block[:, 0]
            elif column.role == "datetime":
                out[column.name] = calendar_text(column, block)
            elif column.role == "boolean" and column.levels == ("False", "True"):
                out[column.name] = block[:, 0] >= 0.5
            else:
                out[column.name] = decode_column(column, block, blank).to_numpy()
        return pd.DataFrame(out)

    def as_images(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``(n, n_features)`` as training-shaped images ``(n, *image_shape)``."""
        return rows.reshape(rows.shape[0], *self.image_shape)

    def column_names(self) -> list[str]:
        """Names of the encoded columns (per-feature output): fit's column names (one-hot
        levels as ``column=level``, calendar parts as ``column:part_sin``), else x0, ..."""
        if self.columns is not None:
            return [name for c in self.columns for name in c.encoded_names]
        if self.feature_names is not None:
            return list(self.feature_names)
        return [f"x{j}" for j in range(self.n_features)]

    def typical_values(self) -> list[str]:
        """Each input feature column's typical training value, as text: the scaling's
        centre for numbers (the median under robust scaling, else the mean), the most
        frequent value of a category or boolean; "" for dates and images."""
        if self.is_images:
            return [""] * self.n_features
        centre = [f"{v:.4g}" for v in self.scaler.center]
        if self.columns is None:
            return centre
        out, start = [], 0
        for column in (c for c in self.columns if c.is_feature):
            out.append(centre[start] if column.role == "numeric" else column.typical)
            start += len(column.encoded_names)
        return out

    def display_values(self, rows: np.ndarray) -> np.ndarray:
        """Each input feature column's value in ``rows`` (validated rows, as :meth:`rows`
        gives them), as text, shape (n, n_input_features): numbers to 4 digits, a
        category's value (``UNSEEN_TEXT`` for one fit never saw or saw too rarely to learn),
        "missing"; "" for dates."""
        n = rows.shape[0]
        if self.is_images or self.columns is None:
            return np.array([["missing" if np.isnan(v) else f"{v:.4g}" for v in row]
                             for row in rows.tolist()], dtype=object).reshape(n, -1)
        out, start = [], 0
        for column in (c for c in self.columns if c.is_feature):
            block = rows[:, start:start + len(column.encoded_names)]
            start += block.shape[1]
            if column.role == "numeric":
                text = ["missing" if np.isnan(v) else f"{v:.4g}" for v in block[:, 0].tolist()]
            elif column.role == "categorical":
                names = np.array([*column.levels, UNSEEN_TEXT], dtype=object)
                text = np.where(block.sum(axis=1) > 0, names[block.argmax(axis=1)], "missing")
            elif column.role == "boolean":
                text = [column.levels[int(v)] if v in (0.0, 1.0) else "missing"
                        for v in block[:, 0].tolist()]
            else:  # datetime: the calendar parts it was encoded as
                text = calendar_text(column, block)
            out.append(np.asarray(text, dtype=object))
        return np.stack(out, axis=1)

    def expected_values(self, decoded: np.ndarray) -> np.ndarray:
        """Each input feature column's most likely value in decoded rows (a model's output
        in data units), as text: a category's and a boolean's; "" for the other columns,
        shape (n, n_input_features)."""
        n = decoded.shape[0]
        if self.is_images or self.columns is None:
            return np.full((n, self.n_features if self.columns is None else 0), "", dtype=object)
        out, start = [], 0
        for column in (c for c in self.columns if c.is_feature):
            block = decoded[:, start:start + len(column.encoded_names)]
            start += block.shape[1]
            if column.role == "categorical":
                names = np.asarray(column.levels, dtype=object)
                out.append(names[block[:, :-1].argmax(axis=1)])
            elif column.role == "boolean":
                out.append(np.asarray(column.levels, dtype=object)[
                    (block[:, 0] >= 0.5).astype(int)])
            else:
                out.append(np.full(n, "", dtype=object))
        return np.stack(out, axis=1)

    def categorical_blocks(self) -> tuple[tuple[int, int], ...]:
        """``(start, stop)`` of each categorical column's one-hot slots among the encoded
        columns (the last slot is its "(other)" slot); empty without categorical columns."""
        blocks, start = [], 0
        for column in (c for c in self.columns or () if c.is_feature):
            width = len(column.encoded_names)
            if column.role == "categorical":
                blocks.append((start, start + width))
            start += width
        return tuple(blocks)

    def feature_groups(self) -> tuple[list[str], np.ndarray | None]:
        """The input feature columns (an image's pixels by where they are), and for each
        encoded column the index of the input column it belongs to (None: one encoded
        column per input column)."""
        if self.is_images:  # where in the image: "pixel (9, 11)", row and column
            channels, height, width = self.image_chw
            where = [f"pixel ({r}, {c})" for r in range(height) for c in range(width)]
            return (where if channels == 1 else
                    [f"ch {k} {w}" for k in range(channels) for w in where]), None
        if self.columns is None:
            return self.column_names(), None
        features = [c for c in self.columns if c.is_feature]
        owner = np.concatenate([np.full(len(c.encoded_names), k)
                                for k, c in enumerate(features)])
        return [c.name for c in features], owner

    def per_input_column(self, shares: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Per-encoded-column shares ``(n, n_features)`` summed per input column."""
        names, owner = self.feature_groups()
        if owner is None:
            return names, shares
        grouped = np.zeros((shares.shape[0], len(names)))
        for k in range(len(names)):
            grouped[:, k] = shares[:, owner == k].sum(axis=1)
        return names, grouped

    def cell_states(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two (rows, feature columns) masks of ``rows`` (encoded, scaled or not): which
        cells hold a value fit never saw (or saw too rarely), and which hold none."""
        if self.columns is None:
            return np.zeros(rows.shape, dtype=bool), np.isnan(rows)
        unseen, missing, start = [], [], 0
        for column in (c for c in self.columns if c.is_feature):
            block = rows[:, start:start + len(column.encoded_names)]
            start += block.shape[1]
            new = np.zeros(len(block), dtype=bool)
            if column.role == "categorical":
                gap = block.sum(axis=1) == 0
                if MISSING_LEVEL in column.levels:
                    gap |= block[:, column.levels.index(MISSING_LEVEL)] == 1
                new = block[:, -1] == 1
            elif column.role == "boolean":
                gap = np.isnan(block[:, 0]) | (column.gap_at_half & (block[:, 0] == 0.5))
            elif column.role == "datetime" and column.parts != ("year",):
                gap = np.isnan(block[:, 0]) | ~block.any(axis=1)
            else:
                gap = np.isnan(block[:, 0])
            unseen.append(new)
            missing.append(gap)
        return np.stack(unseen, axis=1), np.stack(missing, axis=1)

    def cell_counts(self, rows: np.ndarray) -> np.ndarray:
        """(feature columns, 2): how many of ``rows`` (encoded) hold a value fit never saw
        (or saw too rarely) in each feature column, and how many none."""
        unseen, missing = self.cell_states(rows)
        return np.stack([unseen.sum(axis=0), missing.sum(axis=0)], axis=1).astype(np.int64)

    def empty_rows(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` (encoded, scaled or not) hold no value in any feature column:
        there is nothing to score, and their score is NaN."""
        if self.is_images or not len(rows):
            return np.zeros(len(rows), dtype=bool)
        return self.cell_states(rows)[1].all(axis=1)

    def unusual_columns(self, counts: np.ndarray, n_rows: int) -> list[str]:
        """Notes on feature columns that are missing in every row scored, or whose values
        fit never saw in at least half of them (a column written otherwise than in fit,
        such as codes that lost their leading zeros): every row may then score high."""
        names, notes = self.feature_groups()[0], []
        for name, (unseen, missing) in zip(names, counts.tolist()):
            if n_rows and missing == n_rows:
                notes.append(f"note: column {name!r} is missing in every row scored.")
            elif n_rows and unseen >= n_rows / 2:
                notes.append(f"note: column {name!r} holds values fit never saw (or saw too "
                             f"rarely to learn) in {unseen / n_rows:.0%} of the rows; is it "
                             "written as it was in fit?")
        return notes

    def carry_identifiers(self, out: pd.DataFrame, X: Any) -> pd.DataFrame:
        """``out`` (one row per row of ``X``) with ``X``'s :attr:`carried` columns first, in
        row order; one named like a column of ``out`` is carried as ``carried_name`` says."""
        frame = as_frame(X)
        if frame is None:
            return out
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        taken = [str(c) for c in out.columns]
        for k, name in enumerate(c for c in self.carried if c in frame):
            values = frame[name]
            # an integer id with gaps (floats in pandas) as integers, as Parquet holds it
            if holds_whole_numbers(values):
                values = pd.array(values, dtype="Int64")
            else:  # nullable integers, pyarrow strings and NumPy columns as they are
                values = values.array if pd.api.types.is_extension_array_dtype(
                    values.dtype) else values.to_numpy()
            out.insert(k, carried_name(name, taken), values)
        return out

    @property
    def carried(self) -> list[str]:
        """Input columns carried into the outputs, first, in fit's order: the identifiers,
        and a datetime feature distinct in every row of fit (a time series' dates)."""
        return [c.name for c in self.columns or () if c.role == "identifier" or c.key]

    @property
    def identifiers(self) -> list[str]:
        """Input columns that name rows (carried into outputs, no features)."""
        return [c.name for c in self.columns or () if c.role == "identifier"]

    def describe(self) -> list[str]:
        """One line per input column: name, role, encoding (compact for wide tables)."""
        if self.columns is None:
            if self.is_images:
                return [f"images of shape {self.image_shape}"]
            names = self.column_names()
            shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
            return [f"{len(names)} numeric columns, scaled: {shown}"]
        width = max(len(c.name) for c in self.columns)
        lines = [f"{c.name:<{width}}  {c.describe()}" for c in self.columns[:40]]
        if len(self.columns) > 40:
            rest = self.columns[40:]
            roles = {r: sum(c.role == r for c in rest) for r in {c.role for c in rest}}
            lines.append(f"... and {len(rest)} more: "
                         + ", ".join(f"{n} {r}" for r, n in sorted(roles.items())))
        return lines

    # ---------------------------------------------------------------- saving it
    def to_dict(self) -> dict[str, Any]:
        return {"n_features": int(self.n_features),
                "feature_names": None if self.feature_names is None else list(self.feature_names),
                "image_shape": None if self.image_shape is None else list(self.image_shape),
                "scaler": self.scaler.to_dict(), "clip": self.clip,
                "clip_mode": self.clip_mode,
                "columns": None if self.columns is None else [c.to_dict() for c in self.columns],
                "allow_missing": bool(self.allow_missing), "labels": self.labels}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> InputSpec:
        """Inverse of :meth:`to_dict`, checking that the parts agree."""
        n = int(state["n_features"])
        names = state.get("feature_names")
        shape = state.get("image_shape")
        spec = cls(n, feature_names=None if names is None else tuple(str(c) for c in names),
                   image_shape=None if shape is None else tuple(int(v) for v in shape),
                   scaler=AffineScaler.from_dict(state["scaler"]),
                   clip=None if state.get("clip") is None else float(state["clip"]),
                   clip_mode=str(state.get("clip_mode", "hard")),
                   columns=None if state.get("columns") is None else tuple(
                       Column.from_dict(c) for c in state["columns"]),
                   allow_missing=bool(state.get("allow_missing", False)),
                   labels=None if state.get("labels") is None else str(state["labels"]))
        if spec.scaler.center.shape != (n,):
            raise ValueError("scaler size does not match n_features")
        widths = None if spec.columns is None else sum(
            len(c.encoded_names) for c in spec.columns if c.is_feature)
        if (widths if widths is not None else len(names) if names is not None else n) != n:
            raise ValueError("feature_names do not match n_features")
        if shape is not None and (len(shape) not in (2, 3) or math.prod(shape) != n):
            raise ValueError("image_shape does not match n_features")
        return spec


def carried_name(name: str, taken: list[str] | tuple[str, ...]) -> str:
    """An identifier column's name in an output whose own columns are ``taken``: its own,
    unless it is one of them (a country table's "flag" column), then "<name> (input)"."""
    return f"{name} (input)" if name in taken else name


def in_kind_of(out: Any, X: Any) -> Any:
    """A pandas result back as a polars DataFrame when the input ``X`` was one."""
    if isinstance(out, pd.DataFrame) and type(X).__module__.startswith("polars"):
        import polars as pl

        return pl.from_pandas(out)
    return out


def compress_beyond(scaled: np.ndarray, bound: float) -> np.ndarray:
    """``scaled`` (changed in place) with each value beyond +/- ``bound`` at ``bound +
    log(1 + excess)`` on its side: monotonic, so extremes keep their order."""
    far = np.abs(scaled) > bound
    if far.any():
        values = scaled[far]
        scaled[far] = np.sign(values) * (bound + np.log1p(np.abs(values) - bound))
    return scaled


def blank_rows(X: Any) -> np.ndarray:
    """Positions (from 0) of the rows of table ``X`` in which every cell is missing; fit
    leaves them out, and their scores say nothing about them."""
    frame = as_frame(X)
    if frame is None or not len(frame.columns):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(frame.isna().all(axis=1).to_numpy())


def as_frame(X: Any) -> pd.DataFrame | None:
    """A pandas DataFrame for DataFrame-like input (pandas, polars), else None."""
    if type(X).__module__.startswith("polars") and hasattr(X, "to_pandas"):
        return X.to_pandas()
    return X if isinstance(X, pd.DataFrame) else None


def _image_rows(X: Any, source: str) -> np.ndarray:
    images = to_image_array(X, source=source)  # (N, C, H, W) float32 in [0, 1]
    return images.reshape(images.shape[0], -1).astype(np.float64)


__all__ = ["InputSpec", "as_frame", "looks_like_images"]
