"""save/load: identical predictions after a round-trip, and refusal of anything suspect."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit import VAE, Autoencoder, DenoisingAutoencoder
from aekit.exceptions import DataError, ModelFileError, NotFittedError
from aekit.persistence import CONFIG_FILE, FORMAT_VERSION, HISTORY_FILE, WEIGHTS_FILE


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(120, 2)) @ rng.normal(size=(2, 5)) + rng.normal(size=(120, 5)) * 0.1
    return pd.DataFrame(values, columns=["a", "b", "c", "d", "e"])


def _tiny(cls):
    return cls(latent_dim=2, hidden_dims=(8,), max_epochs=3, random_state=0)


@pytest.fixture(scope="module", params=[Autoencoder, DenoisingAutoencoder, VAE],
                ids=lambda c: c.__name__)
def fitted(request, X):
    return _tiny(request.param).fit(X)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, X):
    """One saved Autoencoder; tests that damage it work on a copy (see ``model_dir``)."""
    path = tmp_path_factory.mktemp("saved") / "model"
    aekit.save(_tiny(Autoencoder).fit(X), path)
    return path


@pytest.fixture
def model_dir(saved, tmp_path):
    import shutil

    return shutil.copytree(saved, tmp_path / "model")


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make every entry point of the pickle module fail the test if it is used."""

    def refuse(*args, **kwargs):
        raise AssertionError("aekit unpickled the model file")

    class RefusingUnpickler:
        def __init__(self, *args, **kwargs):
            refuse()

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", RefusingUnpickler)


def _edit_config(path, edit):
    config = json.loads((path / CONFIG_FILE).read_text())
    edit(config)
    (path / CONFIG_FILE).write_text(json.dumps(config))


# ----------------------------------------------------------------------------- round-trip


def test_a_loaded_model_gives_identical_transform_and_reconstruct(fitted, X, tmp_path):
    fitted.save(tmp_path / "model")
    loaded = aekit.load(tmp_path / "model")
    assert type(loaded) is type(fitted)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), fitted.reconstruct(X))
    np.testing.assert_array_equal(loaded.reconstruction_error(X), fitted.reconstruction_error(X))


def test_a_loaded_model_keeps_params_feature_names_and_history(fitted, tmp_path):
    aekit.save(fitted, tmp_path / "model")
    loaded = aekit.load(tmp_path / "model")
    assert loaded.get_params() == fitted.get_params()
    assert loaded.feature_names_in_.tolist() == ["a", "b", "c", "d", "e"]
    assert loaded.n_features_in_ == 5
    assert loaded.history_.train_loss == fitted.history_.train_loss
    assert loaded.history_.best_epoch == fitted.history_.best_epoch


def test_a_loaded_model_still_matches_columns_by_name(fitted, X, tmp_path):
    aekit.save(fitted, tmp_path / "model")
    loaded = aekit.load(tmp_path / "model")
    reordered = X[["e", "d", "c", "b", "a"]]
    np.testing.assert_array_equal(loaded.transform(reordered), fitted.transform(X))
    with pytest.raises(DataError, match="yet now missing:\n- e\n"):
        loaded.transform(X.drop(columns="e"))


def test_a_loaded_vae_keeps_its_kl_per_dimension_and_samples_alike(X, tmp_path):
    vae = _tiny(VAE).fit(X)
    aekit.save(vae, tmp_path / "model")
    loaded = aekit.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.kl_per_dim_, vae.kl_per_dim_)
    assert loaded.active_units_ == vae.active_units_
    np.testing.assert_array_equal(loaded.sample(4, random_state=0), vae.sample(4, random_state=0))


def test_a_model_fitted_on_an_array_has_no_feature_names_after_loading(tmp_path, X):
    ae = _tiny(Autoencoder).fit(X.to_numpy())
    aekit.save(ae, tmp_path / "model")
    assert not hasattr(aekit.load(tmp_path / "model"), "feature_names_in_")


def test_the_model_directory_holds_exactly_three_files_and_no_temporaries(saved):
    assert sorted(p.name for p in saved.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE,
                                                              HISTORY_FILE])
    assert [p.name for p in saved.parent.iterdir()] == ["model"]


def test_saving_over_an_existing_model_directory_replaces_it(X, tmp_path):
    target = tmp_path / "model"
    aekit.save(_tiny(Autoencoder).fit(X), target)
    vae = _tiny(VAE).fit(X)
    aekit.save(vae, target)
    loaded = aekit.load(target)
    assert isinstance(loaded, VAE)
    np.testing.assert_array_equal(loaded.transform(X), vae.transform(X))
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_saving_an_unfitted_estimator_says_to_fit_first(tmp_path):
    with pytest.raises(NotFittedError, match="Call 'fit'"):
        aekit.save(Autoencoder(), tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_parent_directory_is_refused(saved, tmp_path):
    model = aekit.load(saved)
    with pytest.raises(DataError, match="does not exist"):
        aekit.save(model, tmp_path / "nope" / "model")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- refusals


def test_tampered_weights_are_refused_by_checksum(model_dir):
    weights = model_dir / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum does not match"):
        aekit.load(model_dir)


def test_a_pickle_in_place_of_the_weights_is_refused_and_never_unpickled(model_dir, no_unpickling):
    (model_dir / WEIGHTS_FILE).write_bytes(pickle.dumps({"encoder.0.weight": [1.0, 2.0]}))
    with pytest.raises(ModelFileError, match="checksum"):
        aekit.load(model_dir)


def test_a_pickle_with_a_matching_checksum_is_still_not_unpickled(model_dir, no_unpickling):
    import hashlib

    payload = pickle.dumps({"encoder.0.weight": [1.0, 2.0]})
    (model_dir / WEIGHTS_FILE).write_bytes(payload)
    _edit_config(model_dir, lambda c: c.update(weights_sha256=hashlib.sha256(payload).hexdigest()))
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        aekit.load(model_dir)


def test_missing_weights_are_refused(model_dir):
    (model_dir / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelFileError, match=r"missing weights\.safetensors\. The model directory "
                                             r"is incomplete"):
        aekit.load(model_dir)


def test_a_newer_format_version_says_to_upgrade(model_dir):
    _edit_config(model_dir, lambda c: c.update(format_version=FORMAT_VERSION + 1,
                                               aekit_version="99.0"))
    with pytest.raises(ModelFileError, match=rf"saved with model format {FORMAT_VERSION + 1} "
                                             r"\(aekit 99\.0\).*Upgrade aekit\."):
        aekit.load(model_dir)


@pytest.mark.parametrize("version", ["1", 1.0, None, True, 0])
def test_a_format_version_that_is_not_a_positive_integer_is_refused(model_dir, version):
    _edit_config(model_dir, lambda c: c.update(format_version=version))
    with pytest.raises(ModelFileError, match="format"):
        aekit.load(model_dir)


def test_a_parameter_of_the_wrong_type_is_refused(model_dir):
    _edit_config(model_dir, lambda c: c["params"].update(latent_dim="eight"))
    with pytest.raises(ModelFileError,
                       match=r"invalid values .*The 'latent_dim' parameter of Autoencoder must be "
                             r"an int >= 1\. Got 'eight' instead\."):
        aekit.load(model_dir)


def test_an_unknown_parameter_is_refused(model_dir):
    _edit_config(model_dir, lambda c: c["params"].update(bogus=1))
    with pytest.raises(ModelFileError, match="bogus"):
        aekit.load(model_dir)


def test_fitted_state_that_does_not_match_the_weights_is_refused(model_dir):
    _edit_config(model_dir, lambda c: c["params"].update(latent_dim=3))
    with pytest.raises(ModelFileError, match="does not match its weights"):
        aekit.load(model_dir)


def test_an_unknown_estimator_class_is_refused(model_dir):
    _edit_config(model_dir, lambda c: c.update({"class": "os.system"}))
    with pytest.raises(ModelFileError, match=r"unknown estimator class 'os\.system'"):
        aekit.load(model_dir)


def test_a_foreign_json_file_is_refused(model_dir):
    (model_dir / CONFIG_FILE).write_text(json.dumps({"hello": "world"}))
    with pytest.raises(ModelFileError, match=r"is not an aekit model description"):
        aekit.load(model_dir)


def test_a_corrupt_description_is_refused(model_dir):
    (model_dir / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        aekit.load(model_dir)


def test_a_directory_without_estimator_json_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match=r"missing estimator\.json; not an aekit model "
                                             r"directory"):
        aekit.load(tmp_path / "empty")


def test_a_path_that_is_not_a_directory_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="no such model directory"):
        aekit.load(tmp_path / "missing")
