"""aekit borrows thread settings and gives them back; users can switch the policy off."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import aekit
from aekit import AnomalyDetector, Autoencoder, _progress, _threads


@pytest.fixture
def threads_set_to_two():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


def test_fit_and_scoring_leave_the_callers_thread_count_alone(threads_set_to_two):
    X = np.random.default_rng(0).normal(size=(300, 5))
    det = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(X)
    assert torch.get_num_threads() == threads_set_to_two
    det.anomaly_score(X)
    det.feature_contributions(X[:10])
    assert torch.get_num_threads() == threads_set_to_two
    ae = Autoencoder(2, hidden_dims=(8,), max_epochs=2, random_state=0).fit(X)
    ae.transform(X)
    assert torch.get_num_threads() == threads_set_to_two


def test_the_thread_context_restores_after_an_error(threads_set_to_two):
    with pytest.raises(RuntimeError), _threads.torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == threads_set_to_two


def test_switching_the_policy_off_never_changes_a_thread_count(threads_set_to_two, monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    aekit.set_thread_policy(False)
    try:
        with _threads.torch_threads(1):
            pass
        X = np.random.default_rng(0).normal(size=(100, 3))
        Autoencoder(2, hidden_dims=(4,), max_epochs=1, random_state=0).fit(X).transform(X)
    finally:
        aekit.set_thread_policy(True)
    assert calls == []


def test_small_work_runs_on_one_thread_and_large_work_on_torchs_own(monkeypatch):
    monkeypatch.setattr(_threads, "_cores_busy", lambda: False)
    small = torch.nn.Linear(4, 4)
    cpu = torch.device("cpu")
    assert _threads.step_threads(small, 32, cpu) == 1
    big = torch.nn.Linear(1000, 1000)
    assert _threads.step_threads(big, 4096, cpu) is None
    assert _threads.step_threads(big, 4096, torch.device("cuda")) is None


def test_progress_off_a_terminal_is_plain_lines_without_carriage_returns(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(_progress.sys, "stderr", err)
    with _progress.progress(total=3, desc="work", unit="row") as bar:
        for _ in range(3):
            bar.update(1)
            bar.set_postfix(loss="0.1")  # an epoch's report: one line each
    text = err.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert 1 <= len(lines) <= 5 and all(line.startswith("work") for line in lines)


def test_training_off_a_terminal_prints_one_line_per_epoch_with_its_own_count(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(_progress.sys, "stderr", err)
    X = np.random.default_rng(0).normal(size=(200, 4))
    Autoencoder(2, max_epochs=3, patience=0, verbose=1, random_state=0).fit(X)
    counts = [line.split("|")[2].split()[0] for line in err.getvalue().splitlines()
              if "loss=" in line]
    assert counts == ["1/3", "2/3", "3/3"]
