"""``aekit export``: write a saved model as ONNX graphs (score, encoder, decoder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from aekit.cli._common import (
    QUIET_WRITES,
    add_quiet,
    add_subparser,
    say,
)
from aekit.exceptions import AekitError

PART_CHOICES = ("all", "score", "encoder", "decoder")


def add_parser(subparsers) -> None:
    p = add_subparser(
        subparsers, "export", help="export a saved model to ONNX",
        description="Write ONNX graphs of a saved model, each taking raw rows in the training "
                    "data's units: OUT is the scoring graph (preprocessing -> reconstruction "
                    "-> per-row error; a detector's full anomaly score), and for autoencoders "
                    "OUT's stem + .encoder.onnx and .decoder.onnx. Needs the 'onnx' extra.",
        example="aekit export model --out model.onnx")
    p.add_argument("model", help="model directory")
    p.add_argument("--out", required=True, metavar="ONNX", help="output .onnx file")
    p.add_argument("--part", choices=PART_CHOICES, default="all",
                   help="which graph to write; 'all': score, plus encoder and decoder "
                        "for autoencoders")
    add_quiet(p, QUIET_WRITES)
    p.set_defaults(run=run)


def part_paths(out: str, part: str, is_detector: bool) -> dict[str, Path]:
    out_path = Path(out)
    if part != "all":
        return {part: out_path}
    paths = {"score": out_path}
    if not is_detector:
        stem = out_path.with_suffix("")
        paths["encoder"] = stem.with_name(stem.name + ".encoder.onnx")
        paths["decoder"] = stem.with_name(stem.name + ".decoder.onnx")
    return paths


def run(args: argparse.Namespace) -> int:
    from aekit.persistence import load

    try:
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except ImportError:
        raise AekitError("ONNX export needs the onnx package: pip install 'aekit[onnx]'.") from None
    from aekit.export import to_onnx

    estimator = load(args.model)
    for part, path in part_paths(args.out, args.part, hasattr(estimator, "estimators_")).items():
        to_onnx(estimator, path, part=part)
        say(args, f"wrote {part} graph to {path}")
    return 0
