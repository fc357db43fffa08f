"""Autoencoder and DenoisingAutoencoder: PCA equivalence, denoising, reproducibility, inputs."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from aekit import VAE, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import DataError, ParameterError


def low_rank(n, n_features=20, rank=3, noise=0.05, seed=0):
    """``rank`` Gaussian factors mixed into ``n_features`` columns, plus isotropic noise."""
    rng = np.random.default_rng(seed)
    clean = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n_features))
    return clean + noise * rng.normal(size=clean.shape), clean


def tiny(**params):
    defaults = dict(latent_dim=2, hidden_dims=(8,), max_epochs=3, random_state=0)
    return {**defaults, **params}


@pytest.fixture(scope="module")
def X_small():
    return low_rank(200, n_features=6, rank=2)[0]


# ----------------------------------------------------------------------------- PCA equivalence


@pytest.fixture(scope="module")
def linear_vs_pca():
    k = 3
    X, _ = low_rank(2000, n_features=20, rank=k, noise=0.05, seed=0)
    X_train, X_test = X[:1500], X[1500:]
    scaler = StandardScaler().fit(X_train)
    S_train, S_test = scaler.transform(X_train), scaler.transform(X_test)
    pca = PCA(n_components=k).fit(S_train)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(S_test)) - S_test) ** 2)
    # init="random": the linear autoencoder has to find the principal subspace by training.
    ae = Autoencoder(linear=True, latent_dim=k, init="random", patience=30, random_state=0)
    return ae.fit(X_train), pca, pca_mse, X_train, X_test


def test_linear_autoencoder_matches_pca_held_out_error_within_two_percent(linear_vs_pca):
    ae, _, pca_mse, _, X_test = linear_vs_pca
    ratio = ae.reconstruction_error(X_test).mean() / pca_mse
    assert 0.98 < ratio < 1.02, ratio


def test_linear_autoencoder_decoder_spans_the_principal_subspace(linear_vs_pca):
    ae, pca, _, _, _ = linear_vs_pca
    decoder = ae.module_.decoder[0].weight.detach().double().numpy()
    assert decoder.shape == (20, 3)
    largest_angle = np.degrees(subspace_angles(decoder, pca.components_.T).max())
    assert largest_angle < 5.0


def test_a_pca_initialised_linear_autoencoder_is_never_worse_than_pca(linear_vs_pca):
    _, _, pca_mse, X_train, X_test = linear_vs_pca
    ae = Autoencoder(linear=True, latent_dim=3, init="pca", max_epochs=5, random_state=0)
    ratio = ae.fit(X_train).reconstruction_error(X_test).mean() / pca_mse
    assert ratio < 1.01, ratio


def test_linear_autoencoder_has_one_affine_layer_each_way():
    ae = Autoencoder(linear=True, latent_dim=2, max_epochs=1, random_state=0)
    ae.fit(low_rank(50, n_features=5)[0])
    assert [type(m).__name__ for m in ae.module_.encoder] == ["Linear"]
    assert [type(m).__name__ for m in ae.module_.decoder] == ["Linear"]


# ----------------------------------------------------------------------------- denoising


def test_denoising_reconstruction_is_closer_to_the_clean_data_than_the_noisy_input():
    noisy, clean = low_rank(600, n_features=10, rank=2, noise=0.5, seed=1)
    dae = DenoisingAutoencoder(latent_dim=2, hidden_dims=(32,), noise="gaussian",
                               noise_level=0.3, max_epochs=40, random_state=0)
    dae.fit(noisy[:400])
    denoised = dae.reconstruct(noisy[400:])
    noisy_mse = np.mean((noisy[400:] - clean[400:]) ** 2)
    denoised_mse = np.mean((denoised - clean[400:]) ** 2)
    assert denoised_mse < 0.5 * noisy_mse


@pytest.mark.parametrize("noise, level", [("gaussian", 0.3), ("masking", 0.2),
                                          ("salt_pepper", 0.1)])
def test_each_noise_kind_trains_and_inference_adds_no_noise(noise, level, X_small):
    dae = DenoisingAutoencoder(noise=noise, noise_level=level, **tiny()).fit(X_small)
    assert len(dae.history_.train_loss) == 3
    assert np.isfinite(dae.history_.train_loss).all()
    first = dae.reconstruct(X_small)
    np.testing.assert_array_equal(first, dae.reconstruct(X_small))
    np.testing.assert_array_equal(dae.transform(X_small), dae.transform(X_small))


def test_denoising_training_differs_from_plain_training_only_by_the_noise(X_small):
    plain = Autoencoder(**tiny()).fit(X_small)
    noisy = DenoisingAutoencoder(noise="gaussian", noise_level=0.5, **tiny()).fit(X_small)
    assert plain.history_.train_loss != noisy.history_.train_loss


@pytest.mark.parametrize("noise", ["masking", "salt_pepper"])
def test_probability_noise_levels_above_one_are_refused(noise, X_small):
    with pytest.raises(ParameterError,
                       match=r"'noise_level' parameter of DenoisingAutoencoder must be a "
                             r"probability in \(0, 1\]"):
        DenoisingAutoencoder(noise=noise, noise_level=1.5, **tiny()).fit(X_small)


# ----------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder])
def test_an_int_random_state_gives_bit_identical_weights(cls, X_small):
    a = cls(**tiny()).fit(X_small).module_.state_dict()
    b = cls(**tiny()).fit(X_small).module_.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_different_random_states_give_different_weights(X_small):
    a = Autoencoder(**tiny(random_state=0)).fit(X_small).module_.encoder[0].weight
    b = Autoencoder(**tiny(random_state=1)).fit(X_small).module_.encoder[0].weight
    assert not torch.equal(a, b)


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder])
def test_fitting_leaves_the_global_torch_and_numpy_random_states_alone(cls, X_small):
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()
    cls(**tiny()).fit(X_small)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0]
    np.testing.assert_array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


# ----------------------------------------------------------------------------- awkward data


def test_a_constant_column_keeps_scores_finite_when_new_data_changes_it():
    X, _ = low_rank(300, n_features=5, rank=2)
    X = np.column_stack([X, np.full(len(X), 7.0)])
    ae = Autoencoder(**tiny(max_epochs=10)).fit(X)
    assert ae.scaler_.scale[-1] == 1.0
    X_new = X[:50].copy()
    X_new[:, -1] = 8.0
    errors = ae.reconstruction_error(X_new)
    assert np.isfinite(errors).all()
    assert errors.max() < 10.0
    assert np.isfinite(ae.reconstruct(X_new)).all()
    assert np.isfinite(ae.transform(X_new)).all()


def test_integer_and_float32_input_give_float64_output(X_small):
    ae = Autoencoder(**tiny()).fit(X_small.astype(np.float32))
    assert ae.transform(X_small.round().astype(np.int64)).dtype == np.float64
    assert ae.reconstruct(X_small.astype(np.float32)).dtype == np.float64


# ----------------------------------------------------------------------------- columns


@pytest.fixture(scope="module")
def frame_model(X_small):
    df = pd.DataFrame(X_small, columns=list("abcdef"))
    return Autoencoder(**tiny()).fit(df), df


def test_feature_names_are_remembered_from_a_dataframe(frame_model):
    ae, _ = frame_model
    assert ae.feature_names_in_.tolist() == list("abcdef")
    assert ae.n_features_in_ == 6


def test_reordered_columns_are_matched_by_name(frame_model):
    ae, df = frame_model
    shuffled = df[list("fbdace")]
    np.testing.assert_array_equal(ae.transform(shuffled), ae.transform(df))
    np.testing.assert_array_equal(ae.reconstruct(shuffled), ae.reconstruct(df))
    np.testing.assert_array_equal(ae.reconstruction_error(shuffled),
                                  ae.reconstruction_error(df))


def test_a_missing_column_is_named_in_the_error(frame_model):
    ae, df = frame_model
    with pytest.raises(DataError, match="Feature names seen at fit time, yet now missing:\n- c\n"):
        ae.transform(df.drop(columns="c"))


def test_an_extra_column_is_named_in_the_error(frame_model):
    ae, df = frame_model
    with pytest.raises(DataError, match="Feature names unseen at fit time:\n- extra\n"):
        ae.transform(df.assign(extra=1.0))


def test_a_renamed_column_is_reported_as_both_unseen_and_missing(frame_model):
    ae, df = frame_model
    with pytest.raises(DataError, match=r"(?s)unseen at fit time:\n- A\n.*missing:\n- a\n"):
        ae.reconstruct(df.rename(columns={"a": "A"}))


def test_a_plain_array_of_the_right_width_is_accepted_after_a_dataframe_fit(frame_model):
    ae, df = frame_model
    np.testing.assert_array_equal(ae.transform(df.to_numpy()), ae.transform(df))


def test_an_array_of_the_wrong_width_names_both_widths(frame_model):
    ae, df = frame_model
    with pytest.raises(DataError, match="X has 5 features, but Autoencoder is expecting 6"):
        ae.transform(df.to_numpy()[:, :5])


# ----------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("cls, params, pattern", [
    (Autoencoder, {"latent_dim": 0},
     r"The 'latent_dim' parameter of Autoencoder must be an int >= 1\. Got 0 instead\."),
    (Autoencoder, {"scaling": "x"},
     r"The 'scaling' parameter of Autoencoder must be one of .*Got 'x' instead\."),
    (DenoisingAutoencoder, {"noise": "bogus"},
     r"The 'noise' parameter of DenoisingAutoencoder must be one of "
     r"\('gaussian', 'masking', 'salt_pepper'\)\. Got 'bogus' instead\."),
    (Autoencoder, {"hidden_dims": (8, 0)}, r"The 'hidden_dims' parameter"),
    (Autoencoder, {"lr": 0.0}, r"The 'lr' parameter of Autoencoder must be 'auto' or a float > 0"),
    (Autoencoder, {"validation_fraction": 0.9}, r"The 'validation_fraction' parameter"),
    (Autoencoder, {"activation": "swish"}, r"The 'activation' parameter"),
])
def test_bad_parameters_are_refused_naming_the_parameter(cls, params, pattern, X_small):
    with pytest.raises(ParameterError, match=pattern) as info:
        cls(**{**tiny(), **params}).fit(X_small)
    assert isinstance(info.value, ValueError)


def test_every_bad_parameter_is_reported_at_once(X_small):
    with pytest.raises(ParameterError, match=r"(?s)'latent_dim'.*'scaling'"):
        Autoencoder(latent_dim=0, scaling="x").fit(X_small)


def test_parameters_are_not_validated_in_the_constructor():
    ae = Autoencoder(latent_dim=0)
    assert ae.latent_dim == 0


# ----------------------------------------------------------------------------- history


def test_history_has_one_train_and_validation_loss_per_epoch(X_small):
    ae = Autoencoder(**tiny(max_epochs=5, patience=0, init="random")).fit(X_small)
    h = ae.history_
    assert h.n_epochs == 5
    assert len(h.train_loss) == len(h.val_loss) == len(h.lr) == 5
    assert 0 <= h.best_epoch < 5
    assert h.best_loss == h.val_loss[h.best_epoch]
    assert h.best_loss <= min(h.val_loss) * (1 + 1e-4)
    assert not h.stopped_early


def test_the_kept_weights_are_never_worse_than_the_starting_ones(X_small):
    h = Autoencoder(**tiny(max_epochs=5, patience=0)).fit(X_small).history_
    assert np.isfinite(h.initial_loss)
    assert h.best_loss <= h.initial_loss
    assert h.best_loss == (h.initial_loss if h.best_epoch == -1 else h.val_loss[h.best_epoch])


def test_early_stopping_ends_before_max_epochs_on_easy_data():
    X, _ = low_rank(300, n_features=4, rank=1, noise=0.0)
    ae = Autoencoder(latent_dim=1, hidden_dims=(8,), init="random", max_epochs=200, patience=3,
                     random_state=0).fit(X)
    h = ae.history_
    assert h.stopped_early
    assert h.n_epochs < 200
    assert h.n_epochs == h.best_epoch + 1 + 3


@pytest.mark.parametrize("n_train, epochs", [(100, 200), (3_000, 200), (8_000, 75),
                                             (180_000, 3), (10_000_000, 3)])
def test_auto_epochs_spend_a_budget_of_rows_seen(n_train, epochs):
    from aekit.estimators._base import auto_max_epochs

    assert auto_max_epochs(n_train) == epochs
    # a VAE learns more slowly: its budget is 2.5x larger (11 epochs at 180,000 rows)
    assert auto_max_epochs(180_000, VAE._epoch_budget_rows) == 11


@pytest.mark.parametrize("batch, lr", [(32, 3e-3), (256, 3e-3), (512, 3e-3 * 2 ** 0.5),
                                       (1024, 6e-3), (65_536, 1e-2)])
def test_auto_learning_rate_grows_with_the_square_root_of_the_batch(batch, lr):
    from aekit.estimators._base import auto_learning_rate

    assert auto_learning_rate(batch) == pytest.approx(lr)


@pytest.mark.parametrize("cls, expected_lr", [(Autoencoder, 3e-3 * 2 ** 0.5),
                                              (DenoisingAutoencoder, 3e-3 * 2 ** 0.5),
                                              (VAE, 3e-3)])
def test_auto_learning_rate_is_the_one_training_starts_with(cls, expected_lr):
    X = low_rank(20_000, n_features=4, rank=2)[0]  # 18,000 training rows: batch 512
    model = cls(latent_dim=2, hidden_dims=(8,), lr="auto", max_epochs=1, random_state=0).fit(X)
    assert model.history_.lr[0] == pytest.approx(expected_lr)
    explicit = cls(latent_dim=2, hidden_dims=(8,), lr=1e-3, max_epochs=1, random_state=0).fit(X)
    assert explicit.history_.lr[0] == pytest.approx(1e-3)


def test_convolutional_networks_keep_the_base_learning_rate():
    images = np.random.default_rng(0).random((600, 8, 8))
    model = Autoencoder(2, batch_size=512, max_epochs=1, random_state=0).fit(images)
    assert model.history_.lr[0] == pytest.approx(3e-3)


def test_no_validation_split_below_twenty_rows():
    ae = Autoencoder(**tiny()).fit(low_rank(15, n_features=4)[0])
    assert ae.history_.val_loss == []
    assert len(ae.history_.train_loss) == 3


# ----------------------------------------------------------------------------- scaling


@pytest.fixture(scope="module")
def X_offset():
    X, _ = low_rank(300, n_features=5, rank=2, noise=0.05, seed=2)
    return X * [1, 10, 100, 0.1, 5] + [1000, -50, 3, 0, 20000]


@pytest.mark.parametrize("scaling", ["standard", "minmax", "robust", "none"])
def test_every_scaling_reconstructs_in_the_original_units(scaling, X_offset):
    ae = Autoencoder(scaling=scaling, **tiny(max_epochs=2)).fit(X_offset)
    rec = ae.reconstruct(X_offset)
    assert rec.shape == X_offset.shape
    assert np.isfinite(rec).all()
    x = torch.from_numpy(ae.scaler_.transform(X_offset).astype(np.float32))
    with torch.no_grad():
        scaled_rec = ae.module_(x).recon.double().numpy()
    np.testing.assert_allclose(rec, ae.scaler_.inverse_transform(scaled_rec), rtol=1e-6)
    expected_error = np.mean((scaled_rec - x.double().numpy()) ** 2, axis=1)
    np.testing.assert_allclose(ae.reconstruction_error(X_offset), expected_error, rtol=1e-5)


@pytest.mark.parametrize("scaling", ["standard", "minmax", "robust"])
def test_reconstructions_land_on_the_data_whatever_its_offsets_and_units(scaling, X_offset):
    ae = Autoencoder(latent_dim=2, hidden_dims=(16,), scaling=scaling, max_epochs=30,
                     random_state=0).fit(X_offset)
    rec = ae.reconstruct(X_offset)
    std = X_offset.std(axis=0)
    assert (np.abs(rec.mean(axis=0) - X_offset.mean(axis=0)) < 0.25 * std).all()
    assert (np.abs(rec - X_offset).mean(axis=0) < std).all()


def test_a_bottleneck_as_wide_as_the_input_is_warned_of_where_it_can_copy(caplog, tmp_path):
    from aekit import AnomalyDetector
    from aekit.cli.main import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    table = pd.DataFrame({"a": x, "b": 2 * x + rng.normal(0, 0.1, 300),
                          "c": rng.normal(size=300)})
    with caplog.at_level("WARNING"):
        Autoencoder(8, max_epochs=2, random_state=0).fit(table)
    assert "latent_dim=8 is at least the 3 encoded input columns" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        Autoencoder(1, max_epochs=2, random_state=0).fit(table)
        DenoisingAutoencoder(8, noise="masking", max_epochs=2, random_state=0).fit(table)
        AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(table)
    assert "copy its input" not in caplog.text
    # a copying model fills every gap of a column with one value, and impute says so
    table.loc[:49, "b"] = np.nan
    table.to_csv(tmp_path / "t.csv", index=False)
    assert main(["fit", str(tmp_path / "t.csv"), "--epochs", "20", "--seed", "0", "-q",
                 "--out", str(tmp_path / "m")]) == 0
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["impute", str(tmp_path / "m"), str(tmp_path / "t.csv"),
                     "--out", str(tmp_path / "f.csv")]) == 0
    assert "column 'b': all 50 filled cells got the same value" in printed.getvalue()
