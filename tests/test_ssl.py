"""Tests of lrtheory.ssl_data, lrtheory.ssl and lrtheory.ssl_eval (tiny models, few steps)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lrtheory import ssl, ssl_data, ssl_eval
from lrtheory.experiments import seed_everything, torch_generator


@pytest.fixture(scope="module")
def images():
    return ssl_data.load_digit_images(device="cpu")


# ----------------------------------------------------------------- augmentations

def test_images_are_scaled_to_unit_interval(images):
    assert images.X_train.shape[1:] == (1, 8, 8)
    assert float(images.X_train.min()) == 0.0 and float(images.X_train.max()) == 1.0
    assert images.X_train.shape[0] + images.X_test.shape[0] == 1797


def test_pure_shift_equals_reference(images):
    x = images.X_train[:12].double()
    views = ssl_data.augment(x, torch_generator(3), max_shift=2, min_crop_area=1.0, noise_std=0.0)
    # replay the generator to read the shifts that augment drew
    g = torch_generator(3)
    torch.rand(12, generator=g, dtype=x.dtype)
    torch.rand(12, 2, generator=g, dtype=x.dtype)
    shifts = torch.randint(-2, 3, (12, 2), generator=g)
    for i in range(12):
        want = ssl_data.shift_reference(x[i:i + 1], int(shifts[i, 1]), int(shifts[i, 0]))
        torch.testing.assert_close(views[i:i + 1], want, rtol=0, atol=1e-12)
    assert not torch.equal(views, x)  # some shift is non-zero


def test_identity_when_everything_is_off(images):
    x = images.X_train[:20].double()
    views = ssl_data.augment(x, torch_generator(0), max_shift=0, min_crop_area=1.0, noise_std=0.0)
    torch.testing.assert_close(views, x, rtol=0, atol=1e-12)


def test_noise_has_requested_std(images):
    x = images.X_train[:500].double()
    views = ssl_data.augment(x, torch_generator(1), max_shift=0, min_crop_area=1.0, noise_std=0.3)
    noise = views - x
    assert float(noise.std()) == pytest.approx(0.3, rel=0.02)
    assert abs(float(noise.mean())) < 0.01


def test_augment_is_seeded(images):
    x = images.X_train[:30]
    a = ssl_data.augment(x, torch_generator(5))
    b = ssl_data.augment(x, torch_generator(5))
    c = ssl_data.augment(x, torch_generator(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_crop_keeps_mass_inside_image(images):
    # zooming in (area < 1, no shift) can only lose ink at the border: the sum never grows much
    x = images.X_train[:50].double()
    views = ssl_data.augment(x, torch_generator(2), max_shift=0, min_crop_area=0.5, noise_std=0.0)
    assert views.shape == x.shape
    assert float(views.min()) >= 0.0 and float(views.max()) <= 1.0 + 1e-12


def test_augmentation_mean_of_noise_is_the_image(images):
    x = images.X_train[:40].double()
    m = ssl_data.augmentation_mean(x, torch_generator(4), 400, max_shift=0, min_crop_area=1.0, noise_std=0.2)
    # Monte Carlo error 0.2 / sqrt(400) = 0.01 per pixel
    assert float((m - x).abs().max()) < 0.06
    assert float((m - x).std()) == pytest.approx(0.01, rel=0.1)


def test_augment_argument_checks(images):
    x = images.X_train[:4]
    with pytest.raises(TypeError, match="generator"):
        ssl_data.augment(x, 0)
    with pytest.raises(ValueError, match="images"):
        ssl_data.augment(x.flatten(1), torch_generator(0))
    with pytest.raises(ValueError, match="min_crop_area"):
        ssl_data.augment(x, torch_generator(0), min_crop_area=0.0)
    with pytest.raises(ValueError, match="noise_std"):
        ssl_data.augment(x, torch_generator(0), noise_std=-1.0)
    with pytest.raises(ValueError, match="num_samples"):
        ssl_data.augmentation_mean(x, torch_generator(0), 0)


# ----------------------------------------------------------------- model and losses

def test_negative_cosine_matches_numpy(rng):
    p = rng.normal(size=(7, 5))
    z = rng.normal(size=(7, 5))
    want = -np.mean(np.sum(p * z, 1) / np.linalg.norm(p, axis=1) / np.linalg.norm(z, axis=1))
    got = ssl.negative_cosine(torch.tensor(p), torch.tensor(z))
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_stop_gradient_blocks_target_gradient():
    p = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    ssl.negative_cosine(p, z, stop_gradient=True).backward()
    assert z.grad is None and p.grad is not None
    ssl.negative_cosine(p, z, stop_gradient=False).backward()
    assert z.grad is not None


def _tiny(predictor="learned"):
    seed_everything(0)
    return ssl.SimSiam(in_dim=64, hidden_dim=16, out_dim=8, pred_hidden_dim=4, predictor=predictor).double()


def test_stop_gradient_equals_frozen_copy_of_target(images):
    # oracle: the stop-gradient loss has the gradient of a loss whose targets come from a frozen copy
    x1 = ssl_data.augment(images.X_train[:32].double(), torch_generator(0))
    x2 = ssl_data.augment(images.X_train[:32].double(), torch_generator(1))
    model = _tiny()
    frozen = copy.deepcopy(model)
    loss, _ = ssl.simsiam_loss(model, x1, x2, stop_gradient=True)
    grads = torch.autograd.grad(loss, model.encoder_parameters())
    twin = copy.deepcopy(model)
    with torch.no_grad():
        z1t, z2t = frozen.encode(x1), frozen.encode(x2)
    z1, p1 = twin(x1)
    z2, p2 = twin(x2)
    cos = torch.nn.functional.cosine_similarity
    loss_twin = -0.5 * (cos(p1, z2t, dim=1).mean() + cos(p2, z1t, dim=1).mean())
    grads_twin = torch.autograd.grad(loss_twin, twin.encoder_parameters())
    assert float(loss.detach()) == pytest.approx(float(loss_twin.detach()), rel=1e-12)
    for a, b in zip(grads, grads_twin):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    # and without the stop-gradient the gradient really differs
    loss_full, _ = ssl.simsiam_loss(model, x1, x2, stop_gradient=False)
    grads_full = torch.autograd.grad(loss_full, model.encoder_parameters())
    assert max(float((a - b).abs().max()) for a, b in zip(grads, grads_full)) > 1e-6


def test_mean_target_loss_is_squared_distance_of_unit_vectors(images):
    model = _tiny()
    x = images.X_train[:16].double()
    xv = ssl_data.augment(x, torch_generator(0))
    loss, z = ssl.mean_target_loss(model, xv, x)
    a = torch.nn.functional.normalize(model.encode(xv), dim=1)
    b = torch.nn.functional.normalize(model.encode(x), dim=1)
    assert float(loss.detach()) == pytest.approx(float(((a - b) ** 2).sum(1).mean().detach()), rel=1e-10)


def test_predictor_modes():
    assert isinstance(_tiny("none").predictor, torch.nn.Identity)
    assert _tiny("none").predictor_parameters() == []
    assert _tiny("fixed").predictor_parameters() == []
    assert len(_tiny("learned").predictor_parameters()) > 0
    with pytest.raises(ValueError, match="predictor"):
        ssl.SimSiam(predictor="frozen")


def test_collapse_std_reference_values():
    g = torch_generator(0)
    z = torch.randn(20000, 64, generator=g, dtype=torch.float64)
    assert ssl.collapse_std(z) == pytest.approx(1 / 8, rel=0.01)
    same = torch.ones(10, 1, dtype=torch.float64) * torch.randn(1, 64, generator=g, dtype=torch.float64)
    assert ssl.collapse_std(same) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="z"):
        ssl.collapse_std(torch.ones(1, 3))


def test_train_ssl_is_deterministic_and_keeps_fixed_predictor(images):
    x = images.X_train[:128]
    runs = []
    for _ in range(2):
        seed_everything(0)
        model = ssl.SimSiam(hidden_dim=16, out_dim=8, pred_hidden_dim=4, predictor="fixed")
        before = [p.detach().clone() for p in model.predictor.parameters()]
        hist = ssl.train_ssl(model, x, num_steps=6, seed=3, batch_size=32, device="cpu", eval_every=2)
        for a, b in zip(before, model.predictor.parameters()):
            assert torch.equal(a, b.detach().cpu())
        runs.append(hist)
    assert runs[0].loss == runs[1].loss
    h = runs[0].as_arrays()
    assert len(h["loss"]) == 6 and list(h["eval_step"]) == [0, 2, 4, 6]
    assert np.all(h["grad_predictor"] == 0.0) and np.all(h["grad_encoder"] > 0)


def test_train_ssl_mean_target_runs(images):
    seed_everything(0)
    model = ssl.SimSiam(hidden_dim=16, out_dim=8, pred_hidden_dim=4)
    hist = ssl.train_ssl(model, images.X_train[:64], num_steps=3, seed=0, batch_size=16,
                         objective="mean_target", stop_gradient=False, num_mean_samples=2, device="cpu")
    assert len(hist.loss) == 3 and all(0.0 <= v <= 4.0 for v in hist.loss)


def test_train_ssl_argument_checks(images):
    model = _tiny().float()
    with pytest.raises(ValueError, match="objective"):
        ssl.train_ssl(model, images.X_train[:8], num_steps=1, seed=0, objective="byol")
    with pytest.raises(ValueError, match="lr"):
        ssl.train_ssl(model, images.X_train[:8], num_steps=1, seed=0, lr=0.0)
    with pytest.raises(TypeError, match="model"):
        ssl.train_ssl(torch.nn.Linear(2, 2), images.X_train[:8], num_steps=1, seed=0)


# ----------------------------------------------------------------- evaluation

def test_knn_matches_sklearn(rng):
    from sklearn.neighbors import KNeighborsClassifier

    xtr, xte = rng.normal(size=(200, 6)), rng.normal(size=(80, 6))
    ytr = (xtr[:, 0] > 0).astype(int) + 2 * (xtr[:, 1] > 0)
    yte = (xte[:, 0] > 0).astype(int) + 2 * (xte[:, 1] > 0)
    for k in (1, 5, 8):
        clf = KNeighborsClassifier(k, metric="cosine", algorithm="brute").fit(xtr, ytr)
        want = float(np.mean(clf.predict(xte) == yte))
        got = ssl_eval.knn_accuracy(torch.tensor(xtr), torch.tensor(ytr), torch.tensor(xte), torch.tensor(yte), k=k)
        assert got == pytest.approx(want)


def test_linear_probe_matches_sklearn_ridge(rng):
    from sklearn.linear_model import RidgeClassifier

    xtr, xte = rng.normal(size=(300, 5)) * [1, 2, 3, 4, 5], rng.normal(size=(100, 5)) * [1, 2, 3, 4, 5]
    w = rng.normal(size=(5, 3))
    ytr, yte = np.argmax(xtr @ w, 1), np.argmax(xte @ w, 1)
    mu, sd = xtr.mean(0), xtr.std(0)
    clf = RidgeClassifier(alpha=2.0).fit((xtr - mu) / sd, ytr)
    want = float(np.mean(clf.predict((xte - mu) / sd) == yte))
    got = ssl_eval.linear_probe_accuracy(torch.tensor(xtr), torch.tensor(ytr), torch.tensor(xte),
                                         torch.tensor(yte), ridge=2.0)
    assert got == pytest.approx(want)
    assert got > 0.8


def test_embed_uses_eval_mode(images):
    model = _tiny().float()
    model.train()
    f = ssl_eval.embed(model.backbone, images.X_test[:10])
    assert f.shape == (10, 16) and f.dtype == torch.float64
    assert model.training  # restored
    with pytest.raises(ValueError, match="train_y"):
        ssl_eval.knn_accuracy(f, torch.zeros(3, dtype=torch.long), f, torch.zeros(10, dtype=torch.long))


# ------------------------------------------------------ rank-aware collapse metrics

def _batch_with_spectrum(sv, n, d, seed):
    """A centred (n, d) batch whose singular values are exactly ``sv`` (numpy QR, not torch)."""
    rng = np.random.default_rng(seed)
    k = len(sv)
    a = rng.normal(size=(n, k))
    a -= a.mean(0)                          # columns orthogonal to the ones vector: centred
    u, _ = np.linalg.qr(a)
    v, _ = np.linalg.qr(rng.normal(size=(d, k)))
    return torch.from_numpy(u @ np.diag(sv) @ v.T)


def test_effective_rank_of_rank_k_batches_is_k():
    for k in (1, 2, 5, 17):
        z = _batch_with_spectrum(np.full(k, 3.0), 200, 64, seed=k)
        assert ssl_eval.effective_rank(z) == pytest.approx(k, rel=1e-9)
        assert ssl_eval.top_pc_share(z) == pytest.approx(1.0 / k, rel=1e-9)


def test_effective_rank_matches_entropy_of_unequal_spectrum():
    sv = np.array([5.0, 2.0, 1.0, 0.5])
    p = sv / sv.sum()
    want = float(np.exp(-(p * np.log(p)).sum()))    # Roy & Vetterli's definition, by hand
    z = _batch_with_spectrum(sv, 100, 16, seed=3)
    assert ssl_eval.effective_rank(z) == pytest.approx(want, rel=1e-9)
    assert ssl_eval.top_pc_share(z) == pytest.approx(25.0 / (25 + 4 + 1 + 0.25), rel=1e-9)
    got = ssl_eval.singular_values(z).numpy()
    np.testing.assert_allclose(got[:4], sv, rtol=1e-9)


def test_antipodal_rank_one_is_seen_by_rank_not_by_std():
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(64, generator=gen, dtype=torch.float64)
    a = torch.where(torch.rand(4000, generator=gen) < 0.5, -1.0, 1.0).double() * (1 + torch.rand(4000, generator=gen))
    z = a[:, None] * v
    assert ssl_eval.effective_rank(z) == pytest.approx(1.0, abs=1e-9)
    assert ssl_eval.top_pc_share(z) == pytest.approx(1.0, abs=1e-12)
    # the std metric: |v_j|/|v| per channel, about E|g|/sqrt(d) = sqrt(2/pi)/8 on average
    want = float((v.abs() / v.norm()).mean()) * float(torch.sign(a).std())
    assert ssl.collapse_std(z) == pytest.approx(want, rel=1e-9)
    assert 0.08 < ssl.collapse_std(z) < 0.125


def test_isotropic_batch_has_full_rank():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(20000, 8, generator=gen, dtype=torch.float64)
    assert ssl_eval.effective_rank(z) > 7.9 and ssl_eval.effective_rank(z) <= 8.0 + 1e-12
    assert ssl_eval.top_pc_share(z) == pytest.approx(1 / 8, rel=0.05)


def test_identical_rows_have_no_rank():
    z = torch.ones(10, 4, dtype=torch.float64) * torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    assert ssl_eval.effective_rank(z) == 0.0
    assert np.isnan(ssl_eval.top_pc_share(z))
    # without centring the same batch is one direction: rank 1
    assert ssl_eval.effective_rank(z, center=False) == pytest.approx(1.0)


@pytest.mark.parametrize("fn", [ssl_eval.effective_rank, ssl_eval.top_pc_share, ssl_eval.singular_values])
def test_rank_metrics_reject_bad_input(fn):
    with pytest.raises(TypeError, match="z"):
        fn(np.ones((4, 3)))
    with pytest.raises(ValueError, match="z"):
        fn(torch.ones(1, 3))
    with pytest.raises(ValueError, match="z"):
        fn(torch.ones(5))
    with pytest.raises(ValueError, match="z"):
        fn(torch.tensor([[1.0, float("nan")], [0.0, 1.0]]))
