"""The tutorial's story on built-in data, with a baseline for every number.

1. compress scikit-learn's digits (1,797 8x8 images) to 8 numbers and compare with PCA;
2. sweep the bottleneck size against PCA's bound;
3. denoise noisy digits;
4. detect malignant breast-cancer tumours, subsampled to a few percent, as anomalies among
   benign ones, with ROC-AUC and average precision next to an IsolationForest;
5. sample new digits from a VAE and interpolate between digits in its latent space.

Both data sets ship with scikit-learn, so the demo runs offline wherever aekit is installed.
:func:`run_demo` computes; :func:`demo_report` turns its result into an HTML report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.model_selection import train_test_split

from aekit.anomaly.metrics import detection_metrics
from aekit.estimators import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder
from aekit.latent import interpolate
from aekit.sweep import bottleneck_sweep

logger = logging.getLogger(__name__)

N_STEPS = 5


@dataclass
class DemoRow:
    step: str
    aekit: str
    baseline: str
    note: str = ""


@dataclass
class DemoResult:
    rows: list[DemoRow] = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False
    artifacts: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        headers = ("step", "aekit", "baseline", "note")
        cells = [headers] + [(r.step, r.aekit, r.baseline, r.note) for r in self.rows]
        widths = [max(len(str(c[i])) for c in cells) for i in range(4)]
        lines = ["  ".join(str(c[i]).ljust(widths[i]) for i in range(4)).rstrip() for c in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def anomaly_split(random_state: int = 0, *, train_share: float = 0.02, test_anomalies: int = 20):
    """Breast-cancer rows as an anomaly-detection task: benign normal, malignant rare.

    Benign tumours are split 70/30. The training part gets malignant rows making up
    ``train_share`` of it (detectors train on unlabelled, slightly contaminated data); the
    test part gets ``test_anomalies`` other malignant rows. Returns X_train, X_test
    (DataFrames with the data set's feature names) and y_test (1 = malignant).
    """
    data = load_breast_cancer(as_frame=True)
    X, malignant = data.data, (data.target.to_numpy() == 0)  # scikit-learn: 0 = malignant
    rng = np.random.default_rng(random_state)
    benign_rows = rng.permutation(np.flatnonzero(~malignant))
    malignant_rows = rng.permutation(np.flatnonzero(malignant))
    n_train = int(round(0.7 * len(benign_rows)))
    n_contaminate = max(1, int(round(train_share * n_train / (1 - train_share))))
    train = np.concatenate([benign_rows[:n_train], malignant_rows[:n_contaminate]])
    test = np.concatenate([benign_rows[n_train:],
                           malignant_rows[n_contaminate:n_contaminate + test_anomalies]])
    train, test = np.sort(train), np.sort(test)
    X_test = X.iloc[test].reset_index(drop=True)
    return X.iloc[train].reset_index(drop=True), X_test, malignant[test].astype(np.int64)


def run_demo(*, quick: bool = False, random_state: int = 0, verbose: int = 1,
             progress=None) -> DemoResult:
    """Run every step; return the table rows, and data and fitted models in ``artifacts``."""
    started = time.perf_counter()
    say = progress or (lambda msg: None)
    epochs = 8 if quick else 300  # early stopping ends most fits well before 300
    result = DemoResult(quick=quick)
    art = result.artifacts
    digits = load_digits()
    X = digits.data / 16.0  # pixels in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=random_state, stratify=digits.target)
    art.update(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)

    # 1. Compression: an MLP autoencoder against PCA at the same latent size.
    latent = 8
    say(f"1/{N_STEPS} compressing digits to {latent} numbers (autoencoder vs PCA)")
    ae = Autoencoder(latent, hidden_dims=(128, 64), scaling="none", max_epochs=epochs,
                     random_state=random_state, verbose=verbose).fit(X_train)
    pca = PCA(latent, random_state=random_state).fit(X_train)
    ae_mse = _mse(ae.reconstruct(X_test), X_test)
    pca_mse = _mse(pca.inverse_transform(pca.transform(X_test)), X_test)
    result.rows.append(DemoRow(f"compress 64->{latent} (held-out MSE)", f"{ae_mse:.4f}",
                               f"PCA {pca_mse:.4f}", f"AE/PCA = {ae_mse / pca_mse:.2f}"))
    art.update(ae=ae, pca=pca)

    # 2. How the gain over PCA depends on the bottleneck size.
    dims = (2, 8) if quick else (2, 4, 8, 16)
    say(f"2/{N_STEPS} sweeping the bottleneck over sizes {dims} (autoencoder vs PCA)")
    sweep = bottleneck_sweep(X, dims, model="ae", random_state=random_state,
                             max_epochs=epochs, verbose=0,
                             progress=lambda k: say(f"    latent size {k}"))
    wins = int((sweep["ratio"] < 1).sum())
    result.rows.append(DemoRow(
        f"sweep latent {dims[0]}..{dims[-1]} (AE/PCA MSE)",
        f"{sweep['ratio'].min():.2f}..{sweep['ratio'].max():.2f}", "PCA = 1.00",
        f"AE better at {wins}/{len(dims)} sizes"))
    art.update(sweep=sweep)

    # 3. Denoising: train on clean images with corruption, clean noisy held-out images.
    sigma = 0.3
    say(f"3/{N_STEPS} denoising digits with Gaussian noise sigma={sigma}")
    rng = np.random.default_rng(random_state)
    X_noisy = X_test + sigma * rng.normal(size=X_test.shape)
    # Random initial weights: started at PCA, early stopping never left the PCA solution
    # here (the denoising objective's first steps raise the validation loss).
    dae = DenoisingAutoencoder(16, noise="gaussian", noise_level=sigma, hidden_dims=(128, 64),
                               init="random", scaling="none", max_epochs=epochs,
                               random_state=random_state, verbose=verbose).fit(X_train)
    denoised = np.clip(dae.reconstruct(X_noisy), 0, 1)
    pca16 = PCA(16, random_state=random_state).fit(X_train)
    pca_denoised = np.clip(pca16.inverse_transform(pca16.transform(X_noisy)), 0, 1)
    noisy_mse, dae_mse, pca_dn = (_mse(X_noisy, X_test), _mse(denoised, X_test),
                                  _mse(pca_denoised, X_test))
    gain = 10 * np.log10(noisy_mse / dae_mse)
    result.rows.append(DemoRow(f"denoise sigma={sigma} (MSE to clean)", f"{dae_mse:.4f}",
                               f"noisy {noisy_mse:.4f} / PCA {pca_dn:.4f}",
                               f"gain {gain:+.1f} dB"))
    art.update(dae=dae, X_noisy=X_noisy, denoised=denoised, pca_denoised=pca_denoised)

    # 4. Anomalies: rare malignant tumours among benign ones, scored without labels.
    say(f"4/{N_STEPS} detecting malignant tumours as anomalies (breast-cancer data)")
    A_train, A_test, a_test = anomaly_split(random_state)
    detector = AnomalyDetector(n_estimators=2 if quick else 5, max_epochs=epochs,
                               random_state=random_state, verbose=verbose).fit(A_train)
    scores = detector.anomaly_score(A_test)
    flags = (scores > detector.threshold_).astype(np.int64)
    metrics = detection_metrics(a_test, scores, flags)
    forest = IsolationForest(random_state=random_state).fit(A_train)
    forest_metrics = detection_metrics(a_test, -forest.score_samples(A_test))
    result.rows.append(DemoRow(
        f"detect {int(a_test.sum())} malignant in {len(a_test)} (ROC-AUC / AP)",
        f"{metrics['roc_auc']:.3f} / {metrics['average_precision']:.3f}",
        f"IsolationForest {forest_metrics['roc_auc']:.3f} / "
        f"{forest_metrics['average_precision']:.3f}",
        f"flagged {int(flags.sum())}: precision {metrics['precision']:.2f}, "
        f"recall {metrics['recall']:.2f}"))
    art.update(detector=detector, A_train=A_train, A_test=A_test, a_test=a_test,
               scores=scores, metrics=metrics, forest_metrics=forest_metrics)

    # 5. Generation: a Bernoulli VAE on pixels; held-out negative ELBO in nats per image.
    # (128, 64) hidden units keep each step small enough for the one-thread fast path.
    say(f"5/{N_STEPS} training a VAE (Bernoulli pixels), sampling and interpolating")
    vae = VAE(latent, likelihood="bernoulli", scaling="none", hidden_dims=(128, 64),
              max_epochs=epochs, random_state=random_state, verbose=verbose).fit(X_train)
    nelbo = float(np.mean(vae.negative_elbo(X_test, n_samples=1, random_state=random_state)))
    result.rows.append(DemoRow("VAE held-out -ELBO (nats/image)", f"{nelbo:.1f}",
                               f"{64 * np.log(2):.1f} (uniform pixels)",
                               f"{vae.active_units_}/{latent} active latent dims"))
    # Interpolate between test digits of different classes: 0->6, 1->7, 3->8, 4->9.
    first = {d: int(np.flatnonzero(y_test == d)[0]) for d in range(10)}
    strips = [interpolate(vae, X_test[first[a]], X_test[first[b]], steps=10)[1]
              for a, b in ((0, 6), (1, 7), (3, 8), (4, 9))]
    art.update(vae=vae, samples=np.clip(vae.sample(32, random_state=random_state), 0, 1),
               interpolations=np.clip(np.concatenate(strips), 0, 1))
    result.seconds = time.perf_counter() - started
    return result


def demo_report(result: DemoResult):
    """The demo's story as a :class:`~aekit.report.html.Report`, one section per step."""
    from matplotlib.figure import Figure

    from aekit.report import plots
    from aekit.report.html import Report, figure_html, table_html, text_html
    from aekit.report.sections import (
        latent_section,
        model_card_section,
        roc_pr_section,
        scores_section,
        sweep_section,
        top_rows_section,
    )

    art = result.artifacts
    X_test, y_test = art["X_test"], art["y_test"]
    report = Report("aekit demo", "Autoencoders against their baselines on scikit-learn's "
                    "digits and breast-cancer data" + (" (quick run: few epochs)"
                                                       if result.quick else ""))
    report.add("Summary", table_html([(r.step, r.aekit, r.baseline, r.note)
                                      for r in result.rows],
                                     ("step", "aekit", "baseline", "note")),
               text_html(f"All numbers are measured on held-out rows. Run time "
                         f"{result.seconds:.0f} s.", cls="note"))

    def image_strip(rows: list[np.ndarray], nrow: int, alt: str, caption: str,
                    height: float) -> str:
        fig = Figure(figsize=(9, height), layout="constrained")
        plots.plot_image_grid(np.concatenate(rows).reshape(-1, 8, 8), fig.subplots(),
                              nrow=nrow)
        return figure_html(fig, alt=alt, caption=caption)

    # 1. Compression.
    show = np.array([int(np.flatnonzero(y_test == d)[0]) for d in range(10)])
    pca = art["pca"]
    section = report.add("Compression vs PCA", image_strip(
        [X_test[show], np.clip(art["ae"].reconstruct(X_test[show]), 0, 1),
         np.clip(pca.inverse_transform(pca.transform(X_test[show])), 0, 1)], 10,
        "digits, autoencoder and PCA reconstructions",
        "Top: held-out digits; middle: the autoencoder's reconstruction from 8 numbers; "
        "bottom: PCA's from 8 components.", 3.0))
    fig = Figure(figsize=(12, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, key, name in zip(axes, ("ae", "dae", "vae"), ("autoencoder", "denoising", "VAE")):
        plots.plot_loss(art[key].history_, ax, title=name)
    section.parts.append(figure_html(fig, alt="loss curves", caption=(
        "Training (solid) and validation (dashed) loss of the three digit models; the dot "
        "marks the epoch whose weights early stopping kept.")))
    latent_section(report, art["ae"].transform(X_test), color=y_test, color_label="digit",
                   title="Latent space of the autoencoder")

    # 2. Sweep.
    sweep_section(report, art["sweep"])

    # 3. Denoising.
    report.add("Denoising", image_strip(
        [X_test[show], np.clip(art["X_noisy"][show], 0, 1), art["denoised"][show],
         art["pca_denoised"][show]], 10, "clean, noisy, denoised and PCA-denoised digits",
        "Rows: clean digits; with Gaussian noise (sigma 0.3); denoised by the autoencoder; "
        "projected on 16 PCA components.", 3.9))

    # 4. Anomalies.
    detector, A_test, a_test, scores = (art["detector"], art["A_test"], art["a_test"],
                                        art["scores"])
    scores_section(report, scores, threshold=detector.threshold_, name="anomaly score",
                   labels=a_test, title="Anomaly detection: scores")
    roc_pr_section(report, a_test, scores, title="Anomaly detection: ROC and precision-recall")
    top_rows_section(report, detector, A_test, scores, labels=a_test,
                     title="Anomaly detection: top anomalies")
    model_card_section(report, detector, A_test, source="breast cancer (test rows)",
                       title="Anomaly detector: model card")

    # 5. VAE.
    report.add("VAE: samples and interpolations",
               image_strip([art["samples"]], 16, "samples from the VAE",
                           "32 digits decoded from random draws of the prior N(0, I).", 2.2),
               image_strip([art["interpolations"]], 10, "latent interpolation strips",
                           "Straight lines in latent space between held-out digits: "
                           "0 to 6, 1 to 7, 3 to 8, 4 to 9.", 3.9))
    return report

