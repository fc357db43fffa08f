"""``aekit info``: what a saved model is, what it expects, and how training went."""

from __future__ import annotations

import argparse

from aekit.cli._common import add_subparser


def add_parser(subparsers) -> None:
    p = add_subparser(subparsers, "info", help="describe a saved model",
                      description="Print a saved model's class, parameters, input schema and "
                                  "final losses.",
                      example="aekit info model")
    p.add_argument("model", help="model directory")
    p.set_defaults(run=run)


def describe(path: str) -> str:
    from aekit.persistence import load, read_config

    config = read_config(path)
    estimator = load(path)
    h = estimator.history_
    lines = [f"{config['class']} (aekit {config['aekit_version']}, format {config['format_version']})",
             "parameters:"]
    lines += [f"  {k} = {v!r}" for k, v in sorted(config["params"].items())]
    names = getattr(estimator, "feature_names_in_", None)
    schema = ", ".join(map(str, names[:12])) + (" ..." if names is not None and len(names) > 12 else "") \
        if names is not None else "(unnamed columns)"
    shape = getattr(estimator, "image_shape_", None)
    if shape is not None:
        schema = f"images of shape {tuple(shape)}"
    if estimator.input_spec_.columns is not None:
        lines += ["columns:"] + [f"  {line}" for line in estimator.input_spec_.describe()]
        schema = f"{len(estimator.input_spec_.feature_names)} columns, encoded"
    lines += [f"input: {estimator.n_features_in_} features: {schema}",
              f"scaling: {estimator.scaler_.kind}",
              f"trained on {estimator.n_train_samples_} rows in {estimator.fit_seconds_:.1f}s, "
              f"{h.n_epochs} epochs (best {h.best_epoch + 1}{', stopped early' if h.stopped_early else ''})"
              + (f", learning rate {h.lr[0]:.3g} at the start" if h.lr else "")]
    if h.train_loss:
        lines.append(f"final train loss: {h.train_loss[-1]:.6g}")
    if h.val_loss:
        lines.append(f"best validation loss: {min(h.val_loss):.6g}")
    if hasattr(estimator, "kl_per_dim_"):
        lines.append(f"KL per latent dim (nats): {[round(float(v), 3) for v in estimator.kl_per_dim_]}; "
                     f"active units: {estimator.active_units_}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    print(describe(args.model))
    return 0
