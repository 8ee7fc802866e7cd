"""Unit tests of :mod:`lrtheory.optim._base` (check_hparam and the BookOptimizer bookkeeping)
and of the non-finite helpers in :mod:`lrtheory.optim._nonfinite`."""

from __future__ import annotations

import math

import pytest
import torch

from lrtheory.optim._base import BookOptimizer, check_hparam
from lrtheory.optim._nonfinite import (
    NONFINITE_POLICIES,
    NonFiniteGradientError,
    all_finite,
    check_nonfinite_policy,
    first_nonfinite,
)


# ------------------------------------------------------------------------------ check_hparam
@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (0.1, {}, 0.1),
        (0, {}, 0.0),
        (3, {"low": None}, 3.0),
        (-2.5, {"low": None}, -2.5),
        (0.0, {"low": 0.0, "low_inclusive": True}, 0.0),
        (1.0, {"high": 1.0}, 1.0),
        (torch.tensor(0.25), {}, 0.25),
        (torch.tensor([0.5]), {}, 0.5),
    ],
)
def test_check_hparam_accepts(value, kwargs, expected):
    out = check_hparam("lr", value, **kwargs)
    assert isinstance(out, float) and out == expected


@pytest.mark.parametrize(
    "value, kwargs, fragment",
    [
        (-1.0, {}, ">= 0.0"),
        (0.0, {"low_inclusive": False}, "> 0.0"),
        (1.0, {"high": 1.0, "high_inclusive": False}, "< 1.0"),
        (1.5, {"high": 1.0}, "<= 1.0"),
        (math.nan, {}, "finite"),
        (math.inf, {"low": None}, "finite"),
        (-math.inf, {"low": None}, "finite"),
    ],
)
def test_check_hparam_value_errors_name_the_argument(value, kwargs, fragment):
    with pytest.raises(ValueError, match=r"Invalid alpha") as info:
        check_hparam("alpha", value, **kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1], torch.ones(2), 1 + 2j])
def test_check_hparam_type_errors_name_the_argument(value):
    with pytest.raises(TypeError, match=r"Invalid eps"):
        check_hparam("eps", value)


# ------------------------------------------------------------------------------ BookOptimizer
class Recorder(BookOptimizer):
    """p <- p - lr * g on either path; records what the base class hands over."""

    def __init__(self, params, lr=0.1, *, foreach=None):
        super().__init__(params, {"lr": check_hparam("lr", lr), "foreach": foreach})
        self.init_calls: list[tuple[int, ...]] = []
        self.calls: list[tuple[int, bool]] = []

    def _init_state(self, p, group):
        self.init_calls.append(tuple(p.shape))
        return {"step": 0}

    def _group_step(self, group, params, grads, states, foreach):
        self.calls.append((len(params), foreach))
        for s in states:
            s["step"] += 1
        if foreach:
            torch._foreach_add_(params, grads, alpha=-group["lr"])
        else:
            for p, g in zip(params, grads):
                p.add_(g, alpha=-group["lr"])


def _params(*shapes):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(s, generator=gen, dtype=torch.float64, requires_grad=True) for s in shapes]


def test_defaults_and_param_groups():
    ps = _params((2,), (3,))
    opt = Recorder([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1)
    assert opt.defaults["foreach"] is None
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all("foreach" in g for g in opt.param_groups)


def test_step_moves_params_and_creates_state_once():
    ps = _params((2,), (3, 2))
    opt = Recorder(ps, lr=0.1)
    before = [p.detach().clone() for p in ps]
    for p in ps:
        p.grad = torch.ones_like(p)
    assert opt.step() is None
    opt.step()
    for p, b in zip(ps, before):
        torch.testing.assert_close(p.detach(), b - 0.2, rtol=0, atol=1e-15)
    assert sorted(opt.init_calls) == [(2,), (3, 2)]  # lazily, once per tensor
    assert [opt.state[p]["step"] for p in ps] == [2, 2]


@pytest.mark.parametrize("foreach, expected", [(None, True), (True, True), (False, False)])
def test_foreach_flag_selects_the_path(foreach, expected):
    ps = _params((2,))
    ps[0].grad = torch.ones_like(ps[0])
    opt = Recorder(ps, foreach=foreach)
    opt.step()
    assert opt.calls == [(1, expected)]


def test_parameters_without_grad_are_not_handed_over():
    ps = _params((2,), (3,), (4,))
    ps[0].grad = torch.ones_like(ps[0])
    ps[2].grad = torch.ones_like(ps[2])
    before = ps[1].detach().clone()
    opt = Recorder(ps)
    opt.step()
    assert opt.calls == [(2, True)]
    assert torch.equal(ps[1].detach(), before)
    assert ps[1] not in opt.state or len(opt.state[ps[1]]) == 0


def test_group_without_any_grad_is_not_stepped():
    ps = _params((2,), (3,))
    ps[1].grad = torch.ones_like(ps[1])
    opt = Recorder([{"params": ps[:1]}, {"params": ps[1:]}])
    opt.step()
    assert opt.calls == [(1, True)]


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    ps = _params((3,))
    opt = Recorder(ps, lr=0.1)
    seen = []

    def closure():
        seen.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = (ps[0] ** 2).sum()
        loss.backward()
        return loss

    start = ps[0].detach().clone()
    loss = opt.step(closure)
    assert seen == [True]
    assert torch.equal(loss.detach(), (start**2).sum())
    torch.testing.assert_close(ps[0].detach(), start - 0.1 * 2 * start, rtol=0, atol=1e-15)


def test_step_itself_runs_without_grad():
    ps = _params((2,))
    ps[0].grad = torch.ones_like(ps[0])
    opt = Recorder(ps)
    opt.step()
    assert ps[0].grad_fn is None and ps[0].requires_grad


def test_sparse_gradient_is_refused_naming_the_optimiser():
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.sparse_coo_tensor(torch.tensor([[1]]), torch.tensor([1.0]), (4,), check_invariants=True)
    with pytest.raises(RuntimeError, match=r"Recorder does not support sparse gradients"):
        Recorder([p]).step()


def test_complex_parameter_is_refused_naming_the_optimiser():
    p = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    with pytest.raises(TypeError, match=r"Recorder: params\[0\] of param group 0 .*complex"):
        Recorder([p])  # refused when the group is added, not at the first step


def test_state_dict_round_trip_of_the_base_bookkeeping():
    ps = _params((2,))
    ps[0].grad = torch.ones_like(ps[0])
    opt = Recorder(ps, lr=0.3)
    opt.step()
    sd = opt.state_dict()
    other = Recorder(_params((2,)), lr=0.1)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.3
    assert other.state_dict()["state"] == {0: {"step": 1}}


# ------------------------------------------------------------------------------ _nonfinite
def test_nonfinite_policy_check():
    for policy in NONFINITE_POLICIES:
        assert check_nonfinite_policy(policy) == policy
    with pytest.raises(ValueError, match="nonfinite"):
        check_nonfinite_policy("never")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_all_finite_detects_every_kind_of_bad_entry(dtype, bad):
    ts = [torch.ones(3, dtype=dtype), torch.zeros(2, 2, dtype=dtype), torch.tensor(2.0, dtype=dtype)]
    assert all_finite(ts) and first_nonfinite(ts) is None
    ts[1][1, 0] = bad
    assert not all_finite(ts)
    assert first_nonfinite(ts) == 1


def test_all_finite_has_no_false_alarm_from_overflow():
    big = torch.full((1000,), 3.0e38, dtype=torch.float32)
    half = torch.full((10,), 3.0e4, dtype=torch.float16)
    for t in (big, half):  # finite entries whose norm overflows: the fast path alone would be fooled
        assert math.isinf(float(torch._foreach_norm([t])[0]))
        assert all_finite([t])
    assert not all_finite([half, torch.tensor([1.0, math.nan])])
    assert all_finite([]) and all_finite([torch.empty(0)])


def test_nonfinite_error_is_a_floating_point_error():
    assert issubclass(NonFiniteGradientError, FloatingPointError)
