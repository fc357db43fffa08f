"""``aekit sweep``: held-out MSE per bottleneck size, autoencoder vs PCA."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli._common import add_encoding, add_quiet, add_subparser, int_list


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "sweep", help="compare bottleneck sizes against PCA",
        description="For each latent size, fit a model on 75% of DATA and report the held-out "
                    "MSE of the model and of PCA with as many components (the best linear "
                    "code), and their ratio. With --model linear (trained from random "
                    "weights) it also reports the largest principal angle between the "
                    "decoder's span and PCA's subspace. --out DIR gets sweep.csv and sweep.png.",
        example="aekit sweep data.csv --latent-dims 1,2,3,5,10 --model ae --out sweep")
    p.add_argument("data", help="data file")
    add_encoding(p)
    p.add_argument("--latent-dims", type=int_list, default=(1, 2, 3, 5, 10), help="sizes to try")
    p.add_argument("--model", choices=("ae", "linear", "dae", "vae"), default="ae")
    p.add_argument("--labels", default=None, help="a labels column to exclude")
    p.add_argument("--epochs", type=int, default=200, help="maximum epochs per size")
    p.add_argument("--seed", type=int, default=0, help="random seed for the split and models")
    p.add_argument("--out", default=None, metavar="DIR", help="directory for sweep.csv and sweep.png")
    add_quiet(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aekit.data.io import read_data, write_table
    from aekit.sweep import bottleneck_sweep, plot_sweep

    data = read_data(args.data, labels=args.labels, encoding=args.encoding)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=False, exist_ok=True)

    def progress(k: int) -> None:
        if not args.quiet:
            print(f"aekit sweep: latent size {k}", flush=True)

    result = bottleneck_sweep(data.X, args.latent_dims, model=args.model, random_state=args.seed,
                              max_epochs=args.epochs, progress=progress)
    print(result.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if out is not None:
        write_table(out / "sweep.csv", result)
        from aekit.report.figures import save_figure

        ax = plot_sweep(result, model=args.model)
        save_figure(ax.figure, out / "sweep.png")
        print(f"wrote {out / 'sweep.csv'} and {out / 'sweep.png'}")
    return 0
