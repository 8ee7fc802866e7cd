"""The optimizer matrix of issue 19: every book optimiser against the defects a review found.

Modelled on torch's ``OptimizerInfo`` tests, parametrised over every optimiser the
contract suite drives (``tests/test_optim_contract.py``; per-optimiser extras in
``tests/optim_specs.py``):

* hyperparameters in parameter groups are validated like the constructor's, at
  construction and in ``add_param_group``, and the error names the group and the
  hyperparameter; a refused group is not added;
* ``foreach`` is ``None``, ``True`` or ``False``; numpy scalars are accepted as
  hyperparameters; integer and complex parameters are refused at construction;
* float16, bfloat16 and float64 parameters keep their dtype on both paths;
* learned step sizes and scalar accumulators live in float32 or wider, move in
  bfloat16 as in float64, and keep their dtype through ``load_state_dict``;
* the multi-tensor path equals the per-tensor loop after a NaN or infinite gradient
  under every non-finite policy;
* :class:`~lrtheory.optim.NormalizedEGD` gives no NaN from finite inputs when the
  unnormalised mass underflows.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from lrtheory.optim import REGISTRY, NormalizedEGD, RMSpropScalar, check_hparam
from lrtheory.optim._nonfinite import NONFINITE_POLICIES, NonFiniteGradientError
from optim_specs import matrix_spec
from test_optim_contract import (
    NAMES,
    UNDER_TEST,
    assert_params_equal,
    assert_same_state,
    build,
    clone_params,
    floating_state,
    make_params,
    noise_sequence,
    run_closed_loop,
    set_closed_loop_grads,
    spec_of,
)

BAD_LRS = [(math.nan, ValueError), (-1.0, ValueError), (math.inf, ValueError), ("0.1", TypeError),
           (True, TypeError), (1 + 2j, TypeError), (None, TypeError)]


def _params(name, shapes=((3,), (2, 2)), seed=0, dtype=torch.float64):
    return make_params(list(shapes), positive=spec_of(name).positive, seed=seed, dtype=dtype)


def _centre(name):
    return 1.0 if spec_of(name).positive else 0.0


# --------------------------------------------------------------------------- group validation

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad, error", BAD_LRS, ids=[repr(b) for b, _ in BAD_LRS])
def test_group_lr_is_validated_at_construction(name, bad, error):
    a, b = _params(name, seed=1), _params(name, [(4,)], seed=2)
    with pytest.raises(error, match=r"param group 1\b.*\blr\b"):
        build(name, [{"params": a}, {"params": b, "lr": bad}])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad, error", BAD_LRS, ids=[repr(b) for b, _ in BAD_LRS])
def test_add_param_group_validates_and_adds_nothing_when_refused(name, bad, error):
    opt = build(name, _params(name, seed=3))
    with pytest.raises(error, match=r"param group 1\b.*\blr\b"):
        opt.add_param_group({"params": _params(name, [(4,)], seed=4), "lr": bad})
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("name", NAMES)
def test_every_declared_bad_hyperparameter_is_refused_in_a_group(name):
    bads = list(spec_of(name).bad_hparams) + list(matrix_spec(name).group_bad)
    for key, bad in bads:
        with pytest.raises((ValueError, TypeError), match=rf"param group 0\b.*\b{key}\b"):
            build(name, [{"params": _params(name, seed=5), key: bad}])


@pytest.mark.parametrize("name", NAMES)
def test_bad_group_policy_and_foreach_are_refused_at_construction(name):
    p = _params(name, seed=6)
    with pytest.raises(ValueError, match=r"param group 0\b.*\bnonfinite\b"):
        build(name, [{"params": p, "nonfinite": "sometimes"}])
    opt = build(name, p)
    with pytest.raises(ValueError, match=r"param group 1\b.*\bnonfinite\b"):
        opt.add_param_group({"params": _params(name, [(4,)], seed=7), "nonfinite": "never"})
    for bad in ("yes", 2, 1, 0.0):
        with pytest.raises(TypeError, match=r"param group 0\b.*\bforeach\b"):
            build(name, [{"params": _params(name, seed=8), "foreach": bad}])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", ["yes", 2, 1, 0, 0.5])
def test_foreach_accepts_only_none_true_false(name, bad):
    with pytest.raises(TypeError, match=r"\bforeach\b"):
        build(name, _params(name, seed=9), foreach=bad)


@pytest.mark.parametrize("name", NAMES)
def test_valid_group_values_are_normalised_and_used(name):
    """A numpy-scalar lr in a group is accepted, stored as a float, and gives the float run."""
    p_np, p_float = _params(name, seed=10), _params(name, seed=10)
    lr = float(spec_of(name).kwargs["lr"]) / 2
    opt_np = build(name, [{"params": p_np, "lr": np.float32(lr)}])
    opt_float = build(name, [{"params": p_float, "lr": float(np.float32(lr))}])
    assert type(opt_np.param_groups[0]["lr"]) is float
    noise = noise_sequence(p_np, 4, seed=11)
    run_closed_loop(opt_np, p_np, noise, centre=_centre(name))
    run_closed_loop(opt_float, p_float, noise, centre=_centre(name))
    assert_params_equal(p_np, p_float)


# --------------------------------------------------------------------------- scalars and parameters

@pytest.mark.parametrize("value", [np.float32(0.25), np.float64(0.25), np.int64(2), np.float16(0.5)])
def test_check_hparam_accepts_numpy_scalars(value):
    out = check_hparam("lr", value)
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value", [np.bool_(True), np.complex128(1 + 1j), np.float64(np.nan), np.array([0.1, 0.2])])
def test_check_hparam_refuses_numpy_non_reals(value):
    with pytest.raises((TypeError, ValueError), match=r"\blr\b"):
        check_hparam("lr", value)


@pytest.mark.parametrize("name", NAMES)
def test_numpy_scalar_hyperparameters_are_accepted(name):
    kwargs = {k: (np.float64(v) if isinstance(v, float) else v) for k, v in spec_of(name).kwargs.items()}
    opt = UNDER_TEST[name](_params(name, seed=12), **kwargs)
    assert all(type(opt.defaults[k]) is float for k, v in kwargs.items() if isinstance(v, np.floating))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.complex64])
def test_integer_and_complex_parameters_are_refused_naming_params(name, dtype):
    p = torch.ones(3, dtype=dtype)
    with pytest.raises(TypeError, match=r"\bparams\b") as info:
        build(name, [p])
    assert str(dtype).split(".")[-1] in str(info.value)


# --------------------------------------------------------------------------- dtypes

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_every_dtype_keeps_its_dtype_and_stays_finite(name, foreach, dtype):
    params = _params(name, seed=13, dtype=dtype)
    opt = build(name, params, foreach=foreach)
    run_closed_loop(opt, params, noise_sequence(params, 5, seed=14), centre=_centre(name))
    for p in params:
        assert p.dtype == dtype and bool(torch.isfinite(p).all())
    for st in opt.state.values():
        for key in matrix_spec(name).learned:
            assert st[key].dtype == torch.promote_types(dtype, torch.float32), key


def _fixed_gradient_run(name, dtype, foreach, steps=6, **extra):
    """Feed the same bfloat16-representable gradients whatever the dtype: learned state depends on them only."""
    gen = torch.Generator().manual_seed(15)
    grads = [[(1.0 + torch.rand(s, generator=gen, dtype=torch.float64)).to(torch.bfloat16).double()
              for s in [(3,), (2, 2)]] for _ in range(steps)]
    params = _params(name, seed=16, dtype=dtype)
    opt = build(name, params, foreach=foreach, **{**matrix_spec(name).moving, **extra})
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.to(dtype)
        opt.step()
    return opt, params


def _learned_names():
    return [n for n in NAMES if matrix_spec(n).learned]


@pytest.mark.parametrize("name", _learned_names())
@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("extra", [{}, {"per_coordinate": False}], ids=["default", "scalar"])
def test_learned_state_moves_in_bfloat16_as_in_float64(name, foreach, extra):
    if extra and name != "EGStepSize":
        pytest.skip("only EGStepSize has a per_coordinate switch")
    if name == "EGGainScale":
        pytest.skip("its scale reads the momentum buffer, kept in the parameter dtype: "
                    "test_gain_scale_moves_in_bfloat16 checks it with a tolerance")
    spec = matrix_spec(name)
    low, low_params = _fixed_gradient_run(name, torch.bfloat16, foreach, **extra)
    ref, ref_params = _fixed_gradient_run(name, torch.float64, foreach, **extra)
    for key in spec.learned:
        for p_low, p_ref in zip(low_params, ref_params):
            got, want = low.state[p_low][key], ref.state[p_ref][key]
            assert got.dtype == torch.float32, key
            torch.testing.assert_close(got.double(), want, rtol=2e-6, atol=0.0)
            if key in spec.initial:  # non-vacuous: it moved, by less than bfloat16 resolves
                change = float((want / spec.initial[key] - 1.0).abs().max())
                assert 0.0 < change < 2.0**-9, (key, change)


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_gain_scale_moves_in_bfloat16(foreach):
    """EGGainScale's per-tensor scale moves by less than bfloat16 resolves, as in float64.

    Oracle: the float64 run. The scale's signal (a cosine with the momentum buffer) reads
    a buffer held in the parameter dtype, so the two runs agree to the cosine's bfloat16
    rounding (a few per cent of the change), not to float32 rounding.
    """
    low, low_params = _fixed_gradient_run("EGGainScale", torch.bfloat16, foreach, scale_lr=1e-4)
    ref, ref_params = _fixed_gradient_run("EGGainScale", torch.float64, foreach, scale_lr=1e-4)
    for p_low, p_ref in zip(low_params, ref_params):
        got, want = low.state[p_low]["scale"], ref.state[p_ref]["scale"]
        assert got.dtype == torch.float32
        change = float(want) - 1.0
        assert 0.0 < abs(change) < 2.0**-9, change
        assert float(got) - 1.0 == pytest.approx(change, rel=5e-2)


def test_adagrad_norm_rate_is_not_rounded_through_bfloat16():
    """The rate reads the float32 accumulator as float32 (not back through the parameter dtype)."""
    low, _ = _fixed_gradient_run("AdaGradNorm", torch.bfloat16, True, steps=40)
    ref, _ = _fixed_gradient_run("AdaGradNorm", torch.float64, True, steps=40)
    assert low.last_lr()[0] == pytest.approx(ref.last_lr()[0], rel=1e-6)


def test_rmsprop_scalar_accumulator_does_not_depend_on_parameter_order():
    def run(order):
        gen = torch.Generator().manual_seed(17)
        a = torch.randn(5, generator=gen, dtype=torch.float64)
        b = torch.randn(3, generator=gen, dtype=torch.float64)
        pa, pb = a.to(torch.bfloat16).requires_grad_(True), b.float().requires_grad_(True)
        opt = RMSpropScalar([pa, pb][::order], lr=1e-2, alpha=0.999)
        for k in range(5):
            pa.grad = (a * (k + 1)).to(torch.bfloat16)
            pb.grad = (b * (k + 1)).float()
            opt.step()
        return opt.state[pa]["square_avg"], pa.detach().clone(), pb.detach().clone()

    fwd, rev = run(1), run(-1)
    assert fwd[0].dtype == torch.float32
    for x, y in zip(fwd, rev):
        assert torch.equal(x, y)


@pytest.mark.parametrize("name", NAMES)
def test_bfloat16_state_dict_round_trip_keeps_learned_dtype(name):
    params = _params(name, seed=18, dtype=torch.bfloat16)
    noise = noise_sequence(params, 8, seed=19)
    opt = build(name, params)
    run_closed_loop(opt, params, noise[:4], centre=_centre(name))
    saved = copy.deepcopy(opt.state_dict())
    resumed_params = clone_params(params)
    run_closed_loop(opt, params, noise[4:], centre=_centre(name))
    resumed = build(name, resumed_params)
    resumed.load_state_dict(saved)
    for st in resumed.state.values():
        for key in matrix_spec(name).learned:
            assert st[key].dtype == torch.float32, key
    run_closed_loop(resumed, resumed_params, noise[4:], centre=_centre(name))
    assert_params_equal(params, resumed_params)
    assert_same_state(floating_state(opt), floating_state(resumed))


# --------------------------------------------------------------------------- non-finite policies

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("policy", NONFINITE_POLICIES)
@pytest.mark.parametrize("bad_value", [math.nan, math.inf], ids=["nan", "inf"])
def test_paths_agree_after_a_nonfinite_gradient_under_every_policy(name, policy, bad_value):
    params = _params(name, SHAPES_SMALL, seed=20)
    noise = noise_sequence(params, 6, seed=21)
    runs = []
    for foreach in (False, True):
        ps = clone_params(params)
        opt = build(name, [{"params": ps, "nonfinite": policy}], foreach=foreach)
        run_closed_loop(opt, ps, noise[:3], centre=_centre(name))
        set_closed_loop_grads(ps, noise[3], centre=_centre(name))
        ps[1].grad.view(-1)[0] = bad_value
        if policy == "raise":
            with pytest.raises(NonFiniteGradientError):
                opt.step()
        else:
            opt.step()
        run_closed_loop(opt, ps, noise[4:], centre=_centre(name))
        runs.append((ps, floating_state(opt)))
    (loop, loop_state), (fast, fast_state) = runs
    for x, y in zip(loop, fast):
        torch.testing.assert_close(y, x, rtol=1e-10, atol=1e-12, equal_nan=True)
    for (ia, ka, va), (ib, kb, vb) in zip(loop_state, fast_state, strict=True):
        assert (ia, ka) == (ib, kb)
        if isinstance(va, torch.Tensor):
            torch.testing.assert_close(vb, va, rtol=1e-10, atol=1e-12, equal_nan=True)
    if policy == "ignore" and bad_value != bad_value and name in REGISTRY and name != "SignDescent":
        # torch.optim's behaviour: the NaN reaches a parameter or the state (it is not hidden);
        # SignDescent is the exception by construction: torch.sign(NaN) is 0, a zero step
        assert any(not bool(torch.isfinite(p).all()) for p in loop) or any(
            isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all())
            for _, _, v in loop_state)


SHAPES_SMALL = [(3,), (2, 2), ()]


# --------------------------------------------------------------------------- underflow

@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normalized_egd_survives_an_underflowing_mass(foreach, dtype):
    """θ = [0, 1], η = 1000, g = [0, 1]: θ ⊙ exp(−η(g − min g)) is [0, e⁻¹⁰⁰⁰] = [0, 0]; the answer is [0, 1]."""
    p = torch.tensor([0.0, 1.0], dtype=dtype, requires_grad=True)
    opt = NormalizedEGD([p], lr=1000.0, foreach=foreach)
    p.grad = torch.tensor([0.0, 1.0], dtype=dtype)
    opt.step()
    assert torch.equal(p.detach(), torch.tensor([0.0, 1.0], dtype=dtype))


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_normalized_egd_matches_float64_closed_form_under_float32_underflow(foreach):
    """Float32 parameters, exponents down to −900: compare with the float64 closed form w/Σw.

    The oracle shifts the exponent by its maximum over the entries with θ > 0 and
    works in float64, where e⁻⁹⁰⁰ is still representable (as a subnormal: it
    rounds to 0 beside the leading term, which is exactly what float32 should give).
    """
    gen = torch.Generator().manual_seed(22)
    for trial in range(20):
        n = 7
        theta = torch.rand(n, generator=gen, dtype=torch.float64) + 0.1
        theta[torch.randperm(n, generator=gen)[:3]] = 0.0  # zeros, often where g is smallest
        g = torch.randn(n, generator=gen, dtype=torch.float64)
        lr = 300.0
        theta32 = theta.float()
        expo = np.log(theta32.double().numpy(), where=theta32.numpy() > 0,
                      out=np.full(n, -np.inf)) - lr * g.float().double().numpy()
        w = np.exp(expo - expo.max())
        oracle = w / w.sum()
        p = theta32.clone().requires_grad_(True)
        opt = NormalizedEGD([p], lr=lr, foreach=foreach)
        p.grad = g.float()
        opt.step()
        assert bool(torch.isfinite(p).all()), trial
        # float32 exponents of size η·Δg ≈ 300 carry an absolute error ≈ 300 · 2⁻²⁴: relative 2e-5 in exp
        np.testing.assert_allclose(p.detach().double().numpy(), oracle, rtol=2e-4, atol=1e-7)


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_normalized_egd_survives_an_overflowing_mass(foreach):
    """Float32 θ = [3e38, 3e38] sums to inf; the step must still return [½, ½] for equal gradients."""
    p = torch.full((2,), 3e38, dtype=torch.float32, requires_grad=True)
    opt = NormalizedEGD([p], lr=0.1, foreach=foreach)
    p.grad = torch.zeros(2)
    opt.step()
    assert torch.equal(p.detach(), torch.full((2,), 0.5))
