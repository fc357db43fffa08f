"""Images benchmark on MNIST: conv AE vs MLP AE vs PCA, denoising, and VAE vs pythae.

Data: ../shared/datasets/mnist/t10k-images-idx3-ubyte.gz (the 10,000 MNIST test images);
train on the first 8,000, report on the last 2,000. Pixels in [0, 1].

(a) Held-out reconstruction MSE per pixel at latent 2, 8, 32: aekit conv Autoencoder,
    aekit MLP Autoencoder (hidden 256, 128; PCA-initialised), sklearn PCA.
(b) Denoising PSNR (dB, mean over images, peak 1) at Gaussian sigma=0.3 (noisy images
    clipped to [0, 1]) and at 50% masking (pixels set to 0): the noisy input, aekit's
    conv DenoisingAutoencoder (latent 64) trained with that corruption, and a PCA-projection denoiser
    (PCA fitted on clean training images, k chosen on noisy training images held out from
    the PCA fit).
(c) Conv VAE with Bernoulli likelihood, latent 16: held-out negative ELBO (nats per image,
    10 posterior samples, the same evaluation code for both) and training seconds, aekit vs
    pythae's VAE with the *same* encoder/decoder (our conv layers wrapped in pythae's
    BaseEncoder/BaseDecoder) and the same number of epochs; pythae at its default trainer
    settings (lr 1e-4, batch 64) and with aekit's (lr 3e-3, batch 128).

Everything runs in this one process on one CPU thread (torch.set_num_threads(1)): the CI
machine is shared, and two threads on two busy cores made conv steps ~25x slower for
every library alike. Ratios are measured side by side; absolute seconds vary run to run.

    .venv/bin/python benchmarks/images.py            # ~5 minutes on the 2-core CI machine
    .venv/bin/python benchmarks/images.py --quick    # fewer epochs, a smoke test
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA

from aekit import VAE, Autoencoder, DenoisingAutoencoder
from aekit.data.images import read_idx

HERE = Path(__file__).resolve().parent
MNIST = Path(os.environ.get("AEKIT_DATASETS", HERE.parent.parent / "shared" / "datasets")) \
    / "mnist" / "t10k-images-idx3-ubyte.gz"


def load() -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(MNIST).astype(np.float32) / 255.0  # (10000, 28, 28)
    return X[:8000], X[8000:]


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def psnr(clean: np.ndarray, other: np.ndarray) -> float:
    """Mean over images of 10 log10(1 / MSE), pixels in [0, 1]."""
    err = ((np.asarray(other, np.float64) - clean) ** 2).reshape(len(clean), -1).mean(axis=1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(err, 1e-10))))


def pca_recon(pca: PCA, X: np.ndarray, k: int | None = None) -> np.ndarray:
    flat = X.reshape(len(X), -1)
    comps = pca.components_[:k] if k else pca.components_
    return (((flat - pca.mean_) @ comps.T) @ comps + pca.mean_).reshape(X.shape)


# --------------------------------------------------------------------------- (a)
def bench_compression(train, test, epochs, latents=(2, 8, 32)):
    rows = []
    for latent in latents:
        started = time.perf_counter()
        pca = PCA(latent, random_state=0).fit(train.reshape(len(train), -1))
        pca_s = time.perf_counter() - started
        conv = Autoencoder(latent, max_epochs=epochs, random_state=0).fit(train)
        mlp = Autoencoder(latent, architecture="mlp", hidden_dims=(256, 128),
                          max_epochs=3 * epochs, random_state=0).fit(train)
        rows.append(dict(latent=latent, pca=mse(pca_recon(pca, test), test),
                         conv=mse(conv.reconstruct(test), test), mlp=mse(mlp.reconstruct(test), test),
                         pca_s=pca_s, conv_s=conv.fit_seconds_, mlp_s=mlp.fit_seconds_,
                         conv_epochs=conv.history_.n_epochs, mlp_epochs=mlp.history_.n_epochs))
        print(rows[-1], flush=True)
    return rows


# --------------------------------------------------------------------------- (b)
def corrupt(X: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "gaussian":
        return np.clip(X + 0.3 * rng.standard_normal(X.shape, dtype=np.float32), 0, 1)
    return np.where(rng.random(X.shape) < 0.5, 0.0, X).astype(np.float32)


def bench_denoising(train, test, epochs, latent=64):
    rows = []
    rng = np.random.default_rng(0)
    for kind, level in (("gaussian", 0.3), ("masking", 0.5)):
        noisy_test = corrupt(test, kind, rng)
        # PCA denoiser: fit on clean images 0..6999, pick k on noisy images 7000..7999.
        pca = PCA(256, random_state=0).fit(train[:7000].reshape(7000, -1))
        noisy_val = corrupt(train[7000:], kind, rng)
        ks = (4, 8, 16, 32, 48, 64, 96, 128, 256)
        k = min(ks, key=lambda k: mse(np.clip(pca_recon(pca, noisy_val, k), 0, 1), train[7000:]))
        pca_out = np.clip(pca_recon(pca, noisy_test, k), 0, 1)
        dae = DenoisingAutoencoder(latent, noise=kind, noise_level=level, max_epochs=epochs,
                                   random_state=0).fit(train)
        rows.append(dict(noise=f"{kind} {level}", noisy=psnr(test, noisy_test),
                         dae=psnr(test, dae.reconstruct(noisy_test)),
                         pca=psnr(test, pca_out), pca_k=k, dae_s=dae.fit_seconds_))
        print(rows[-1], flush=True)
    return rows


# --------------------------------------------------------------------------- (c)
@torch.inference_mode()
def negative_elbo(encode, decode_logits, X: np.ndarray, n_samples: int = 10, seed: int = 0) -> float:
    """Mean over images of -ELBO (nats), Bernoulli likelihood, ``n_samples`` draws of z."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(X.reshape(len(X), 1, *X.shape[1:]))
    mu, logvar = encode(x)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)
    nll = torch.zeros(len(X))
    for _ in range(n_samples):
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
        logits = decode_logits(z).reshape(len(X), -1)
        nll += F.binary_cross_entropy_with_logits(logits, x.reshape(len(X), -1),
                                                  reduction="none").sum(dim=1)
    return float((nll / n_samples + kl).mean())


def run_pythae(train, latent, epochs, lr, batch_size, seed=0):
    from pythae.models import VAE as PythaeVAE
    from pythae.models import VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    from aekit.nn.conv import ConvVAE

    torch.manual_seed(seed)
    same = ConvVAE((1, 28, 28), latent, (32, 64), "relu", likelihood="bernoulli")

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.trunk, self.mu_head, self.logvar_head = same.trunk, same.mu_head, same.logvar_head

        def forward(self, x):
            h = self.trunk(x)
            return ModelOutput(embedding=self.mu_head(h), log_covariance=self.logvar_head(h))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = same.decoder  # logits, (B, 784)

        def forward(self, z):
            return ModelOutput(reconstruction=torch.sigmoid(self.net(z)).reshape(-1, 1, 28, 28))

    model = PythaeVAE(VAEConfig(input_dim=(1, 28, 28), latent_dim=latent,
                                reconstruction_loss="bce"),
                      encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(output_dir=out, num_epochs=epochs, learning_rate=lr,
                                   per_device_train_batch_size=batch_size, no_cuda=True, seed=seed)
        started = time.perf_counter()
        TrainingPipeline(model=model, training_config=config)(train_data=train[:, None])
        seconds = time.perf_counter() - started
    model.eval()
    return model, seconds


def bench_vae(train, test, epochs, latent=16):
    rows = []
    for n_epochs in (epochs, epochs // 2):
        vae = VAE(latent, likelihood="bernoulli", max_epochs=n_epochs, random_state=0).fit(train)
        m = vae.module_
        ours = negative_elbo(lambda x, m=m: m.encode(x), m.decoder, test)
        check = float(vae.negative_elbo(test, n_samples=10).mean())  # the library's own estimate
        rows.append(dict(method=f"aekit VAE, {n_epochs} epochs (defaults: lr 3e-3, batch "
                                "auto = 128, 10% held out for early stopping)",
                         neg_elbo=ours, library_estimate=check, seconds=vae.fit_seconds_,
                         epochs=vae.history_.n_epochs))
        print(rows[-1], flush=True)
    logging.getLogger("pythae").setLevel(logging.WARNING)
    for label, lr, batch in ((f"pythae VAE, {epochs} epochs, its defaults (lr 1e-4, batch 64)",
                              1e-4, 64),
                             (f"pythae VAE, {epochs} epochs, aekit's lr 3e-3 and batch 128",
                              3e-3, 128)):
        model, seconds = run_pythae(train, latent, epochs, lr, batch)
        enc = model.encoder

        def encode(x, enc=enc):
            out = enc(x)
            return out.embedding, out.log_covariance

        rows.append(dict(method=label, neg_elbo=negative_elbo(encode, model.decoder.net, test),
                         seconds=seconds, epochs=epochs))
        print(rows[-1], flush=True)
    return rows


def markdown(comp, den, vae, total_s, command) -> str:
    out = [f"Command: `{command}` (total {total_s / 60:.1f} min, one process, one CPU thread).", "",
           "**(a) Held-out MSE per pixel (2,000 images), lower is better**", "",
           "| latent | PCA | aekit MLP AE | aekit conv AE | conv / PCA | conv fit s (epochs) |",
           "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in comp:
        out.append(f"| {r['latent']} | {r['pca']:.4f} | {r['mlp']:.4f} | {r['conv']:.4f} | "
                   f"{r['conv'] / r['pca']:.2f} | {r['conv_s']:.0f} ({r['conv_epochs']}) |")
    out += ["", "**(b) Denoising PSNR (dB, mean over 2,000 held-out images), higher is better**", "",
            "| corruption | noisy input | PCA projection (k) | aekit conv DAE | DAE - noisy | DAE - PCA |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in den:
        out.append(f"| {r['noise']} | {r['noisy']:.2f} | {r['pca']:.2f} ({r['pca_k']}) | "
                   f"{r['dae']:.2f} | {r['dae'] - r['noisy']:+.2f} | {r['dae'] - r['pca']:+.2f} |")
    out += ["", "**(c) Conv VAE, Bernoulli, latent 16: held-out negative ELBO (nats/image, lower is "
            "better) and training time**", "",
            "| method | -ELBO | train s | time vs aekit |", "| --- | ---: | ---: | ---: |"]
    base = vae[0]["seconds"]
    for r in vae:
        out.append(f"| {r['method']} | {r['neg_elbo']:.1f} | {r['seconds']:.0f} | "
                   f"{r['seconds'] / base:.2f}x |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs everywhere")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=str(HERE / "results" / "images.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    epochs = 2 if args.quick else args.epochs
    train, test = load()
    started = time.perf_counter()
    comp = bench_compression(train, test, epochs)
    den = bench_denoising(train, test, epochs)
    vae = bench_vae(train, test, epochs)
    command = ".venv/bin/python benchmarks/images.py" + (" --quick" if args.quick else "") + \
        (f" --epochs {args.epochs}" if args.epochs != 10 else "")
    text = markdown(comp, den, vae, time.perf_counter() - started, command)
    Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
