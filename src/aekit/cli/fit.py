"""``aekit fit``: train an autoencoder (or an anomaly detector) on a data file and save it."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.choices import (
    ARCHITECTURES,
    DETECTOR_MODELS,
    LIKELIHOODS,
    LOSSES,
    MODELS,
    NOISES,
    SCALINGS,
)
from aekit.cli._common import (
    add_column_roles,
    add_detector_options,
    add_encoding,
    add_quiet,
    add_subparser,
    build_detector,
    column_roles,
    given,
    int_list,
    number_or_auto,
    print_schema,
)
from aekit.exceptions import ParameterError

# option destination -> parameter of every autoencoder, and of some kinds only
COMMON_OPTIONS = {"latent_dim": "latent_dim", "hidden": "hidden_dims",
                  "architecture": "architecture", "channels": "channels",
                  "scaling": "scaling", "epochs": "max_epochs", "batch_size": "batch_size",
                  "lr": "lr", "seed": "random_state", "device": "device"}
KIND_OPTIONS = {"ae": {"loss": "loss"}, "linear": {"loss": "loss"},
                "dae": {"loss": "loss", "noise": "noise", "noise_level": "noise_level"},
                "vae": {"likelihood": "likelihood", "beta": "beta"}}


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "fit", help="train a model on DATA and save it",
        description="Train an autoencoder on DATA (CSV/TSV, Parquet, .npy, .npz, an IDX file "
                    "such as MNIST's, or a folder of PNG/JPEG images) and save it to a model "
                    "directory (safetensors + JSON). Images (3-D/4-D arrays, IDX, folders) get "
                    "a convolutional network and no scaling by default. Options not given "
                    "take the library's defaults (see help(aekit.Autoencoder)).",
        example="aekit fit data.csv --model vae --latent-dim 4 --hidden 64,32 --epochs 100 "
                "--seed 0 --out model")
    p.add_argument("data", help="training data file")
    add_encoding(p)
    p.add_argument("--model", choices=MODELS, default="ae",
                   help="ae: MLP autoencoder; linear: linear (PCA-equivalent); dae: denoising; vae")
    p.add_argument("--latent-dim", type=int, default=None, help="bottleneck width")
    p.add_argument("--hidden", type=int_list, default=None, help="hidden widths, e.g. 64,32")
    p.add_argument("--batch-size", type=number_or_auto, default=None,
                   help="rows per batch, or 'auto'")
    p.add_argument("--lr", type=number_or_auto, default=None,
                   help="learning rate, or 'auto' (scaled with the batch size)")
    p.add_argument("--scaling", choices=("auto", *SCALINGS), default=None,
                   help="auto: none for images, standard for tables (robust for detectors)")
    p.add_argument("--architecture", choices=ARCHITECTURES, default=None,
                   help="auto: conv for images, mlp for tables")
    p.add_argument("--channels", type=int_list, default=None,
                   help="conv channels per stride-2 layer, e.g. 32,64")
    p.add_argument("--loss", choices=LOSSES, default=None,
                   help="ae/dae reconstruction loss; bce for [0, 1] data such as pixels")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default=None,
                   help="vae likelihood; bernoulli for [0, 1] data such as pixels")
    p.add_argument("--noise", choices=NOISES, default=None, help="corruption for --model dae")
    p.add_argument("--noise-level", type=float, default=None,
                   help="noise std or probability (dae)")
    p.add_argument("--beta", type=float, default=None, help="KL weight (vae)")
    p.add_argument("--labels", default=None, help="a labels column to exclude from the features")
    p.add_argument("--detector", nargs="?", const="ae", choices=DETECTOR_MODELS, default=None,
                   help="fit an anomaly detector (an ensemble of ae or vae) instead of one "
                        "model; its options are below")
    add_detector_options(p)
    add_column_roles(p)
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
    if args.detector or args.detector_model:
        if args.detector and not args.detector_model:
            args.detector_model = args.detector
        return build_detector(args)
    from aekit.estimators import VAE, Autoencoder, DenoisingAutoencoder

    params = given(args, {**COMMON_OPTIONS, **KIND_OPTIONS[args.model]})
    params["verbose"] = 0 if args.quiet else 1
    params["column_roles"] = column_roles(args)
    if args.model == "dae":
        return DenoisingAutoencoder(**params)
    if args.model == "vae":
        return VAE(**params)
    return Autoencoder(**params, linear=args.model == "linear")


def should_stream(data: str, requested: bool | None) -> bool:
    """``--stream``/``--no-stream`` as given; by default, stream Parquet directories and
    Parquet files that would not fit in memory once loaded."""
    from aekit.data.parquet_rows import too_large_for_memory
    from aekit.data.paths import is_parquet

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
    from aekit.training import distributed

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
    from aekit.data.io import read_data
    from aekit.data.parquet_rows import ParquetRows
    from aekit.training import distributed
    from aekit.training.checkpoint import Checkpoint

    checkpoint = None
    is_detector = bool(args.detector or args.detector_model)
    if args.checkpoint_every or args.resume:
        if is_detector:
            raise ParameterError("--checkpoint-every/--resume train one model; they are not "
                                 "supported with --detector (an ensemble) yet.")
        checkpoint = Checkpoint(checkpoint_path(args.out), every=args.checkpoint_every or 1,
                                resume=args.resume)
    estimator = build_estimator(args)
    if should_stream(args.data, args.stream):
        X = ParquetRows.open(args.data, exclude=[args.labels] if args.labels else ())
    else:
        X = read_data(args.data, labels=args.labels, encoding=args.encoding).X
    if checkpoint is not None:
        estimator.fit(X, checkpoint=checkpoint)
    else:
        estimator.fit(X)
    if not distributed.is_main_process():
        return 0  # rank 0 writes the model and reports
    if args.labels:  # so the same file scores as it is, its labels known
        from dataclasses import replace

        estimator.input_spec_ = replace(estimator.input_spec_, labels=args.labels)
    estimator.save(args.out)
    if checkpoint is not None and checkpoint.path.exists():
        import shutil

        shutil.rmtree(checkpoint.path)
    h = estimator.history_
    if not estimator.input_spec_.is_images:  # a table: what each column was read as
        print_schema(estimator)
    spec = estimator.input_spec_
    n_inputs = len(spec.feature_groups()[0])  # identifiers and text are no features
    features = f"{n_inputs} features"
    if spec.n_features != n_inputs:
        features += f" ({spec.n_features} encoded)"  # one-hot categories, calendar pairs
    if is_detector:
        print(f"fitted AnomalyDetector ({len(estimator.estimators_)} x {estimator.model}) on "
              f"{features} in {estimator.fit_seconds_:.1f}s; threshold "
              f"{estimator.threshold} = {estimator.threshold_:.4g}; saved to {args.out}")
        return 0
    shape = getattr(estimator, "image_shape_", None)
    what = (f"{estimator.n_train_samples_} images of shape {tuple(shape)}" if shape is not None
            else f"{estimator.n_train_samples_} rows x {features}")
    print(f"fitted {type(estimator).__name__} on {what} in {estimator.fit_seconds_:.1f}s "
          f"({h.n_epochs} epochs, best loss {h.best_loss:.4g}); saved to {args.out}")
    return 0
