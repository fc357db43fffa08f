"""Categorical columns are reconstructed by softmax heads and scored by their deviance."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Normal

from aekit import VAE, AnomalyDetector, Autoencoder, load
from aekit.nn.heads import MAX_DEVIANCE, P_FLOOR, CellLayout
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import MLPVAE

# two plain cells, a categorical column with 3 levels (+ "(other)"), one plain cell
LAYOUT = CellLayout(7, ((2, 6),))


def rows_with_levels(levels, gen):
    x = torch.randn(len(levels), 7, generator=gen, dtype=torch.float64)
    x[:, 2:6] = 0.0
    for i, level in enumerate(levels):
        if level is not None:
            x[i, 2 + level] = 1.0
    return x


def test_a_categorical_columns_error_is_twice_its_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(5, 7, generator=gen, dtype=torch.float64)
    x = rows_with_levels([0, 1, 2, 2, 0], gen)
    cells = LAYOUT.cell_errors(raw, x)
    target = x[:, 2:5].argmax(dim=1)
    expected = 2 * F.cross_entropy(raw[:, 2:5], target, reduction="none")
    torch.testing.assert_close(cells[:, 2], expected)
    torch.testing.assert_close(cells[:, 3:6], torch.zeros(5, 3, dtype=torch.float64))
    plain = [0, 1, 6]
    torch.testing.assert_close(cells[:, plain], (raw[:, plain] - x[:, plain]) ** 2)
    # the training loss is the same per-row mean, the column counting once
    total, units = LAYOUT.row_losses(raw, x)
    torch.testing.assert_close(total / units, LAYOUT.row_errors(raw, x))
    torch.testing.assert_close(LAYOUT.row_errors(raw, x), cells.sum(dim=1) / 4)
    assert (units == 4).all()


def test_a_block_far_below_the_other_outputs_still_scores_its_own_deviance():
    layout = CellLayout(9, ((2, 6), (6, 9)))  # two categorical columns
    raw = torch.zeros(2, 9)
    raw[:, 2:5] = torch.tensor([-300.0, -301.0, -302.0])  # far below the other outputs
    raw[:, 6:8] = torch.tensor([40.0, 0.0])
    x = torch.zeros(2, 9)
    x[:, 2] = 1.0
    x[0, 7], x[1, 6] = 1.0, 1.0
    cells = layout.cell_errors(raw, x)
    expected = 2 * F.cross_entropy(raw[:, 2:5], torch.tensor([0, 0]), reduction="none")
    torch.testing.assert_close(cells[:, 2], expected, atol=1e-4, rtol=0)  # float32 at -300
    assert cells[0, 6] == pytest.approx(MAX_DEVIANCE) and cells[1, 6] < 1e-6  # floored; sure


def test_the_training_gradient_of_a_categorical_column_is_twice_softmax_minus_one_hot():
    gen = torch.Generator().manual_seed(3)
    raw = torch.randn(5, 7, generator=gen, dtype=torch.float64, requires_grad=True)
    x = rows_with_levels([0, 1, 2, None, 3], gen)  # a missing and an unseen value
    total, _ = LAYOUT.row_losses(raw, x)
    total.sum().backward()
    expected = 2 * (torch.softmax(raw[:, 2:5].detach(), dim=1) - x[:, 2:5])
    expected[3:] = 0.0  # no value, and a value fit never saw: a constant, no gradient
    torch.testing.assert_close(raw.grad[:, 2:5], expected)
    assert (raw.grad[:, 5] == 0).all()


def test_the_heads_give_probabilities_and_never_predict_the_unseen_slot():
    raw = torch.randn(4, 7, dtype=torch.float64)
    decoded = LAYOUT.decode(raw)
    torch.testing.assert_close(decoded[:, 2:5].sum(dim=1), torch.ones(4, dtype=torch.float64))
    assert (decoded[:, 5] == 0).all()
    torch.testing.assert_close(decoded[:, 2:5], Categorical(logits=raw[:, 2:5]).probs)


def test_an_unseen_level_is_the_most_surprising_value_and_a_missing_one_counts_nowhere():
    gen = torch.Generator().manual_seed(1)
    raw = torch.randn(3, 7, generator=gen, dtype=torch.float64)
    x = rows_with_levels([3, None, 0], gen)  # 3: the "(other)" slot
    x[2, 0] = float("nan")  # a missing plain cell
    cells = LAYOUT.cell_errors(raw, x)
    assert cells[0, 2] == pytest.approx(MAX_DEVIANCE) == -2 * math.log(P_FLOOR)
    assert cells[1, 2:6].abs().sum() == 0 and cells[2, 0] == 0
    assert LAYOUT.units(x).tolist() == [4, 3, 3]
    # no seen level can be more surprising than an unseen one
    sure = torch.zeros(1, 7, dtype=torch.float64)
    sure[0, 2] = 50.0
    wrong = rows_with_levels([1], gen)
    assert LAYOUT.cell_errors(sure, wrong)[0, 2] == pytest.approx(MAX_DEVIANCE)


def test_the_vae_likelihood_is_gaussian_for_numbers_and_categorical_for_categories():
    torch.manual_seed(0)
    vae = MLPVAE(7, 2, (8,), heads=LAYOUT).double()
    with torch.no_grad():
        vae.log_sigma.copy_(torch.tensor([0.1, -0.2, 0.0, 0.0, 0.0, 0.0, 0.3]))
    gen = torch.Generator().manual_seed(2)
    x = rows_with_levels([0, 2, 1], gen)
    raw = torch.randn(3, 7, generator=gen, dtype=torch.float64)
    out = AEOutput(recon=raw, z=torch.zeros(3, 2))
    plain = [0, 1, 6]
    expected = -Normal(raw[:, plain], vae.log_sigma[plain].exp()).log_prob(x[:, plain]).sum(1) \
        - Categorical(logits=raw[:, 2:5]).log_prob(x[:, 2:5].argmax(dim=1))
    torch.testing.assert_close(vae.reconstruction_nll(out, x), expected.detach())


def table(n: int, seed: int) -> pd.DataFrame:
    """colour is decided by the numbers: a model that reads them can fill it in."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    colour = np.where(a + b > 0.8, "red", np.where(a - b > 0.5, "green", "blue"))
    return pd.DataFrame({"a": a, "b": b, "c": a - b + rng.normal(0, 0.1, n), "colour": colour})


def test_a_missing_category_is_filled_from_the_other_columns_better_than_the_mode():
    train, test = table(2000, 0), table(400, 1)
    ae = Autoencoder(3, hidden_dims=(32,), random_state=0).fit(train)
    holes = test.copy()
    holes["colour"] = None
    filled = ae.impute(holes)
    assert filled["colour"].isin(["red", "green", "blue"]).all()
    accuracy = (filled["colour"] == test["colour"]).mean()
    mode_accuracy = (test["colour"] == train["colour"].mode()[0]).mean()
    assert accuracy > mode_accuracy + 0.2


def test_heads_survive_save_and_load_and_an_unseen_level_tops_the_detectors_ranking(tmp_path):
    train, test = table(800, 0), table(200, 1)
    det = AnomalyDetector(random_state=0).fit(train)
    assert all(m.cell_layout_ is not None for m in det.estimators_)
    test.loc[7, "colour"] = "purple"
    scores = det.anomaly_score(test)
    assert scores.argmax() == 7
    assert det.top_features(test.iloc[[7]], n=1)[0][0][0] == "colour"
    det.save(tmp_path / "m")
    again = load(tmp_path / "m")
    np.testing.assert_array_equal(again.anomaly_score(test), scores)
    vae = VAE(2, max_epochs=5, random_state=0).fit(train)
    assert vae.cell_layout_ is not None and np.isfinite(vae.negative_elbo(test)).all()


def test_a_layout_used_first_for_scoring_still_trains():
    layout = CellLayout(7, ((2, 6),))
    gen = torch.Generator().manual_seed(4)
    x = rows_with_levels([0, 1, 2, 3], gen)
    with torch.inference_mode():  # scoring first builds the layout's indices
        layout.row_errors(torch.randn(4, 7, dtype=torch.float64), x)
    raw = torch.randn(4, 7, dtype=torch.float64, requires_grad=True)
    total, units = layout.row_losses(raw, x)
    (total.sum() / units.sum()).backward()
    assert torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0


def test_blocks_of_different_widths_each_score_their_own_cross_entropy_and_gradient():
    # plain cells between blocks of 2, 5 and 3 levels (each + "(other)"), padded side by side
    blocks = ((1, 4), (5, 11), (11, 15))
    layout, gen = CellLayout(16, blocks), torch.Generator().manual_seed(1)
    raw = torch.randn(6, 16, generator=gen, dtype=torch.float64, requires_grad=True)
    x = torch.randn(6, 16, generator=gen, dtype=torch.float64)
    targets = torch.tensor([[0, 4, 2], [1, 0, 0], [1, 3, 1], [0, 2, 2], [1, 1, 0], [0, 4, 1]])
    for (start, stop), column in zip(blocks, targets.T):
        x[:, start:stop] = F.one_hot(column, stop - start).double()
    x[2, 5:11] = 0.0  # a missing category: no error, not counted
    total, units = layout.row_losses(raw, x)
    expected = torch.zeros(6, dtype=torch.float64)
    for (start, stop), column in zip(blocks, targets.T):
        ce = 2 * F.cross_entropy(raw[:, start:stop - 1], column, reduction="none")
        expected = expected + torch.where(x[:, start:stop].sum(dim=1) > 0, ce, 0.0)
    plain = [0, 4, 15]
    expected = expected + ((raw[:, plain] - x[:, plain]) ** 2).sum(dim=1)
    torch.testing.assert_close(total, expected)
    assert units.tolist() == [6, 6, 5, 6, 6, 6]
    mine, = torch.autograd.grad(total.sum(), raw, retain_graph=True)
    reference, = torch.autograd.grad(expected.sum(), raw)
    torch.testing.assert_close(mine, reference)
