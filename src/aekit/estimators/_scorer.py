"""The anomaly detector's fitted scoring state and the one way its score is computed.

A :class:`Scorer` holds everything a score needs: the fitted ensemble members, the latent
statistics, the density reference rows, and each part's calibration centre and scale and
weight. In-memory scoring, streaming scoring and ONNX export all call it; nothing else
reads its state. Its input is the detector's encoded rows (scaled and clipped, float64),
as :meth:`aekit.data.schema.InputSpec.encode` gives them.

The score has up to three views, each normalised on held-out calibration rows:

- *reconstruction* (or *elbo* for a VAE ensemble): how far a row is off what each member
  learned, its root mean squared reconstruction error (its negative ELBO); for images,
  of the residual smoothed by a small Gaussian (:mod:`aekit.nn.smoothing`), so strokes
  drawn a pixel off count less than strokes missing;
- *latent*: how unusual its position on it is, the Mahalanobis distance of each member's
  code from the calibration codes (Hotelling's T^2 next to the Q statistic);
- *density*: how sparse its neighbourhood is, the mean distance to its ``k`` nearest rows
  in each of ``REFERENCE_BAGS`` small random subsamples of the training rows (bags),
  averaged over the bags.

Each part ``p`` becomes ``(p - median) / IQR`` over the calibration rows. For tables the
density view gets weight ``DENSITY_WEIGHT`` (2/3) and the network views share the rest
equally; for images every view gets an equal share. Each view's weight is split equally
among its members' parts. Without the density view the network views get equal weight.

A row's score never depends on which other rows it is scored with (a single event, a chunk
of a file, or a whole table): forward passes and matrix products see at least
``MIN_INFERENCE_ROWS`` rows (fewer are zero-padded; BLAS picks other kernels for one or two
rows), the density view multiplies fixed blocks of ``DENSITY_BLOCK`` rows, and parts are
combined element by element.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from aekit import _threads
from aekit.anomaly.attribution import error_shares
from aekit.estimators._base import MIN_INFERENCE_ROWS, at_least_rows
from aekit.nn.smoothing import SmoothImages, residual_sigma
from aekit.training.missing import filled

VIEWS = ("reconstruction", "elbo", "latent", "density")
# Reference rows for the density view: small bags on purpose, as IsolationForest's
# subsamples (Liu et al. 2008): clustered anomalies mask each other less in a small
# subsample, and averaging over several bags steadies the view (BENCHMARKS.md section 14).
REFERENCE_BAGS = 4
BAG_ROWS = 64
MAX_REFERENCE_VALUES = 2**22  # and at most this many values in all bags (32 MiB as float64)
# The density view's share of the score, chosen by leave-datasets-out validation on the
# ADBench sets (BENCHMARKS.md section 12): 1/3 (equal views), 1/2 and 2/3 were tried.
DENSITY_WEIGHT = 2.0 / 3.0
TYPICAL_ROWS = 1024  # calibration rows that measure typical_terms
DENSITY_BLOCK = 256  # query rows per distance block (always padded to this size)
FEW_ROWS_PER_DIM = 2  # fewer calibration rows than this per latent dimension: shrink
FORWARD_ROWS = 16_384  # rows per forward pass: a member's activations stay in cache


def mahalanobis(Z: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """sqrt(z' P z) for each centred row z of ``Z``, as one matrix product."""
    n = len(Z)
    if n < MIN_INFERENCE_ROWS:
        Z = np.concatenate([Z, np.zeros((MIN_INFERENCE_ROWS - n, Z.shape[1]))])
    return np.sqrt(np.maximum(((Z @ precision) * Z).sum(axis=1), 0.0))[:n]


def scoring_views(scoring: str, density: bool) -> tuple[str, ...]:
    """The views a detector's ``scoring`` parameter asks for, in the order of the parts."""
    if scoring == "elbo":
        return ("elbo",)
    views = []
    if scoring != "latent":
        views.append("reconstruction")
    if scoring in ("latent", "combined"):
        views.append("latent")
    if scoring == "combined" and density:
        views.append("density")
    return tuple(views)


@dataclass
class Scorer:
    """Fitted scoring state of an :class:`~aekit.AnomalyDetector` (see the module docstring).

    Attributes
    ----------
    members : list of fitted Autoencoder or VAE
        Fitted on the detector's encoded rows (their own scaling is the identity).
    views : tuple of str
        Views scored, in order: each member's part per network view, then the density.
    center, scale, part_weights : ndarray of shape (n_parts,)
        Calibration median, IQR (or std where the IQR is 0) and weight of each part.
    latent_stats : list of (mean, precision) per member, for the latent view
    reference : ndarray of shape (n_bags * bag_rows, n_features) or None
        Encoded training rows for the density view, bag after bag; note that they are
        copies of data.
    n_neighbors : int or None
        Nearest rows per bag.
    n_bags : int
        Bags in ``reference`` (1 for models saved before bags existed: 256 rows).
    image_shape : tuple of int or None
        Members are convolutional and take images of this shape.
    smoothing : float
        Width in pixels of the Gaussian that smooths image residuals in the reconstruction
        view; 0 (tables, and models saved before it existed): none.
    typical_terms : ndarray of shape (n_features,) or None
        What the score's centre contributes to each feature in :meth:`attribution`:
        ``sum_p weight_p / scale_p * center_p * share_p``, with ``share_p`` the mean
        share of each feature in part ``p`` over calibration rows. None (models saved
        before it existed): nothing is subtracted.
    """

    members: list
    views: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    part_weights: np.ndarray
    latent_stats: list
    reference: np.ndarray | None = None
    n_neighbors: int | None = None
    image_shape: tuple[int, ...] | None = None
    smoothing: float = 0.0
    n_bags: int = 1
    typical_terms: np.ndarray | None = None

    @property
    def smoother(self) -> SmoothImages | None:
        """The residual smoothing of the reconstruction view, or None."""
        if self.image_shape is None or self.smoothing <= 0:
            return None
        if getattr(self, "_smoother", None) is None:
            self._smoother = SmoothImages(self.image_shape, self.smoothing)
        return self._smoother

    def view_errors(self, member: Any, recon: Tensor, x: Tensor, *,
                    complete: bool = False) -> Tensor:
        """Each row's error in the reconstruction view: the member's mean cell error, or for
        images the mean squared smoothed residual (``complete``: no cell of ``x`` missing)."""
        if self.smoother is None:
            return member.row_errors_scaled(recon, x, complete=complete)
        return self.smoother(recon - x).pow(2).mean(dim=1)

    def view_cell_errors(self, member: Any, recon: Tensor, x: Tensor) -> Tensor:
        """Each cell's error in the reconstruction view (see :meth:`view_errors`)."""
        if self.smoother is None:
            return member.cell_errors_scaled(recon, x)
        return self.smoother(recon - x).pow(2)

    # ---------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, members: list, views: tuple[str, ...], X_cal: np.ndarray, *,
            reference_pool: np.ndarray | None = None, n_neighbors: int | None = None,
            seed: int = 0, image_shape: tuple[int, ...] | None = None) -> tuple[Scorer, np.ndarray]:
        """Calibrate on ``X_cal`` (encoded rows the members did not fit); return the scorer
        and the calibration rows' scores. The density reference is ``REFERENCE_BAGS`` seeded
        subsamples of ``reference_pool`` (rows the members did fit), one if the pool fills
        just one."""
        scorer = cls(members, tuple(views), np.zeros(0), np.ones(0), np.zeros(0), [],
                     image_shape=image_shape,
                     smoothing=0.0 if image_shape is None else residual_sigma(image_shape))
        if "density" in views:
            bound = max(MAX_REFERENCE_VALUES // max(reference_pool.shape[1], 1), 2)
            bag_rows = min(len(reference_pool), BAG_ROWS, bound)
            n_bags = 1 if bag_rows == len(reference_pool) else \
                max(1, min(REFERENCE_BAGS, bound // bag_rows))
            rng = np.random.default_rng(seed)
            rows = np.concatenate([np.sort(rng.permutation(len(reference_pool))[:bag_rows])
                                   for _ in range(n_bags)])
            reference = np.asarray(reference_pool[rows], dtype=np.float64)
            # a missing cell sits at the centre of its column, as in the rows scored;
            # left NaN, it would take its whole row out of every distance
            scorer.reference = reference  # what the categories' centres are measured on
            scorer.reference = np.ascontiguousarray(scorer.at_centre(reference))
            scorer.n_bags = n_bags
            scorer.n_neighbors = min(int(n_neighbors), bag_rows)
        if "latent" in views:
            for codes in scorer._codes(X_cal):
                cov = np.atleast_2d(np.cov(codes, rowvar=False))
                if len(codes) < FEW_ROWS_PER_DIM * codes.shape[1]:
                    # too few rows for the code's width: the sample covariance is nearly
                    # singular, every calibration row sits at the same distance and the
                    # part's spread collapses; shrink it (Ledoit-Wolf) instead
                    from sklearn.covariance import ledoit_wolf

                    cov = np.atleast_2d(ledoit_wolf(codes)[0])
                # ridge relative to the average variance keeps collapsed dimensions harmless
                ridge = 1e-3 * max(float(np.trace(cov)) / len(cov), 1e-12)
                scorer.latent_stats.append(
                    (codes.mean(axis=0), np.linalg.inv(cov + ridge * np.eye(len(cov)))))
        scorer.part_weights = scorer._weights()
        raw = scorer.parts(X_cal)
        center = np.median(raw, axis=1)
        q75, q25 = np.percentile(raw, [75, 25], axis=1)
        spread = q75 - q25
        scorer.center = center
        scorer.scale = np.where(spread > 1e-12, spread, np.maximum(raw.std(axis=1), 1e-12))
        scorer.typical_terms = scorer._typical_terms(X_cal, seed)
        return scorer, scorer.combine(raw)

    def _typical_terms(self, X_cal: np.ndarray, seed: int) -> np.ndarray:
        """See ``typical_terms``: from at most ``TYPICAL_ROWS`` seeded calibration rows."""
        rows = X_cal
        if len(X_cal) > TYPICAL_ROWS:
            pick = np.sort(np.random.default_rng(seed).permutation(len(X_cal))[:TYPICAL_ROWS])
            rows = X_cal[pick]
        factor = self.part_weights / self.scale
        typical = np.zeros(X_cal.shape[1])
        for p, terms in enumerate(self._part_terms(rows)):
            typical += factor[p] * self.center[p] * error_shares(np.maximum(terms, 0.0)).mean(axis=0)
        return typical

    def _weights(self) -> np.ndarray:
        network = [v for v in self.views if v != "density"]
        # images keep equal views: the weight was validated on tables, and on one-class
        # MNIST the networks carry more of the score (BENCHMARKS.md section 12)
        share = DENSITY_WEIGHT if self.image_shape is None else 1.0 / len(self.views)
        density = share if "density" in self.views and network else \
            (1.0 if "density" in self.views else 0.0)
        per_view = (1.0 - density) / max(len(network), 1)
        return np.concatenate([np.full(1, density) if view == "density"
                               else np.full(len(self.members), per_view / len(self.members))
                               for view in self.views])

    # ---------------------------------------------------------------- scoring
    def score(self, xs: np.ndarray, *, single_thread: bool = False) -> np.ndarray:
        """Anomaly score of encoded rows ``xs``, shape (n,); higher = more anomalous.

        ``single_thread``: run the networks on one thread (a file scored in chunks, beside
        the reader's thread); otherwise on aekit's inference thread rule (:mod:`aekit._threads`).
        """
        return self.combine(self.parts(xs, single_thread=single_thread))

    def combine(self, raw: np.ndarray) -> np.ndarray:
        """Normalise each part and add them with their weights, element by element."""
        z = (raw - self.center[:, None]) / self.scale[:, None]
        score = self.part_weights[0] * z[0]
        for w, part in zip(self.part_weights[1:], z[1:], strict=True):
            score += w * part
        return score

    def parts(self, xs: np.ndarray, *, single_thread: bool = False) -> np.ndarray:
        """(n_parts, n): per view, each member's part (the density view has one)."""
        with _threads.scoring(), ThreadPoolExecutor(1, thread_name_prefix="aekit-density") as pool:
            # the density view needs nothing from the networks: it runs on another core
            # meanwhile (torch and NumPy release the GIL)
            density = None
            if "density" in self.views:
                density = pool.submit(self._density, self.at_centre(xs))
            network = self._network_parts(xs, single_thread=single_thread)
            parts = [network[view] for view in self.views if view != "density"]
            if density is not None:
                parts.append(density.result()[None, :])
        return np.concatenate(parts)

    def member_mse(self, xs: np.ndarray) -> np.ndarray:
        """(n_members, n): each member's mean squared reconstruction error."""
        return self._network_parts(xs, views=("mse",))["mse"]

    def view_error_map(self, xs: np.ndarray) -> np.ndarray:
        """(n, D): each cell's error in the reconstruction view, the mean over members."""
        x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float32))
        total = np.zeros(xs.shape)
        with torch.inference_mode():
            for m in self.members:
                step = self._step(m, False)
                with self._member_threads(m, len(xs), False):
                    for i in range(0, len(xs), step):
                        chunk = x[i:i + step]
                        recon = at_least_rows(m.reconstruct_raw_scaled, filled(chunk))
                        total[i:i + step] += self.view_cell_errors(m, recon, chunk).double().numpy()
        return total / len(self.members)

    def attribution(self, xs: np.ndarray, *, single_thread: bool = False) -> np.ndarray:
        """Each feature's share of each row's score, shape (n, n_features); rows sum to 1.

        Every part of the score is split over the features exactly or to first order: a
        reconstruction part by each feature's share of the row's error; the density part
        by each feature's share of the squared distance to each of the ``k`` nearest
        reference rows; a latent part by gradient x input from the centre, exact for the
        members' linear path. The parts are added with the score's own weights and
        normalisation (``weight / scale``), less what a typical row puts in each feature
        (``typical_terms``, the part's centre split as calibration rows split it), so the
        shares explain the score's excess over typical. Negative sums count as 0.
        """
        missing = np.isnan(xs)
        factor = self.part_weights / self.scale
        total = np.zeros(xs.shape)
        for p, terms in enumerate(self._part_terms(xs, single_thread=single_thread)):
            total += factor[p] * terms
        if self.typical_terms is not None:
            total -= self.typical_terms
        total = np.maximum(total, 0.0)
        if missing.any():
            total[missing] = 0.0  # a missing cell explains nothing
        return error_shares(total)

    def _part_terms(self, xs: np.ndarray, *, single_thread: bool = False) -> Iterator[np.ndarray]:
        """Each part's (n, D) split over the features, in the order of the parts (missing
        cells at the centre)."""
        missing = np.isnan(xs)
        seen = np.where(missing, 0.0, xs) if missing.any() else xs
        network = [v for v in self.views if v != "density"]
        n_members = len(self.members)
        parts: list = [None] * (len(network) * n_members)
        for k, m in enumerate(self.members):
            with self._member_threads(m, len(xs), single_thread):
                terms = _member_terms(self, m, seen, xs, self.latent_stats[k] if "latent" in network
                                      else None, self._step(m, single_thread))
            for v, view in enumerate(network):
                parts[v * n_members + k] = terms["latent" if view == "latent" else "error"]
        yield from parts
        if "density" in self.views:
            yield self._density_terms(self.at_centre(xs))

    def at_centre(self, xs: np.ndarray) -> np.ndarray:
        """``xs`` with each missing cell at the centre of its column, for the density view:
        a number at 0 (the scaling's centre), a category (a block of zeros) at its slots'
        mean over the reference rows that hold one. Left empty, a missing category would
        be far from every reference row."""
        missing = np.isnan(xs)
        out = np.where(missing, 0.0, xs) if missing.any() else xs
        for (start, stop), centre in self._block_centres().items():
            empty = ~out[:, start:stop].any(axis=1)
            if empty.any():
                out = out.copy() if out is xs else out
                out[empty, start:stop] = centre
        return out

    def _block_centres(self) -> dict[tuple[int, int], np.ndarray]:
        """Each categorical block's mean one-hot over the reference rows holding a value."""
        if getattr(self, "_centres", None) is None:
            layout = getattr(self.members[0], "cell_layout_", None) if self.members else None
            centres = {}
            for start, stop in layout.blocks if layout is not None else ():
                held = self.reference[:, start:stop]
                held = held[held.any(axis=1)]
                if len(held):
                    centres[(start, stop)] = held.mean(axis=0)
            self._centres = centres
        return self._centres

    def _density_terms(self, xs: np.ndarray) -> np.ndarray:
        """(n, D): the density part split over the features: for each of the k nearest
        reference rows r of each bag, ``(x_f - r_f)^2 / |x - r|``, averaged over the k rows
        and the bags (sums to the part)."""
        R, k, bags = self.reference, int(self.n_neighbors), int(self.n_bags)
        bag_rows = len(R) // bags
        offsets = (np.arange(bags) * bag_rows)[None, :, None]
        norms = (R * R).sum(axis=1)[None, :]
        out = np.empty_like(xs)
        block = np.zeros((DENSITY_BLOCK, xs.shape[1]))  # fixed-size products, as _density
        for start in range(0, len(xs), DENSITY_BLOCK):
            q = xs[start:start + DENSITY_BLOCK]
            block[:len(q)], block[len(q):] = q, 0.0
            d2 = (norms - 2.0 * (block @ R.T)[:len(q)]).reshape(len(q), bags, bag_rows)
            nearest = _k_smallest(d2, k) + offsets  # (m, bags, k)
            diff2 = (q[:, None, None, :] - R[nearest]) ** 2  # (m, bags, k, D)
            inverse = 1.0 / np.sqrt(np.maximum(diff2.sum(axis=3), 1e-300))
            out[start:start + len(q)] = np.einsum("mbkd,mbk->md", diff2, inverse) / (bags * k)
        return out

    def codes(self, xs: np.ndarray, member: int) -> np.ndarray:
        """Member ``member``'s latent codes of encoded rows ``xs``, shape (n, latent_dim)."""
        return self._codes(xs, only=member)[0]

    def _member_threads(self, member: Any, n_rows: int, single_thread: bool):
        if single_thread:
            return _threads.torch_threads(1)
        return _threads.torch_threads(_threads.inference_threads(
            member.module_, n_rows, conv=self.image_shape is not None,
            chunk_rows=member.inference_rows))

    def _step(self, member: Any, single_thread: bool) -> int:
        """Rows per forward pass: with one thread any size gives the same bits, and cache-
        sized passes are faster; otherwise the member's own (the split among threads
        depends on it)."""
        return min(FORWARD_ROWS, member.inference_rows) if single_thread else member.inference_rows

    def _codes(self, xs: np.ndarray, only: int | None = None) -> list[np.ndarray]:
        chosen = range(len(self.members)) if only is None else [only]
        x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float32))
        out = []
        with torch.inference_mode():
            for k in chosen:
                m = self.members[k]
                step = self._step(m, False)
                with self._member_threads(m, len(xs), False):
                    out.append(torch.cat([at_least_rows(m.encode_scaled, filled(x[i:i + step]))
                                      .flatten(1) for i in range(0, x.shape[0], step)])
                           .double().numpy())
        return out

    def _network_parts(self, xs: np.ndarray, views: tuple[str, ...] | None = None, *,
                       single_thread: bool = False) -> dict[str, np.ndarray]:
        """Each network view's (n_members, n) parts, from one encoder pass per chunk."""
        views = self.views if views is None else views
        n_rows, members = len(xs), self.members
        out: dict[str, np.ndarray] = {}
        if "elbo" in views:
            out["elbo"] = np.stack([m.negative_elbo(xs, n_samples=0) for m in members])
        errors = "reconstruction" in views or "mse" in views
        latent = "latent" in views
        if not (errors or latent):
            return out
        x = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float32))
        # checked once for the chunk, not in every block of every member
        complete = not np.isnan(xs).any()
        mse = np.empty((len(members), n_rows))
        # images score their smoothed residual; the plain MSE only when asked for
        view_mse = mse if self.smoother is None else np.empty((len(members), n_rows))
        plain = view_mse is mse or "mse" in views
        distances = np.empty((len(members), n_rows))
        with torch.inference_mode():
            for k, m in enumerate(members):
                codes = np.empty((n_rows, int(m.latent_dim))) if latent else None
                step = self._step(m, single_thread)
                with self._member_threads(m, n_rows, single_thread):
                    for i in range(0, n_rows, step):
                        chunk = x[i:i + step]
                        # missing cells: the centre in, no error out
                        seen = chunk if complete else filled(chunk)
                        z = at_least_rows(m.encode_scaled, seen)  # one encoder pass serves both
                        if errors:
                            recon = at_least_rows(m.decode_raw_scaled, z)
                            if plain:
                                mse[k, i:i + step] = \
                                    m.row_errors_scaled(recon, chunk, complete=complete) \
                                    .double().numpy()
                            if view_mse is not mse:
                                view_mse[k, i:i + step] = \
                                    self.view_errors(m, recon, chunk, complete=complete) \
                                    .double().numpy()
                        if latent:
                            codes[i:i + step] = z.flatten(1).double().numpy()
                if latent:
                    mean, precision = self.latent_stats[k]
                    distances[k] = mahalanobis(codes - mean, precision)
        if "mse" in views:
            out["mse"] = mse
        if "reconstruction" in views:
            # RMSE rather than MSE: a sum of squares has a long right tail, its square root
            # is close to Gaussian, which the mean + k*std and MAD thresholds assume
            out["reconstruction"] = np.sqrt(view_mse)
        if latent:
            out["latent"] = distances
        return out

    def _density(self, xs: np.ndarray) -> np.ndarray:
        """Mean Euclidean distance of each row to its ``n_neighbors`` nearest rows of each
        bag of reference rows, averaged over the bags.

        One product ``[q, 1] @ [-2 R^T; |r|^2]`` gives ``|r|^2 - 2 q.r``, which orders the
        reference rows as the squared distance does (``|q|^2`` is the same for the whole
        row, so it is added to the k nearest only). float64 throughout.
        """
        R = self.reference
        n_features = R.shape[1]
        affine = np.vstack([-2.0 * R.T, (R * R).sum(axis=1)[None, :]])  # (d + 1, n_ref)
        k, bags = int(self.n_neighbors), int(self.n_bags)
        X = np.asarray(xs, dtype=np.float64)
        out = np.empty(len(X), dtype=np.float64)
        block = np.ones((DENSITY_BLOCK, n_features + 1))
        for start in range(0, len(X), DENSITY_BLOCK):
            q = X[start:start + DENSITY_BLOCK]
            m = len(q)
            block[:m, :n_features] = q
            block[m:, :n_features] = 0.0
            products = (block @ affine).reshape(DENSITY_BLOCK, bags, len(R) // bags)
            nearest = np.sort(products, axis=2)[:m, :, :k]
            nearest += np.einsum("ij,ij->i", q, q)[:, None, None]
            out[start:start + m] = np.sqrt(np.maximum(nearest, 0.0)).mean(axis=2).mean(axis=1)
        return out

    # ---------------------------------------------------------------- export
    def torch_module(self) -> nn.Module:
        """The same score as an ``nn.Module`` on encoded float64 rows (for ONNX export);
        the networks compute in float32, everything else in float64."""
        if "elbo" in self.views:
            raise ValueError("the 'elbo' view samples nothing but is not exportable: use "
                             "scoring 'reconstruction', 'latent' or 'combined'.")
        if any(m.cell_layout_ is not None for m in self.members):
            raise ValueError("categorical heads are not exportable to ONNX yet")
        return _TorchScore(self)

    # ---------------------------------------------------------------- saving
    def state(self) -> dict[str, Any]:
        """Everything but the members and the reference rows, as JSON."""
        return {"views": list(self.views), "center": self.center.tolist(),
                "scale": self.scale.tolist(), "part_weights": self.part_weights.tolist(),
                "latent_stats": [[m.tolist(), p.tolist()] for m, p in self.latent_stats],
                "n_neighbors": self.n_neighbors,
                "image_shape": None if self.image_shape is None else list(self.image_shape),
                "smoothing": self.smoothing, "n_bags": self.n_bags,
                "typical_terms": (None if self.typical_terms is None
                                  else self.typical_terms.tolist())}

    def tensors(self) -> dict[str, Tensor]:
        return {} if self.reference is None else {"reference": torch.from_numpy(self.reference)}

    @classmethod
    def from_state(cls, state: dict[str, Any], members: list,
                   tensors: dict[str, Tensor]) -> Scorer:
        views = tuple(str(v) for v in state["views"])
        if not set(views) <= set(VIEWS):
            raise ValueError(f"unknown scoring views {views}")
        as_array = lambda v: np.asarray(v, dtype=np.float64)  # noqa: E731
        scorer = cls(members, views, as_array(state["center"]), as_array(state["scale"]),
                     as_array(state["part_weights"]),
                     [(as_array(m), as_array(p)) for m, p in state["latent_stats"]],
                     n_neighbors=state.get("n_neighbors"),
                     image_shape=(None if state.get("image_shape") is None
                                  else tuple(int(v) for v in state["image_shape"])),
                     smoothing=float(state.get("smoothing", 0.0)),
                     n_bags=int(state.get("n_bags", 1)),
                     typical_terms=(None if state.get("typical_terms") is None
                                    else as_array(state["typical_terms"])))
        if "density" in views:
            scorer.reference = np.ascontiguousarray(tensors["reference"].numpy(), dtype=np.float64)
        n_parts = len(scorer._weights())
        if not (len(scorer.center) == len(scorer.scale) == len(scorer.part_weights) == n_parts):
            raise ValueError("the calibration state does not match the scoring views")
        return scorer


def _k_smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest entries along the last axis, nearest first (ties: the
    first index; NaN last, as a sort puts it): ``k`` argmins, for small ``k`` faster than a
    partition of every row."""
    work = np.where(np.isnan(values), np.inf, values)
    picked = []
    for _ in range(k):
        index = work.argmin(axis=-1)[..., None]
        picked.append(index)
        np.put_along_axis(work, index, np.inf, axis=-1)
    return np.concatenate(picked, axis=-1)


def _member_terms(scorer: Scorer, member: Any, seen: np.ndarray, xs: np.ndarray,
                  latent_stats: tuple[np.ndarray, np.ndarray] | None,
                  step: int) -> dict[str, np.ndarray]:
    """One member's per-feature terms, (n, D) each: ``error``, its reconstruction part
    (RMSE) split by each cell's share of the error; ``latent``, its Mahalanobis distance
    split by gradient x input (``seen``: rows with missing cells at the centre)."""
    n, d = seen.shape
    error = np.zeros((n, d))
    latent = np.zeros((n, d)) if latent_stats is not None else None
    if latent_stats is not None:
        mean = torch.as_tensor(latent_stats[0], dtype=torch.float64)
        precision = torch.as_tensor(latent_stats[1], dtype=torch.float64)
    for i in range(0, n, step):
        rows = slice(i, i + step)
        x = torch.from_numpy(np.ascontiguousarray(seen[rows], dtype=np.float32))
        with torch.inference_mode():
            recon = at_least_rows(member.reconstruct_raw_scaled, x).double()
            cells = scorer.view_cell_errors(member, recon, torch.from_numpy(xs[rows])).numpy()
            rmse = np.sqrt(scorer.view_errors(member, recon, torch.from_numpy(xs[rows])).numpy())
        cells = np.where(np.isnan(cells), 0.0, cells)
        error[rows] = rmse[:, None] * error_shares(cells)
        if latent is not None:
            m = x.shape[0]  # padded like every forward pass, so no row depends on the others
            padded = torch.cat([x, x.new_zeros(max(MIN_INFERENCE_ROWS - m, 0), d)])
            with torch.enable_grad():
                padded.requires_grad_(True)
                u = member.encode_scaled(padded).flatten(1).double() - mean
                distance = ((u @ precision) * u).sum(dim=1).clamp(min=1e-300).sqrt()
                (grad,) = torch.autograd.grad(distance.sum(), padded)
            latent[rows] = (grad[:m].double() * x.double()).numpy()
    return {"error": error, "latent": latent}


class _TorchScore(nn.Module):
    """:meth:`Scorer.score` in torch: encoded float64 rows (B, D) -> scores (B,) float64."""

    def __init__(self, scorer: Scorer) -> None:
        super().__init__()
        self.views = scorer.views
        self.networks = nn.ModuleList(m.module_ for m in scorer.members)
        self._members = list(scorer.members)  # a list hides them from nn.Module's attributes
        for k, (mean, precision) in enumerate(scorer.latent_stats):
            self.register_buffer(f"mean{k}", torch.as_tensor(mean, dtype=torch.float64))
            self.register_buffer(f"precision{k}", torch.as_tensor(precision, dtype=torch.float64))
        if scorer.reference is not None:
            reference = torch.as_tensor(scorer.reference, dtype=torch.float64)
            self.register_buffer("reference", reference)
            self.register_buffer("reference_sq", (reference ** 2).sum(dim=1))
            self.k, self.n_bags = int(scorer.n_neighbors), int(scorer.n_bags)
        self.register_buffer("center", torch.as_tensor(scorer.center, dtype=torch.float64))
        self.register_buffer("spread", torch.as_tensor(scorer.scale, dtype=torch.float64))
        self.register_buffer("weights", torch.as_tensor(scorer.part_weights, dtype=torch.float64))
        self.smoother = scorer.smoother  # images: the residual smoothing of the score

    def forward(self, xs: Tensor) -> Tensor:  # (B, D) float64 -> (B,) float64
        observed = ~torch.isnan(xs)  # a missing cell: the centre in, no error out
        xs = torch.where(observed, xs, torch.zeros_like(xs))
        x = xs.float()
        n_observed = observed.sum(dim=1).clamp(min=1).float()
        parts = []
        codes = [m.encode_scaled(x) for m in self._members]
        if "reconstruction" in self.views and self.smoother is not None:
            parts += [self.smoother(m.decode_scaled(z) - x).pow(2).mean(dim=1).double().sqrt()
                      for m, z in zip(self._members, codes, strict=True)]
        elif "reconstruction" in self.views:
            parts += [(((m.decode_scaled(z) - x).pow(2) * observed).sum(dim=1) / n_observed)
                      .double().sqrt() for m, z in zip(self._members, codes, strict=True)]
        if "latent" in self.views:
            for k, z in enumerate(codes):
                centred = z.flatten(1).double() - getattr(self, f"mean{k}")
                precision = getattr(self, f"precision{k}")
                parts.append(((centred @ precision) * centred).sum(dim=1).clamp(min=0).sqrt())
        if "density" in self.views:
            d2 = (xs * xs).sum(dim=1, keepdim=True) + self.reference_sq[None, :] \
                - 2.0 * (xs @ self.reference.T)
            d2 = d2.reshape(d2.shape[0], self.n_bags, -1)
            nearest = torch.topk(d2, self.k, dim=2, largest=False).values
            parts.append(nearest.clamp(min=0).sqrt().mean(dim=2).mean(dim=1))
        raw = torch.stack(parts)  # (n_parts, B), the order of Scorer.parts
        return self.weights @ ((raw - self.center[:, None]) / self.spread[:, None])


__all__ = ["Scorer", "mahalanobis", "scoring_views"]
