"""The VAE's loss terms against torch.distributions, and its fitted-estimator guarantees."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from aekit import VAE
from aekit.exceptions import ParameterError
from aekit.nn.outputs import AEOutput
from aekit.nn.vae import MLPVAE, elbo_terms, gaussian_kl
from aekit.training.losses import ELBOLoss


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def _posterior(gen, batch=16, latent=5):
    mu = torch.randn(batch, latent, generator=gen, dtype=torch.float64) * 2
    logvar = torch.randn(batch, latent, generator=gen, dtype=torch.float64) * 1.5
    return mu, logvar


# ----------------------------------------------------------------------------- KL


def test_gaussian_kl_per_dimension_matches_torch_distributions(gen):
    mu, logvar = _posterior(gen)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))
    kl = gaussian_kl(mu, logvar)
    assert kl.shape == (16, 5)
    torch.testing.assert_close(kl, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(kl.sum(dim=1), expected.sum(dim=1), atol=1e-5, rtol=0)


def test_gaussian_kl_matches_torch_distributions_in_float32(gen):
    mu, logvar = (t.float() for t in _posterior(gen))
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(gaussian_kl(mu, logvar).sum(dim=1), expected, atol=1e-4,
                               rtol=1e-5)


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere(gen):
    zeros = torch.zeros(3, 4)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(3, 4))
    mu, logvar = _posterior(gen)
    assert (gaussian_kl(mu, logvar) >= 0).all()


# ----------------------------------------------------------------------------- likelihoods


def _module_and_output(likelihood, gen, n_features=7, batch=9):
    torch.manual_seed(0)
    module = MLPVAE(n_features, 3, (8,), likelihood=likelihood).double()
    if likelihood == "gaussian":
        with torch.no_grad():
            log_sigma = torch.randn(n_features, generator=gen, dtype=torch.float64)
            module.log_sigma.copy_(0.5 * log_sigma)
    recon = torch.randn(batch, n_features, generator=gen, dtype=torch.float64)
    mu = torch.randn(batch, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(batch, 3, generator=gen, dtype=torch.float64)
    return module, AEOutput(recon=recon, z=mu, mu=mu, logvar=logvar)


def test_gaussian_nll_is_minus_the_normal_log_prob_summed_over_features(gen):
    module, out = _module_and_output("gaussian", gen)
    target = torch.randn(out.recon.shape, generator=gen, dtype=torch.float64)
    expected = -Normal(out.recon, module.log_sigma.exp()).log_prob(target).sum(dim=1)
    torch.testing.assert_close(module.reconstruction_nll(out, target), expected)


def test_gaussian_nll_leaves_missing_cells_out_and_scales_to_all_features(gen):
    module, out = _module_and_output("gaussian", gen)
    target = torch.randn(out.recon.shape, generator=gen, dtype=torch.float64)
    target[0, [1, 4]] = float("nan")
    seen = ~torch.isnan(target[0])
    log_prob = Normal(out.recon[0, seen], module.log_sigma.exp()[seen]).log_prob(target[0, seen])
    nll = module.reconstruction_nll(out, target)
    torch.testing.assert_close(nll[0], -log_prob.sum() * 7 / 5)
    expected = -Normal(out.recon[1:], module.log_sigma.exp()).log_prob(target[1:]).sum(dim=1)
    torch.testing.assert_close(nll[1:], expected)  # complete rows as before


def test_gaussian_nll_floors_sigma_at_one_thousandth(gen):
    module, out = _module_and_output("gaussian", gen)
    with torch.no_grad():
        module.log_sigma.fill_(-50.0)
    target = out.recon + 1e-3
    expected = -Normal(out.recon, torch.full_like(out.recon, 1e-3)).log_prob(target).sum(dim=1)
    torch.testing.assert_close(module.reconstruction_nll(out, target), expected)


def test_bernoulli_nll_is_minus_the_bernoulli_log_prob_of_the_logits(gen):
    module, out = _module_and_output("bernoulli", gen)
    target = torch.rand(out.recon.shape, generator=gen, dtype=torch.float64).round()
    expected = -Bernoulli(logits=out.recon).log_prob(target).sum(dim=1)
    torch.testing.assert_close(module.reconstruction_nll(out, target), expected)


def test_bernoulli_decode_returns_probabilities(gen):
    module, _ = _module_and_output("bernoulli", gen)
    p = module.decode(torch.randn(4, 3, generator=gen, dtype=torch.float64))
    assert ((p > 0) & (p < 1)).all()


# ----------------------------------------------------------------------------- ELBO


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_elbo_loss_is_batch_mean_of_nll_plus_beta_times_summed_kl(beta, gen):
    module, out = _module_and_output("gaussian", gen)
    target = torch.randn(out.recon.shape, generator=gen, dtype=torch.float64)
    nll = -Normal(out.recon, module.log_sigma.exp()).log_prob(target).sum(dim=1)
    kl = kl_divergence(Normal(out.mu, torch.exp(0.5 * out.logvar)), Normal(0.0, 1.0)).sum(dim=1)
    expected = (nll + beta * kl).mean()
    loss = ELBOLoss(beta)(module, out, target, None)
    assert loss.ndim == 0
    torch.testing.assert_close(loss, expected)


def test_elbo_terms_return_per_sample_nll_and_per_dimension_kl(gen):
    module, out = _module_and_output("gaussian", gen)
    nll, kl = elbo_terms(module, out, out.recon)
    assert nll.shape == (9,)
    assert kl.shape == (9, 3)


def test_beta_warmup_rises_linearly_then_holds_at_beta():
    loss = ELBOLoss(beta=2.0, warmup_epochs=4)
    assert [loss.beta_at(e) for e in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]


def test_beta_warmup_is_at_full_beta_for_evaluation_and_when_disabled():
    assert ELBOLoss(beta=2.0, warmup_epochs=4).beta_at(None) == 2.0
    assert ELBOLoss(beta=2.0, warmup_epochs=0).beta_at(0) == 2.0


def test_warmup_weights_the_kl_term_of_the_loss(gen):
    module, out = _module_and_output("gaussian", gen)
    target = out.recon.clone()
    nll, kl = elbo_terms(module, out, target)
    loss = ELBOLoss(beta=1.0, warmup_epochs=10)
    torch.testing.assert_close(loss(module, out, target, 0), (nll + 0.1 * kl.sum(dim=1)).mean())
    torch.testing.assert_close(loss(module, out, target, None), (nll + kl.sum(dim=1)).mean())


# ----------------------------------------------------------------------------- fitted VAE


@pytest.fixture(scope="module")
def X_lowrank():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(300, 2))
    return factors @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(300, 6))


@pytest.fixture(scope="module")
def vae(X_lowrank):
    return VAE(latent_dim=4, hidden_dims=(16,), max_epochs=15, random_state=0).fit(X_lowrank)


def test_fitted_vae_transform_and_reconstruct_are_deterministic(vae, X_lowrank):
    np.testing.assert_array_equal(vae.transform(X_lowrank), vae.transform(X_lowrank))
    np.testing.assert_array_equal(vae.reconstruct(X_lowrank), vae.reconstruct(X_lowrank))


def test_fitted_vae_transform_is_the_posterior_mean(vae, X_lowrank):
    x = torch.from_numpy(vae.scaler_.transform(X_lowrank).astype(np.float32))
    with torch.no_grad():
        mu, _ = vae.module_.encode(x)
    np.testing.assert_allclose(vae.transform(X_lowrank), mu.double().numpy(), rtol=1e-6)


def test_kl_per_dim_has_one_value_per_latent_dimension_and_counts_active_units(vae):
    assert vae.kl_per_dim_.shape == (4,)
    assert (vae.kl_per_dim_ >= 0).all()
    assert vae.active_units_ == int((vae.kl_per_dim_ > 0.01).sum())
    assert 1 <= vae.active_units_ <= 4


def test_kl_per_dim_is_the_training_data_average_of_gaussian_kl(vae, X_lowrank):
    x = torch.from_numpy(vae.scaler_.transform(X_lowrank).astype(np.float32))
    with torch.no_grad():
        kl = gaussian_kl(*vae.module_.encode(x)).double().mean(dim=0).numpy()
    np.testing.assert_allclose(vae.kl_per_dim_, kl, rtol=1e-5, atol=1e-7)


def test_sample_is_reproducible_with_a_random_state(vae):
    a = vae.sample(5, random_state=0)
    assert a.shape == (5, 6)
    np.testing.assert_array_equal(a, vae.sample(5, random_state=0))
    assert not np.array_equal(a, vae.sample(5, random_state=1))


def test_sample_leaves_the_global_random_state_alone(vae):
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()
    vae.sample(3, random_state=0)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()


@pytest.mark.parametrize("n", [0, -1, 2.5])
def test_sample_rejects_a_bad_count(vae, n):
    with pytest.raises(ParameterError, match="n_samples must be an int >= 1"):
        vae.sample(n)


def test_negative_elbo_with_the_posterior_mean_is_deterministic_and_finite(vae, X_lowrank):
    a = vae.negative_elbo(X_lowrank[:20], n_samples=0)
    assert a.shape == (20,)
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, vae.negative_elbo(X_lowrank[:20], n_samples=0))


def test_kl_warmup_changes_training_but_stays_reproducible(X_lowrank):
    def fit(warmup):
        return VAE(latent_dim=2, hidden_dims=(8,), max_epochs=3, kl_warmup_epochs=warmup,
                   random_state=0).fit(X_lowrank[:100])

    a, b, c = fit(3), fit(3), fit(0)
    assert a.history_.train_loss == b.history_.train_loss
    assert a.history_.train_loss != c.history_.train_loss


def test_bernoulli_likelihood_refuses_data_outside_unit_interval(X_lowrank):
    with pytest.raises(ParameterError, match=r"likelihood='bernoulli' needs data in \[0, 1\]"):
        VAE(likelihood="bernoulli", scaling="standard", max_epochs=1).fit(X_lowrank)


def test_bernoulli_vae_fits_minmax_scaled_data(X_lowrank):
    vae = VAE(latent_dim=2, hidden_dims=(8,), likelihood="bernoulli", scaling="minmax",
              max_epochs=2, random_state=0).fit(X_lowrank[:100])
    rec = vae.reconstruct(X_lowrank[:10])
    lo, hi = X_lowrank[:100].min(axis=0), X_lowrank[:100].max(axis=0)
    assert ((rec >= lo - 1e-9) & (rec <= hi + 1e-9)).all()
    assert math.isfinite(vae.score(X_lowrank[:10]))
