"""Layers import downward only, and importing a layer loads only what it needs.

nn <- training <- estimators <- streaming / persistence / export / report <- cli, with data
and anomaly below the estimators. Each case imports modules in a fresh interpreter and
lists what got loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

DATA = ["aekit.data.paths", "aekit.data.validation", "aekit.data.preprocessing",
        "aekit.data.chunks", "aekit.data.parquet_rows", "aekit.data.schema", "aekit.data.io",
        "aekit.data.images", "aekit.data.corruption"]
TRAINING = ["aekit.training", "aekit.training.loop", "aekit.training.batches",
            "aekit.training.checkpoint", "aekit.training.distributed", "aekit.training.losses"]
ABOVE_ESTIMATORS = ["aekit.streaming", "aekit.persistence", "aekit.export", "aekit.report",
                    "aekit.cli", "aekit.demo", "aekit.sweep", "aekit.grids", "aekit.latent"]

CASES = {
    # what is imported: (modules, prefixes that must not be loaded)
    "aekit": (["aekit"], ["torch", "numpy", "pandas", "sklearn", "aekit.estimators", "aekit.data"]),
    "nn": (["aekit.nn"], ["pandas", "sklearn", "pyarrow", "aekit.data", "aekit.training",
                          "aekit.estimators", "aekit.anomaly"]),
    "data": (DATA, ["aekit.nn", "aekit.training", "aekit.estimators", *ABOVE_ESTIMATORS]),
    "anomaly": (["aekit.anomaly"], ["torch", "aekit.nn", "aekit.data", "aekit.training",
                                    "aekit.estimators", *ABOVE_ESTIMATORS]),
    "training": (TRAINING, ["aekit.estimators", *ABOVE_ESTIMATORS]),
    "estimators": (["aekit.estimators"], ABOVE_ESTIMATORS),
    "files and exports": (["aekit.streaming", "aekit.persistence", "aekit.export"],
                          ["aekit.cli", "aekit.report", "matplotlib"]),
    "cli parser": (["aekit.cli.main:build_parser"], ["torch", "numpy", "pandas", "sklearn", "pyarrow",
                                        "matplotlib", "aekit.estimators", "aekit.data"]),
}


def _loaded_after(modules: list[str]) -> list[str]:
    # "module:function" also calls the function (e.g. building the CLI's whole parser)
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n"
            "    module, _, call = name.partition(':')\n"
            "    loaded = importlib.import_module(module)\n"
            "    if call:\n        getattr(loaded, call)()\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("case", list(CASES))
def test_importing_a_layer_loads_no_higher_layer(case):
    modules, forbidden = CASES[case]
    loaded = _loaded_after(modules)
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden)]
    assert not bad, f"importing {modules} loaded {bad[:10]}"


def test_the_top_level_names_load_on_first_use():
    import aekit

    assert aekit.AnomalyDetector.__name__ == "AnomalyDetector"
    assert aekit.AutoEncoder is aekit.Autoencoder
    assert callable(aekit.load) and callable(aekit.save)
    assert "VAE" in dir(aekit)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        aekit.Nope  # noqa: B018
