"""The contract every torch optimiser of :mod:`lrtheory.optim` must pass.

One suite, parametrised over :data:`lrtheory.optim.REGISTRY` (the optax model:
every optimiser meets the same target problems and the same bookkeeping
checks).  The module also registers one small optimiser of its own,
:class:`ContractSGD` (SGD with heavy-ball momentum on ``BookOptimizer``), so
that the suite is exercised even when the registry is empty, and so that a
failure can be told apart from a failure of the suite itself: ContractSGD is
checked against ``torch.optim.SGD``.

Per-optimiser settings live in :data:`SPECS` (name -> :class:`Spec`); an
optimiser without an entry gets :data:`DEFAULT_SPEC`.  A spec gives the
construction keyword arguments used on the contract problems, the
hyperparameters to vary and to break, the ``torch.optim`` settings it must
coincide with, whether its parameters must stay positive (exponentiated
gradient descent), and the contract items that do not apply to it (with the
reason, which the skip message shows).

Contract items (the names used in ``Spec.unsupported``):

``quadratic``, ``rosenbrock``
    the loss falls to at most half its starting value (both problems have
    minimum 0) within the spec's number of steps;
``groups``
    two parameter groups with different hyperparameters behave exactly like
    two separate optimisers, and the per-group value is actually used;
``state_dict``
    saving after k steps (also through ``torch.save``) and loading into a
    fresh optimiser continues bit for bit;
``closure``, ``no_grad_skip``
    ``step(closure)`` returns the closure's loss and equals a plain step;
    parameters without a gradient are neither moved nor given state;
``sparse``, ``complex``
    refused with an error that says so, at construction (``ValueError`` or
    ``TypeError``) or at the step (``RuntimeError``, the base class's
    refusal); declare them unsupported here only if the optimiser supports
    them and has its own tests;
``dtypes``
    float32, float64 and bfloat16 parameters keep their dtype, give finite
    results close to the float64 trajectory, on both paths; model-sized
    buffers keep the parameter dtype, the entries of ``wide_state`` (learned
    step sizes, accumulators) float32 or wider (more in ``test_optim_matrix.py``);
``hparams``
    each bad hyperparameter raises ``ValueError`` naming it;
``foreach``
    the multi-tensor path equals the per-tensor reference loop in float64
    over many steps and many tensor shapes (including 0-d), and in a group
    that mixes float32 and float64;
``nonfinite``
    a NaN or infinite gradient follows the group's ``"nonfinite"`` policy
    (see :mod:`lrtheory.optim._nonfinite`): ``"skip"`` leaves the group
    bit-identical, ``"raise"`` raises before anything moves;
``torch_equivalence``
    each ``Spec.torch_equivalents`` entry matches ``torch.optim``.
"""

from __future__ import annotations

import copy
import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pytest
import torch

from lrtheory.optim import REGISTRY, BookOptimizer, check_hparam

# ------------------------------------------------------------------------------------------
# A small optimiser of the suite's own: SGD with heavy-ball momentum, both paths.


def contract_sgd_update(param: torch.Tensor, grad: torch.Tensor, buf: torch.Tensor, lr: float, momentum: float) -> None:
    """In place: buf <- momentum * buf + grad; param <- param - lr * buf."""
    buf.mul_(momentum).add_(grad)
    param.add_(buf, alpha=-lr)


def contract_sgd_update_foreach(params, grads, bufs, lr: float, momentum: float) -> None:
    """Multi-tensor :func:`contract_sgd_update`."""
    torch._foreach_mul_(bufs, momentum)
    torch._foreach_add_(bufs, grads)
    torch._foreach_add_(params, bufs, alpha=-lr)


class ContractSGD(BookOptimizer):
    """SGD with momentum (no dampening, no Nesterov); equals ``torch.optim.SGD`` there."""

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.0, *, foreach: bool | None = None) -> None:
        defaults = {
            "lr": check_hparam("lr", lr),
            "momentum": check_hparam("momentum", momentum, high=1.0, high_inclusive=False),
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"momentum_buffer": torch.zeros_like(p, memory_format=torch.preserve_format)}

    def _group_step(self, group, params, grads, states, foreach) -> None:
        bufs = [s["momentum_buffer"] for s in states]
        if foreach:
            contract_sgd_update_foreach(params, grads, bufs, group["lr"], group["momentum"])
        else:
            for p, g, b in zip(params, grads, bufs):
                contract_sgd_update(p, g, b, group["lr"], group["momentum"])


# ------------------------------------------------------------------------------------------
# The spec table.


@dataclass(frozen=True)
class Equivalence:
    """``cls(**kwargs)`` must coincide with ``torch_cls(**torch_kwargs)``."""

    torch_cls: type[torch.optim.Optimizer]
    kwargs: Mapping[str, Any]
    torch_kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Spec:
    """How the contract suite drives one optimiser."""

    kwargs: Mapping[str, Any] = field(default_factory=lambda: {"lr": 1e-2})
    rosenbrock_kwargs: Mapping[str, Any] | None = None  # overrides for the Rosenbrock run
    quadratic_steps: int = 300
    rosenbrock_steps: int = 600
    positive: bool = False  # parameters must stay positive: all contract problems start (and end) there
    group_hparam: tuple[str, float, float] = ("lr", 1e-2, 3e-2)  # (name, value group 0, value group 1)
    bad_hparams: tuple[tuple[str, Any], ...] = (("lr", -1.0), ("lr", math.nan))
    torch_equivalents: tuple[Equivalence, ...] = ()
    unsupported: Mapping[str, str] = field(default_factory=dict)  # contract item -> reason


DEFAULT_SPEC = Spec()

SPECS: dict[str, Spec] = {
    "ContractSGD": Spec(
        kwargs={"lr": 0.05, "momentum": 0.5},
        rosenbrock_kwargs={"lr": 1e-3, "momentum": 0.5},
        bad_hparams=(("lr", -1.0), ("momentum", 1.0), ("momentum", -0.1)),
        torch_equivalents=(
            Equivalence(torch.optim.SGD, {"lr": 0.05, "momentum": 0.5}, {"lr": 0.05, "momentum": 0.5}),
            Equivalence(torch.optim.SGD, {"lr": 0.1}, {"lr": 0.1}),
        ),
    ),
    "SignDescent": Spec(kwargs={"lr": 1e-2}, rosenbrock_kwargs={"lr": 2e-3}),
    "RMSpropCoordinate": Spec(
        kwargs={"lr": 1e-2},
        rosenbrock_kwargs={"lr": 2e-3},
        bad_hparams=(("lr", -1.0), ("alpha", 1.0), ("eps", -1e-8), ("initial_accumulator_value", -1.0)),
        torch_equivalents=(
            Equivalence(
                torch.optim.RMSprop,
                {"lr": 1e-2, "alpha": 0.9, "eps": 1e-6, "eps_inside": False},
                {"lr": 1e-2, "alpha": 0.9, "eps": 1e-6},
            ),
            Equivalence(torch.optim.RMSprop, {"lr": 3e-3, "alpha": 0.99, "eps": 0.0}, {"lr": 3e-3, "alpha": 0.99, "eps": 0.0}),
        ),
    ),
    "RMSpropScalar": Spec(
        kwargs={"lr": 2e-2},
        rosenbrock_kwargs={"lr": 2e-3},
        bad_hparams=(("lr", -1.0), ("alpha", 1.0), ("eps", -1e-8), ("initial_accumulator_value", -1.0)),
    ),
    "AdaGradNorm": Spec(
        kwargs={"lr": 1.0},
        rosenbrock_kwargs={"lr": 0.1},
        bad_hparams=(("lr", -1.0), ("eps", -1.0), ("initial_accumulator_value", -1.0), ("weight_decay", -0.1)),
    ),
    "EGD": Spec(kwargs={"lr": 0.1}, rosenbrock_kwargs={"lr": 1e-3}, positive=True, group_hparam=("lr", 0.1, 0.3)),
    "NormalizedEGD": Spec(
        kwargs={"lr": 0.1},
        positive=True,
        group_hparam=("lr", 0.1, 0.3),
        unsupported={
            "quadratic": "its iterates live on the probability simplex, where the contract problems' minima are not",
            "rosenbrock": "its iterates live on the probability simplex, where the contract problems' minima are not",
        },
    ),
    "EGStepSize": Spec(
        kwargs={"lr": 0.05, "meta_lr": 0.01},
        rosenbrock_kwargs={"lr": 1e-3, "meta_lr": 1e-5, "nu_max": 10.0},
        bad_hparams=(("lr", -1.0), ("meta_lr", -0.1), ("momentum", 1.0), ("eps", -1.0), ("init_nu", 0.0),
                     ("direction", "newton"), ("nu_max", -1.0)),
        torch_equivalents=(
            Equivalence(torch.optim.SGD, {"lr": 0.05, "meta_lr": 0.0}, {"lr": 0.05}),
            Equivalence(torch.optim.SGD, {"lr": 0.02, "meta_lr": 0.0, "direction": "momentum", "momentum": 0.9},
                        {"lr": 0.02, "momentum": 0.9}),
            Equivalence(torch.optim.Adam, {"lr": 0.01, "meta_lr": 0.0, "direction": "adam", "betas": (0.8, 0.95)},
                        {"lr": 0.01, "betas": (0.8, 0.95)}),
        ),
    ),
    "EGGainScale": Spec(
        kwargs={"lr": 0.05, "gain_lr": 0.05, "scale_lr": 0.05},
        rosenbrock_kwargs={"lr": 1e-4, "gain_lr": 0.01, "scale_lr": 0.01},
        bad_hparams=(("lr", -1.0), ("momentum", 1.0), ("gain_lr", -0.1), ("scale_lr", math.nan),
                     ("grad_avg", 1.0), ("gain_min", 0.0), ("gain_max", 0.5), ("scale_min", 2.0)),
        torch_equivalents=(
            Equivalence(torch.optim.SGD, {"lr": 0.02, "gain_lr": 0.0, "scale_lr": 0.0},
                        {"lr": 0.02, "momentum": 0.9}),
        ),
    ),
    "HypergradientSGD": Spec(
        kwargs={"lr": 0.05, "hyper_lr": 1e-4},
        rosenbrock_kwargs={"lr": 1e-3, "hyper_lr": 1e-7},
        bad_hparams=(("lr", -1.0), ("hyper_lr", -1e-4)),
        torch_equivalents=(Equivalence(torch.optim.SGD, {"lr": 0.05, "hyper_lr": 0.0}, {"lr": 0.05}),),
    ),
}

ANNOUNCED = {
    "SignDescent", "RMSpropScalar", "RMSpropCoordinate", "AdaGradNorm",
    "EGD", "NormalizedEGD", "EGStepSize", "HypergradientSGD", "EGGainScale",
}  # optimisers announced for the registry; their specs may exist before they are registered

LOCAL_OPTIMIZERS: dict[str, type[BookOptimizer]] = {"ContractSGD": ContractSGD}
UNDER_TEST: dict[str, type[BookOptimizer]] = {**LOCAL_OPTIMIZERS, **REGISTRY}
NAMES = sorted(UNDER_TEST)


def spec_of(name: str) -> Spec:
    return SPECS.get(name, DEFAULT_SPEC)


def require(name: str, item: str) -> Spec:
    """The spec of ``name``, skipping the test if it declares ``item`` unsupported."""
    spec = spec_of(name)
    if item in spec.unsupported:
        pytest.skip(f"{name} does not take part in contract item {item!r}: {spec.unsupported[item]}")
    return spec


def build(name: str, params, **overrides) -> torch.optim.Optimizer:
    spec = spec_of(name)
    return UNDER_TEST[name](params, **{**spec.kwargs, **overrides})


# ------------------------------------------------------------------------------------------
# Problems and helpers (all deterministic).

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 5), (17, 3)]


def make_params(shapes, *, positive: bool, seed: int, dtype=torch.float64) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for shape in shapes:
        t = torch.rand(shape, generator=gen, dtype=torch.float64) + 0.5 if positive else torch.randn(shape, generator=gen, dtype=torch.float64)
        out.append(t.to(dtype).requires_grad_(True))
    return out


def clone_params(params) -> list[torch.Tensor]:
    return [p.detach().clone().requires_grad_(True) for p in params]


def noise_sequence(params, num_steps: int, seed: int) -> list[list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    return [[torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params] for _ in range(num_steps)]


def set_closed_loop_grads(params, noise, *, centre: float) -> None:
    """grad = 0.7 (p - centre) + 0.1 noise: a gradient that depends on where the parameters are."""
    for p, n in zip(params, noise):
        p.grad = (0.7 * (p.detach() - centre) + 0.1 * n.to(p.dtype)).to(p.dtype)


def run_closed_loop(opt, params, noise, *, centre: float) -> None:
    for n in noise:
        set_closed_loop_grads(params, n, centre=centre)
        opt.step()


def quadratic_problem(positive: bool, seed: int = 7):
    """f(theta) = 1/2 (theta - c)^T A (theta - c) over two tensors (7 numbers), min 0."""
    gen = torch.Generator().manual_seed(seed)
    dim = 7
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen, dtype=torch.float64))
    eigs = torch.linspace(0.5, 4.0, dim, dtype=torch.float64)
    a = q @ torch.diag(eigs) @ q.T
    c = torch.rand(dim, generator=gen, dtype=torch.float64) + 0.5 if positive else torch.randn(dim, generator=gen, dtype=torch.float64)

    def loss_fn(params):
        theta = torch.cat([p.reshape(-1).to(torch.float64) for p in params])
        d = theta - c
        return 0.5 * d @ (a @ d)

    return loss_fn, [(2, 2), (3,)]


def rosenbrock_loss(params):
    (theta,) = params
    x, y = theta.to(torch.float64)[0], theta.to(torch.float64)[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def descend(opt, params, loss_fn, num_steps: int) -> float:
    for _ in range(num_steps):
        opt.zero_grad()
        loss_fn(params).backward()
        opt.step()
    with torch.no_grad():
        return float(loss_fn(params))


def floating_state(opt) -> list[tuple[int, str, Any]]:
    """Every state entry of ``opt``, in a comparable order (tensors cloned)."""
    out = []
    for i, (p, st) in enumerate(opt.state.items()):
        for k in sorted(st):
            v = st[k]
            out.append((i, k, v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)))
    return out


def assert_same_state(a, b, *, exact: bool = True, rtol: float = 0.0, atol: float = 0.0) -> None:
    assert len(a) == len(b)
    for (ia, ka, va), (ib, kb, vb) in zip(a, b):
        assert (ia, ka) == (ib, kb)
        if isinstance(va, torch.Tensor):
            assert isinstance(vb, torch.Tensor), ka
            if exact:
                assert torch.equal(va, vb), f"state {ka!r} of tensor {ia} differs"
            else:
                torch.testing.assert_close(va, vb, rtol=rtol, atol=atol)
        else:
            assert va == vb, f"state {ka!r} of tensor {ia}: {va!r} != {vb!r}"


def assert_params_equal(xs, ys) -> None:
    for x, y in zip(xs, ys, strict=True):
        assert torch.equal(x.detach(), y.detach())


# ------------------------------------------------------------------------------------------
# The suite.

pytestmark = pytest.mark.filterwarnings("error")


def test_suite_sees_the_registry():
    """Every registered optimiser is under test, is a BookOptimizer, and every spec names a real optimiser."""
    assert set(REGISTRY) <= set(UNDER_TEST)
    for name, cls in UNDER_TEST.items():
        assert issubclass(cls, BookOptimizer), name
    assert set(SPECS) <= set(UNDER_TEST) | ANNOUNCED, "a spec names no optimiser (typo?)"


@pytest.mark.parametrize("name", NAMES)
def test_decreases_quadratic(name):
    spec = require(name, "quadratic")
    loss_fn, shapes = quadratic_problem(spec.positive)
    params = make_params(shapes, positive=spec.positive, seed=1)
    start = float(loss_fn(params).detach())
    final = descend(build(name, params), params, loss_fn, spec.quadratic_steps)
    assert math.isfinite(final)
    assert final <= 0.5 * start, f"{name}: quadratic loss {start:.4g} -> {final:.4g}"


@pytest.mark.parametrize("name", NAMES)
def test_decreases_rosenbrock(name):
    spec = require(name, "rosenbrock")
    start_point = [0.3, 0.6] if spec.positive else [-0.8, 1.2]
    params = [torch.tensor(start_point, dtype=torch.float64, requires_grad=True)]
    start = float(rosenbrock_loss(params).detach())
    opt = build(name, params, **(spec.rosenbrock_kwargs or {}))
    final = descend(opt, params, rosenbrock_loss, spec.rosenbrock_steps)
    assert math.isfinite(final)
    assert final <= 0.5 * start, f"{name}: Rosenbrock loss {start:.4g} -> {final:.4g}"


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_are_independent_optimisers(name):
    spec = require(name, "groups")
    key, v0, v1 = spec.group_hparam
    a = make_params([(3,), (2, 2)], positive=spec.positive, seed=2)
    b = make_params([(4,)], positive=spec.positive, seed=3)
    noise = noise_sequence(a + b, 12, seed=4)
    centre = 1.0 if spec.positive else 0.0

    joint_a, joint_b = clone_params(a), clone_params(b)
    joint = build(name, [{"params": joint_a, key: v0}, {"params": joint_b, key: v1}])
    run_closed_loop(joint, joint_a + joint_b, noise, centre=centre)

    solo_a, solo_b = clone_params(a), clone_params(b)
    opt_a, opt_b = build(name, solo_a, **{key: v0}), build(name, solo_b, **{key: v1})
    for n in noise:
        set_closed_loop_grads(solo_a + solo_b, n, centre=centre)
        opt_a.step()
        opt_b.step()
    for x, y in zip(joint_a + joint_b, solo_a + solo_b):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)

    # the group's own value is used: with group 1 at v0 instead, group 1 ends elsewhere
    same_a, same_b = clone_params(a), clone_params(b)
    same = build(name, [{"params": same_a, key: v0}, {"params": same_b, key: v0}])
    run_closed_loop(same, same_a + same_b, noise, centre=centre)
    assert_params_equal(same_a, joint_a)
    assert not torch.allclose(same_b[0], joint_b[0], rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("through_bytes", [False, True], ids=["deepcopy", "torch.save"])
def test_state_dict_round_trip_continues_bit_for_bit(name, through_bytes):
    spec = require(name, "state_dict")
    params = make_params([(3,), (2, 3), ()], positive=spec.positive, seed=5)
    noise = noise_sequence(params, 12, seed=6)
    centre = 1.0 if spec.positive else 0.0
    opt = build(name, params)
    run_closed_loop(opt, params, noise[:6], centre=centre)

    saved = opt.state_dict()
    if through_bytes:
        buffer = io.BytesIO()
        torch.save(saved, buffer)
        buffer.seek(0)
        saved = torch.load(buffer, weights_only=True)
    else:
        saved = copy.deepcopy(saved)
    resumed_params = clone_params(params)

    run_closed_loop(opt, params, noise[6:], centre=centre)

    resumed = build(name, resumed_params)
    resumed.load_state_dict(saved)
    run_closed_loop(resumed, resumed_params, noise[6:], centre=centre)
    assert_params_equal(params, resumed_params)
    assert_same_state(floating_state(opt), floating_state(resumed))


@pytest.mark.parametrize("name", NAMES)
def test_step_with_closure(name):
    spec = require(name, "closure")
    loss_fn, shapes = quadratic_problem(spec.positive)
    p_closure = make_params(shapes, positive=spec.positive, seed=8)
    p_plain = clone_params(p_closure)
    opt_closure, opt_plain = build(name, p_closure), build(name, p_plain)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt_closure.zero_grad()
        loss = loss_fn(p_closure)
        loss.backward()
        return loss

    for _ in range(3):
        opt_plain.zero_grad()
        expected = loss_fn(p_plain)
        expected.backward()
        opt_plain.step()
        returned = opt_closure.step(closure)
        assert isinstance(returned, torch.Tensor) and torch.equal(returned.detach(), expected.detach())
    assert calls == [True, True, True]
    assert_params_equal(p_closure, p_plain)
    assert opt_plain.step() is None


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_grad_are_skipped(name):
    spec = require(name, "no_grad_skip")
    used = make_params([(3,), (2, 2)], positive=spec.positive, seed=9)
    unused = make_params([(4,)], positive=spec.positive, seed=10)[0]
    before = unused.detach().clone()
    opt = build(name, used + [unused])
    noise = noise_sequence(used, 4, seed=11)
    centre = 1.0 if spec.positive else 0.0
    run_closed_loop(opt, used, noise[:2], centre=centre)
    assert torch.equal(unused.detach(), before)
    assert len(opt.state[unused]) == 0
    # a parameter whose grad goes back to None stops moving
    frozen = used[1].detach().clone()
    set_closed_loop_grads(used, noise[2], centre=centre)
    used[1].grad = None
    opt.step()
    assert torch.equal(used[1].detach(), frozen)
    assert not torch.equal(used[0].detach(), make_params([(3,), (2, 2)], positive=spec.positive, seed=9)[0].detach())


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradient_is_refused(name):
    spec = require(name, "sparse")
    p = make_params([(5,)], positive=spec.positive, seed=12)[0]
    p.grad = torch.sparse_coo_tensor(torch.tensor([[1, 3]]), torch.tensor([1.0, -2.0], dtype=p.dtype), (5,), check_invariants=True)
    with pytest.raises((RuntimeError, ValueError, TypeError), match="sparse"):  # at construction or at the step
        build(name, [p]).step()


@pytest.mark.parametrize("name", NAMES)
def test_complex_parameter_is_refused(name):
    require(name, "complex")
    p = torch.ones(3, dtype=torch.complex128, requires_grad=True)
    p.grad = torch.ones_like(p)
    with pytest.raises((RuntimeError, ValueError, TypeError), match="complex"):  # at construction or at the step
        build(name, [p]).step()


@pytest.mark.parametrize("name", NAMES)
def test_refused_step_changes_nothing(name):
    """A refusal in a later group must not leave an earlier group already updated."""
    spec = require(name, "sparse")
    good = make_params([(3,)], positive=spec.positive, seed=13)
    good[0].grad = torch.ones_like(good[0])
    bad = make_params([(5,)], positive=spec.positive, seed=14)[0]
    bad.grad = torch.sparse_coo_tensor(torch.tensor([[0]]), torch.tensor([1.0], dtype=bad.dtype), (5,), check_invariants=True)
    before = good[0].detach().clone()
    opt = build(name, [{"params": good}, {"params": [bad]}])
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
    assert torch.equal(good[0].detach(), before)
    assert all(len(s) == 0 for s in opt.state.values())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize(
    "dtype, tol",
    [(torch.float32, 1e-4), (torch.bfloat16, 6e-2)],
    ids=["float32", "bfloat16"],
)
def test_dtypes_follow_float64(name, foreach, dtype, tol):
    spec = require(name, "dtypes")
    loss_fn, shapes = quadratic_problem(spec.positive)
    ref = make_params(shapes, positive=spec.positive, seed=15)
    low = [p.detach().to(dtype).requires_grad_(True) for p in ref]
    ref = [p.detach().to(dtype).to(torch.float64).requires_grad_(True) for p in ref]  # same start
    descend(build(name, ref, foreach=foreach), ref, loss_fn, 5)
    opt = build(name, low, foreach=foreach)
    descend(opt, low, loss_fn, 5)
    for p_low, p_ref in zip(low, ref):
        assert p_low.dtype == dtype
        assert torch.isfinite(p_low).all()
        torch.testing.assert_close(p_low.detach().double(), p_ref.detach(), rtol=tol, atol=tol)
    for p in low:
        for key, value in opt.state[p].items():
            if key in type(opt).wide_state:  # learned step sizes and accumulators: float32 or wider
                assert value.dtype == torch.promote_types(dtype, torch.float32), key
            elif isinstance(value, torch.Tensor) and value.is_floating_point() and value.numel() == p.numel() and value.numel() > 1:
                assert value.dtype == dtype, f"state {key!r} is {value.dtype}, parameter is {dtype}"


@pytest.mark.parametrize("name", NAMES)
def test_bad_hyperparameters_raise_valueerror_naming_them(name):
    spec = require(name, "hparams")
    p = make_params([(2,)], positive=spec.positive, seed=16)
    for key, bad in spec.bad_hparams:
        with pytest.raises(ValueError, match=rf"\b{key}\b"):
            build(name, p, **{key: bad})
    if "lr" in spec.kwargs:
        with pytest.raises(TypeError, match=r"\blr\b"):
            build(name, p, lr="0.1")


@pytest.mark.parametrize("name", NAMES)
def test_foreach_path_equals_reference_loop(name):
    spec = require(name, "foreach")
    params = make_params(SHAPES, positive=spec.positive, seed=17)
    noise = noise_sequence(params, 40, seed=18)
    centre = 1.0 if spec.positive else 0.0
    p_loop, p_fast = clone_params(params), clone_params(params)
    opt_loop, opt_fast = build(name, p_loop, foreach=False), build(name, p_fast, foreach=True)
    run_closed_loop(opt_loop, p_loop, noise, centre=centre)
    run_closed_loop(opt_fast, p_fast, noise, centre=centre)
    for x, y, p0 in zip(p_loop, p_fast, params):
        torch.testing.assert_close(y, x, rtol=1e-10, atol=1e-12)
        assert not torch.equal(x.detach(), p0.detach())  # the run moved every tensor
    assert_same_state(floating_state(opt_loop), floating_state(opt_fast), exact=False, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_foreach_path_with_mixed_dtypes_in_a_group(name):
    spec = require(name, "foreach")
    params = make_params([(4,), (2, 3)], positive=spec.positive, seed=19)
    params[0] = params[0].detach().float().requires_grad_(True)
    noise = noise_sequence(params, 10, seed=20)
    centre = 1.0 if spec.positive else 0.0
    p_loop, p_fast = clone_params(params), clone_params(params)
    run_closed_loop(build(name, p_loop, foreach=False), p_loop, noise, centre=centre)
    run_closed_loop(build(name, p_fast, foreach=True), p_fast, noise, centre=centre)
    assert [p.dtype for p in p_fast] == [torch.float32, torch.float64]
    for x, y in zip(p_loop, p_fast):
        torch.testing.assert_close(y, x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_nonfinite_gradient_is_skipped_by_default(name, bad_value):
    """Policy "skip": the group with the bad gradient behaves as if it had no gradient that step."""
    spec = require(name, "nonfinite")
    centre = 1.0 if spec.positive else 0.0
    g0 = make_params([(3,), (2, 2)], positive=spec.positive, seed=21)
    g1 = make_params([(4,)], positive=spec.positive, seed=22)
    noise = noise_sequence(g0 + g1, 8, seed=23)

    def run(poison: bool):
        a, b = clone_params(g0), clone_params(g1)
        opt = build(name, [{"params": a}, {"params": b}])
        run_closed_loop(opt, a + b, noise[:4], centre=centre)
        set_closed_loop_grads(a + b, noise[4], centre=centre)
        if poison:
            a[1].grad[0, 1] = bad_value  # one entry of one tensor of group 0
        else:
            for p in a:
                p.grad = None
        opt.step()
        if poison:
            assert opt.skipped_groups == [0]
        run_closed_loop(opt, a + b, noise[5:], centre=centre)
        return a + b, floating_state(opt)

    poisoned, poisoned_state = run(True)
    twin, twin_state = run(False)
    assert all(torch.isfinite(p).all() for p in poisoned)
    assert_params_equal(poisoned, twin)
    assert_same_state(poisoned_state, twin_state)


@pytest.mark.parametrize("name", NAMES)
def test_nonfinite_gradient_raises_under_raise_policy(name):
    spec = require(name, "nonfinite")
    centre = 1.0 if spec.positive else 0.0
    a = make_params([(3,)], positive=spec.positive, seed=24)
    b = make_params([(2, 2)], positive=spec.positive, seed=25)
    opt = build(name, [{"params": a, "nonfinite": "raise"}, {"params": b, "nonfinite": "raise"}])
    noise = noise_sequence(a + b, 3, seed=26)
    run_closed_loop(opt, a + b, noise[:2], centre=centre)
    before_params = clone_params(a + b)
    before_state = floating_state(opt)
    set_closed_loop_grads(a + b, noise[2], centre=centre)
    b[0].grad[1, 0] = math.nan  # the bad tensor is in the LAST group: the first must not move either
    with pytest.raises(FloatingPointError, match="non-finite"):
        opt.step()
    assert_params_equal(a + b, before_params)
    assert_same_state(floating_state(opt), before_state)
    with pytest.raises(ValueError, match="nonfinite"):
        build(name, [{"params": a, "nonfinite": "sometimes"}]).step()


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_optim_where_it_coincides(name):
    spec = require(name, "torch_equivalence")
    if not spec.torch_equivalents:
        pytest.skip(f"{name} declares no torch.optim equivalent")
    centre = 1.0 if spec.positive else 0.0
    params = make_params(SHAPES, positive=spec.positive, seed=27)
    noise = noise_sequence(params, 30, seed=28)
    for eq in spec.torch_equivalents:
        p_torch = clone_params(params)
        run_closed_loop(eq.torch_cls(p_torch, **eq.torch_kwargs, foreach=False), p_torch, noise, centre=centre)
        for foreach in (False, True):
            p_ours = clone_params(params)
            ours = UNDER_TEST[name](p_ours, **eq.kwargs, foreach=foreach)
            run_closed_loop(ours, p_ours, noise, centre=centre)
            for x, y in zip(p_ours, p_torch):
                torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_contract_sgd_spec_is_not_vacuous():
    """The suite's own optimiser would fail the torch check if its momentum were wrong."""
    params = make_params(SHAPES, positive=False, seed=29)
    noise = noise_sequence(params, 5, seed=30)
    p_ours, p_torch = clone_params(params), clone_params(params)
    run_closed_loop(ContractSGD(p_ours, lr=0.05, momentum=0.5), p_ours, noise, centre=0.0)
    run_closed_loop(torch.optim.SGD(p_torch, lr=0.05, momentum=0.9), p_torch, noise, centre=0.0)
    assert not all(torch.allclose(x, y, rtol=1e-6) for x, y in zip(p_ours, p_torch))


def test_registry_names_are_unique_classes():
    assert len(set(UNDER_TEST.values())) == len(UNDER_TEST)
