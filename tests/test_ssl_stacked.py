"""Tests of lrtheory.ssl_stacked and lrtheory.ssl_train against per-seed torch modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrtheory import ssl, ssl_data, ssl_eval, ssl_train
from lrtheory.experiments import seed_everything, torch_generator
from lrtheory.ssl_stacked import StackedSimSiam

SIZES = dict(hidden_dim=16, out_dim=8, pred_hidden_dim=4)


@pytest.fixture(scope="module")
def images():
    return ssl_data.load_digit_images(device="cpu").X_train[:96].double()


@pytest.mark.parametrize("predictor", ["learned", "none", "fixed", "linear"])
def test_stacked_forward_equals_each_seeds_module(images, predictor):
    model = StackedSimSiam([3, 7], predictor=predictor, **SIZES).double()
    x = images[:20]
    for train in (False, True):          # eval first: the train pass moves the running stats
        model.train(train)
        z, p = model(x.expand(2, *x.shape))
        for s, seed in enumerate((3, 7)):
            seed_everything(seed)
            ref = ssl.SimSiam(predictor=predictor, **SIZES).double().train(train)
            zr, pr = ref(x)
            torch.testing.assert_close(z[s], zr, rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(p[s], pr, rtol=1e-10, atol=1e-12)
            # the running statistics move exactly as BatchNorm1d's
            if train:
                got = model.unstack(s)
                torch.testing.assert_close(got.projector[1].running_var, ref.projector[1].running_var)


def _reference_run(seed, images, steps, bs, lr, ratio, stop_gradient=True):
    """SimSiam trained with nn.Module, the package's augment and the same generator draws."""
    seed_everything(seed)
    net = ssl.SimSiam(**SIZES).double()
    g = torch_generator(seed)
    enc = [*net.backbone.parameters(), *net.projector.parameters()]
    opt = torch.optim.SGD([{"params": enc, "lr": lr}, {"params": list(net.predictor.parameters()),
                                                       "lr": lr * ratio}], momentum=0.9, weight_decay=1e-4)
    order, pos, losses = torch.randperm(images.shape[0], generator=g), 0, []
    for _ in range(steps):
        if pos + bs > images.shape[0]:
            order, pos = torch.randperm(images.shape[0], generator=g), 0
        xb = images[order[pos:pos + bs]]
        pos += bs
        x1, x2 = ssl_data.augment(xb, g), ssl_data.augment(xb, g)
        loss, _ = ssl.simsiam_loss(net, x1, x2, stop_gradient=stop_gradient)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return net, np.array(losses)


@pytest.mark.parametrize("stop_gradient", [True, False])
def test_stacked_training_equals_per_seed_training(images, stop_gradient):
    model = StackedSimSiam([1, 2], **SIZES).double()
    hist = ssl_train.train_stacked(model, images, num_steps=5, batch_size=40, lr=0.05, predictor_lr_ratio=3.0,
                                   stop_gradient=stop_gradient, eval_every=2, eval_images=images[:30])
    for s, seed in enumerate((1, 2)):
        ref, losses = _reference_run(seed, images, 5, 40, 0.05, 3.0, stop_gradient)
        np.testing.assert_allclose(hist.loss[:, s], losses, rtol=1e-9)
        got = model.unstack(s).eval()
        ref.eval()
        torch.testing.assert_close(got.encode(images[:10]), ref.encode(images[:10]), rtol=1e-8, atol=1e-10)
    assert hist.eval_step.tolist() == [0, 2, 4, 5] and hist.eval_rank.shape == (4, 2)


def test_cosine_schedule_decays_only_the_encoder(images):
    model = StackedSimSiam([0], **SIZES).double()
    enc0 = [p.detach().clone() for p in model.part_parameters("backbone")]
    ssl_train.train_stacked(model, images, num_steps=1, batch_size=40, lr=0.05, encoder_schedule="cosine",
                            momentum=0.0, weight_decay=0.0, eval_every=5)
    # at step 0 the cosine factor is 1: the encoder moved by lr * gradient, not less
    assert any(not torch.equal(a, b) for a, b in zip(enc0, model.part_parameters("backbone")))
    with pytest.raises(ValueError, match="encoder_schedule"):
        ssl_train.train_stacked(model, images, num_steps=1, encoder_schedule="step")


def test_directpred_matrix_has_the_stated_eigenvalues():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    f = torch.from_numpy(q @ np.diag([4.0, 1.0, 0.0]) @ q.T)
    w = ssl_train.directpred_matrix(f, eps=0.1).numpy()
    np.testing.assert_allclose(w, q @ np.diag([1.1, 0.6, 0.1]) @ q.T, atol=1e-12)
    with pytest.raises(ValueError, match="f_hat"):
        ssl_train.directpred_matrix(torch.ones(2, 3))
    with pytest.raises(ValueError, match="eps"):
        ssl_train.directpred_matrix(f, eps=-1.0)


def test_directpred_sets_the_predictor_and_needs_a_linear_one(images):
    model = StackedSimSiam([0, 1], predictor="linear", **SIZES).double()
    ssl_train.train_stacked(model, images, num_steps=2, batch_size=40, directpred=True, eval_every=5)
    w = model.params["predictor_0_weight"].detach()
    torch.testing.assert_close(w, w.transpose(1, 2))          # U diag(p) U^T is symmetric
    lam = torch.linalg.eigvalsh(w)
    assert float(lam.min()) >= 0.1 - 1e-9 and float(lam.max()) == pytest.approx(1.1, abs=1e-9)
    with pytest.raises(ValueError, match="directpred"):
        ssl_train.train_stacked(StackedSimSiam([0], **SIZES), images.float(), num_steps=1, directpred=True)


def test_collapse_measures_and_scores(images):
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(8, generator=gen, dtype=torch.float64)
    a = torch.randn(50, generator=gen, dtype=torch.float64)
    z = torch.stack([a[:, None] * v, torch.randn(50, 8, generator=gen, dtype=torch.float64)])
    m = ssl_train.collapse_measures(z)
    assert m["rank"][0] == pytest.approx(1.0) and m["top_pc"][0] == pytest.approx(1.0)
    assert m["rank"][1] == pytest.approx(ssl_eval.effective_rank(z[1]))
    assert m["std"][1] == pytest.approx(ssl.collapse_std(z[1]))
    labels = torch.arange(96) % 10
    model = StackedSimSiam([0, 1], **SIZES).double()
    sc = ssl_train.score_stacked(model, (images[:60], labels[:60]), {"val": (images[60:], labels[60:])},
                                 collapse_images=images[:30])
    ref = model.unstack(1).eval()
    ftr, fva = ref.backbone(images[:60]), ref.backbone(images[60:])
    assert sc["knn_val"][1] == pytest.approx(ssl_eval.knn_accuracy(ftr, labels[:60], fva, labels[60:]))
    with pytest.raises(ValueError, match="z"):
        ssl_train.collapse_measures(torch.ones(2, 1, 3))


# ------------------------------------------------------------------ ssl_study

def test_offdiag_share_oracles():
    from lrtheory import ssl_study

    assert ssl_study.offdiag_share(np.diag([1.0, 2.0, 3.0])) == 0.0
    assert ssl_study.offdiag_share(np.array([[1.0, 1.0], [1.0, 1.0]])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="m"):
        ssl_study.offdiag_share(np.zeros((3, 3)))


def test_eigen_alignment_of_a_matrix_sharing_the_eigenvectors():
    from lrtheory import ssl_study

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    z = torch.from_numpy(rng.normal(size=(500, 6)) @ np.diag([6, 5, 4, 3, 2, 1.0]) @ q.T)
    f = (z.T @ z / z.shape[0]).numpy()
    _, u = np.linalg.eigh(f)
    w = torch.from_numpy(u @ np.diag(np.arange(1.0, 7.0)) @ u.T)       # same eigenvectors as F
    cos, off = ssl_study.eigen_alignment(w, z, k=4)
    assert cos == pytest.approx(1.0, abs=1e-10) and off == pytest.approx(0.0, abs=1e-20)
    cos_r, off_r = ssl_study.eigen_alignment(torch.from_numpy(rng.normal(size=(6, 6))), z, k=4)
    assert cos_r < 0.9 and off_r > 0.3


def test_variant_runner_is_train_stacked_plus_scores():
    from lrtheory import ssl_study

    data = ssl_data.load_digit_images(device="cpu", val_size=0.15)
    assert data.X_val.shape[0] == 270 and data.X_train.shape[0] + 270 + data.X_test.shape[0] == 1797
    keep = {}
    run = ssl_study.variant_runner(data, **ssl_study.VARIANTS["no predictor"], num_steps=3, batch_size=32,
                                   keep=keep)
    out = run(0.05, (0, 1))
    assert set(out) >= {"std", "rank", "top_pc", "loss", "knn_val", "lin_val", "knn_test", "lin_test"}
    assert all(v.shape == (2,) for v in out.values())
    net = StackedSimSiam([0, 1], predictor="none")
    hist = ssl_train.train_stacked(net, data.X_train, num_steps=3, batch_size=32, lr=0.05)
    np.testing.assert_allclose(out["loss"], hist.loss[-1:].mean(0), rtol=1e-6)
    assert keep[(0, 1)][0].predictor_mode == "none"
