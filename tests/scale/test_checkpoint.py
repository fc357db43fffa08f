"""Checkpoints: a crashed fit resumed from its checkpoint equals an uninterrupted fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from aekit.cli.main import main
from aekit.estimators import VAE, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import CheckpointError
from aekit.persistence import load
from aekit.training.checkpoint import Checkpoint


class Crash(Exception):
    pass


class CrashAfter(Checkpoint):
    """Saves like a Checkpoint, then dies right after the save of epoch ``crash_epoch``."""

    crash_epoch = 3

    def save(self, state, module, fingerprint):
        super().save(state, module, fingerprint)
        if state.epoch == self.crash_epoch:
            raise Crash


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    return np.tanh(rng.normal(size=(240, 2)) @ rng.normal(size=(2, 6))) + 0.1 * rng.normal(
        size=(240, 6))


def _assert_same_weights(a, b):
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize("cls,params", [
    (Autoencoder, dict(init="random", lr_schedule="plateau", patience=4)),
    (DenoisingAutoencoder, dict(init="random", lr_schedule="cosine", patience=0)),
    (VAE, dict(lr_schedule="plateau", patience=4)),
])
def test_resume_after_crash_gives_bit_identical_weights(tmp_path, X, cls, params):
    def make():
        return cls(2, hidden_dims=(8,), max_epochs=9, batch_size=32, random_state=0, **params)

    reference = make().fit(X)
    assert reference.history_.best_epoch >= 0  # trained weights, not the initial ones
    with pytest.raises(Crash):
        make().fit(X, checkpoint=CrashAfter(tmp_path / "ckpt", every=2))
    resumed = make().fit(X, checkpoint=Checkpoint(tmp_path / "ckpt", every=2, resume=True))
    _assert_same_weights(reference, resumed)
    assert resumed.history_.val_loss == reference.history_.val_loss
    assert resumed.history_.lr == reference.history_.lr


def test_checkpoint_of_another_run_is_refused(tmp_path, X):
    with pytest.raises(Crash):
        Autoencoder(2, max_epochs=6, random_state=0).fit(X, checkpoint=CrashAfter(tmp_path / "c"))
    with pytest.raises(CheckpointError, match=r"different run \(differs in \['data_sha256'"):
        Autoencoder(2, max_epochs=6, random_state=0).fit(
            X[::-1], checkpoint=Checkpoint(tmp_path / "c", resume=True))


def test_cli_resume_continues_a_killed_fit(tmp_path, X, monkeypatch):
    pd.DataFrame(X, columns=[f"c{i}" for i in range(6)]).to_csv(tmp_path / "x.csv", index=False)
    common = ["fit", str(tmp_path / "x.csv"), "--latent-dim", "2", "--hidden", "8",
              "--epochs", "8", "--batch-size", "32", "--seed", "0", "-q"]
    assert main([*common, "--out", str(tmp_path / "ref")]) == 0
    # "Kill" the first attempt right after its epoch-3 checkpoint.
    monkeypatch.setattr("aekit.training.checkpoint.Checkpoint", CrashAfter)
    with pytest.raises(Crash):
        main([*common, "--checkpoint-every", "1", "--out", str(tmp_path / "m")])
    assert (tmp_path / "m.checkpoint").is_dir() and not (tmp_path / "m").exists()
    monkeypatch.setattr("aekit.training.checkpoint.Checkpoint", Checkpoint)
    assert main([*common, "--checkpoint-every", "1", "--resume", "--out", str(tmp_path / "m")]) == 0
    assert not (tmp_path / "m.checkpoint").exists()  # removed once the model is saved
    _assert_same_weights(load(tmp_path / "ref"), load(tmp_path / "m"))


def test_a_mixed_table_with_categorical_heads_and_gaps_resumes_bit_identically(tmp_path):
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"size": rng.normal(10, 2, 300),
                          "colour": rng.choice(["red", "green", "blue"], 300),
                          "when": pd.date_range("2024-01-01", periods=300).strftime("%Y-%m-%d")})
    table.loc[rng.random(300) < 0.1, "size"] = np.nan

    def make():
        return Autoencoder(2, hidden_dims=(8,), max_epochs=7, batch_size=32, random_state=0)

    reference = make().fit(table)
    assert reference.cell_layout_ is not None
    with pytest.raises(Crash):
        make().fit(table, checkpoint=CrashAfter(tmp_path / "ckpt", every=2))
    resumed = make().fit(table, checkpoint=Checkpoint(tmp_path / "ckpt", every=2, resume=True))
    _assert_same_weights(reference, resumed)
    np.testing.assert_array_equal(resumed.reconstruction_error(table),
                                  reference.reconstruction_error(table))
