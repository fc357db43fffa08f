"""``aekit fit``: train an autoencoder on a data file and save it."""

from __future__ import annotations

import argparse

from pathlib import Path

from aekit.cli._common import add_quiet, add_subparser, int_list
from aekit.data.io import read_data
from aekit.data.parquet_rows import ParquetRows, is_parquet, too_large_for_memory
from aekit.cli.detect import THRESHOLDS
from aekit.estimators import VAE, AnomalyDetector, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import ParameterError
from aekit.training import distributed
from aekit.training.checkpoint import Checkpoint

MODELS = {"ae": Autoencoder, "linear": Autoencoder, "dae": DenoisingAutoencoder, "vae": VAE}


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "fit", help="train a model on DATA and save it",
        description="Train an autoencoder on DATA (CSV/TSV, Parquet, .npy, .npz, an IDX file "
                    "such as MNIST's, or a folder of PNG/JPEG images) and save it to a model "
                    "directory (safetensors + JSON). Images (3-D/4-D arrays, IDX, folders) get "
                    "a convolutional network and no scaling by default.",
        example="aekit fit data.csv --model vae --latent-dim 4 --hidden 64,32 --epochs 100 "
                "--seed 0 --out model")
    p.add_argument("data", help="training data file")
    p.add_argument("--model", choices=sorted(MODELS), default="ae",
                   help="ae: MLP autoencoder; linear: linear (PCA-equivalent); dae: denoising; vae")
    p.add_argument("--latent-dim", type=int, default=8, help="bottleneck width")
    p.add_argument("--hidden", type=int_list, default=(64, 32), help="hidden widths, e.g. 64,32")
    p.add_argument("--epochs", type=int, default=None,
                   help="maximum epochs, early stopping may end sooner (default: 200 for up to 3,000 "
                        "rows, 600,000 / rows for more, at least 3 (vae: 2,000,000 / rows, "
                        "10,000 and 5); 20 per member with --detector)")
    p.add_argument("--batch-size", default="auto", help="rows per batch, or 'auto'")
    p.add_argument("--lr", default="auto",
                   help="learning rate, or 'auto' (3e-3, scaled up with sqrt(batch/256) "
                        "for ae/dae batches of table rows above 256)")
    p.add_argument("--scaling", choices=("auto", "standard", "robust", "minmax", "none"),
                   default="auto", help="auto: none for images, standard for tables")
    p.add_argument("--architecture", choices=("auto", "mlp", "conv"), default="auto",
                   help="auto: conv for images, mlp for tables")
    p.add_argument("--channels", type=int_list, default=(32, 64),
                   help="conv channels per stride-2 layer, e.g. 32,64")
    p.add_argument("--loss", choices=("mse", "bce"), default="mse",
                   help="ae/dae reconstruction loss; bce for [0, 1] data such as pixels")
    p.add_argument("--likelihood", choices=("gaussian", "bernoulli"), default="gaussian",
                   help="vae likelihood; bernoulli for [0, 1] data such as pixels")
    p.add_argument("--noise", choices=("gaussian", "masking", "salt_pepper"), default="gaussian",
                   help="corruption for --model dae")
    p.add_argument("--noise-level", type=float, default=0.3, help="noise std or probability (dae)")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (vae)")
    p.add_argument("--labels", default=None, help="a labels column to exclude from the features")
    p.add_argument("--seed", type=int, default=None, help="random seed (bit-identical results on CPU)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--detector", nargs="?", const="ae", choices=("ae", "vae"), default=None,
                   help="fit an anomaly detector (ensemble of ae or vae) instead of one model")
    p.add_argument("--threshold", choices=THRESHOLDS, default="mad", help="detector threshold")
    p.add_argument("--contamination", type=float, default=0.1, help="for --threshold quantile")
    p.add_argument("--k", type=float, default=None, help="width for mean_std / mad thresholds")
    p.add_argument("--q", type=float, default=1e-3, help="risk level for --threshold pot")
    p.add_argument("--n-estimators", type=int, default=3, help="detector ensemble size")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model directory to write")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="save the training state to MODEL_DIR.checkpoint every N epochs "
                        "(0: never); removed once the model is saved")
    p.add_argument("--resume", action="store_true",
                   help="continue from MODEL_DIR.checkpoint after a crash; the result equals "
                        "an uninterrupted run (bit for bit on CPU)")
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="train from Parquet without loading it: row groups in random order, "
                        "rows shuffled in a buffer, statistics in one extra pass (default: on "
                        "for a directory of Parquet files or a Parquet file too large for "
                        "memory, off otherwise)")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train in N processes with DistributedDataParallel (runs torchrun "
                        "--standalone --nproc-per-node N); same global batch size")
    add_quiet(p)
    p.set_defaults(run=run)


def build_estimator(args: argparse.Namespace):
    if args.detector:
        return AnomalyDetector(model=args.detector, n_estimators=args.n_estimators,
                               threshold=args.threshold, contamination=args.contamination,
                               k=args.k, q=args.q, max_epochs=args.epochs or 20, random_state=args.seed,
                               verbose=0 if args.quiet else 1, device=args.device)
    batch = args.batch_size if args.batch_size == "auto" else _int(args.batch_size)
    common = dict(hidden_dims=args.hidden, architecture=args.architecture,
                  channels=args.channels, scaling=args.scaling, max_epochs=args.epochs or "auto",
                  batch_size=batch, lr=args.lr if args.lr == "auto" else _float(args.lr),
                  random_state=args.seed,
                  verbose=0 if args.quiet else 1, device=args.device)
    if args.model == "dae":
        return DenoisingAutoencoder(args.latent_dim, noise=args.noise, noise_level=args.noise_level,
                                    loss=args.loss, **common)
    if args.model == "vae":
        return VAE(args.latent_dim, beta=args.beta, likelihood=args.likelihood, **common)
    return Autoencoder(args.latent_dim, linear=args.model == "linear", loss=args.loss, **common)


def _float(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # the estimator's parameter check explains what is allowed


def _int(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # the estimator's parameter check explains what is allowed


def should_stream(data: str, requested: bool | None) -> bool:
    """``--stream``/``--no-stream`` as given; by default, stream Parquet directories and
    Parquet files that would not fit in memory once loaded."""
    path = Path(data)
    if requested is not None:
        if requested and not is_parquet(path):
            raise ParameterError(f"--stream trains from Parquet (a file or a directory of "
                                 f"files); {data} is not Parquet. Convert it, or drop --stream.")
        return requested
    return is_parquet(path) and (path.is_dir() or too_large_for_memory(path))


def checkpoint_path(out: str) -> Path:
    out_path = Path(out)
    return out_path.with_name(out_path.name + ".checkpoint")


def _without_nproc(argv: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept


def run(args: argparse.Namespace) -> int:
    if args.nproc < 1:
        raise ParameterError(f"--nproc must be >= 1. Got {args.nproc} instead.")
    if (args.nproc > 1 or distributed.launched_by_torchrun()) and args.seed is None:
        # Each rank draws the validation split and the shuffles itself; they agree only
        # when they share the seed.
        raise ParameterError("training in several processes needs --seed (any int), so "
                             "that every process draws the same split and shuffles.")
    if args.nproc > 1 and not distributed.launched_by_torchrun():
        return distributed.launch(args.nproc, _without_nproc(args.argv))
    with distributed.process_group():
        return _fit(args)


def _fit(args: argparse.Namespace) -> int:
    checkpoint = None
    if args.checkpoint_every or args.resume:
        if args.detector:
            raise ParameterError("--checkpoint-every/--resume train one model; they are not "
                                 "supported with --detector (an ensemble) yet.")
        checkpoint = Checkpoint(checkpoint_path(args.out), every=args.checkpoint_every or 1,
                                resume=args.resume)
    estimator = build_estimator(args)
    if should_stream(args.data, args.stream):
        X = ParquetRows.open(args.data, exclude=[args.labels] if args.labels else ())
    else:
        X = read_data(args.data, labels=args.labels).X
    if checkpoint is not None:
        estimator.fit(X, checkpoint=checkpoint)
    else:
        estimator.fit(X)
    if not distributed.is_main_process():
        return 0  # rank 0 writes the model and reports
    estimator.save(args.out)
    if checkpoint is not None and checkpoint.path.exists():
        import shutil

        shutil.rmtree(checkpoint.path)
    h = estimator.history_
    if args.detector:
        print(f"fitted AnomalyDetector ({len(estimator.estimators_)} x {args.detector}) on "
              f"{estimator.n_features_in_} features in {estimator.fit_seconds_:.1f}s; threshold "
              f"{args.threshold} = {estimator.threshold_:.4g}; saved to {args.out}")
        return 0
    shape = getattr(estimator, "image_shape_", None)
    what = (f"{estimator.n_train_samples_} images of shape {tuple(shape)}" if shape is not None
            else f"{estimator.n_train_samples_} rows x {estimator.n_features_in_} features")
    print(f"fitted {type(estimator).__name__} on {what} in {estimator.fit_seconds_:.1f}s "
          f"({h.n_epochs} epochs, best loss {h.best_loss:.4g}); saved to {args.out}")
    return 0
