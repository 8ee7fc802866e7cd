"""Bad input gets a clear error everywhere: the API-wide bad-input suite (issue 19).

Every public function, class and public method of every ``lrtheory`` submodule
(found by introspection over ``lrtheory._SUBMODULES`` and each module's
``__all__``) is called once with valid arguments and then once for each
(argument, bad value) pair, one argument bad at a time: NaN, ±inf, complex,
``None``, strings (also numeric ones such as ``"0.1"``), bytes, booleans,
wrong shapes, empty inputs, lists holding ``None``, objects of the wrong type,
and, for callable arguments, callables that return NaN or ``None``.  Each
call runs under a time limit (a hang fails).  The call must raise a
``TypeError`` or ``ValueError`` whose message names the argument, unless the
table's allow-list says the input is legitimate.

How to add an entry (when this suite fails with "has no entry")
----------------------------------------------------------------
Open ``tests/badinput_table.py`` and add one line to ``EXAMPLES`` under the
path the failure printed, returning valid keyword arguments::

    "flows.step_times": ex(lambda: dict(lrs=[0.1, 0.2])),

Its module docstring explains the options (free-text strings, arguments not
fuzzed, the allow-list of legitimate inputs, the list of callables skipped
altogether).  The engine that derives the bad values and classifies the
outcomes is ``tests/badinput_engine.py``; ``python scripts/bad_input_report.py``
prints the counts of a whole walk.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import badinput_engine as engine
import badinput_table as table


def _fuzzable() -> dict[str, object]:
    out = {}
    for key, obj in engine.public_api().items():
        if table.skipped(key):
            continue
        sig = engine.signature_of(obj)
        if sig is not None and not [p for p in sig.parameters.values() if p.name != "self"]:
            continue  # nothing to pass a bad value to
        out[key] = obj
    return out


API = engine.public_api()
FUZZABLE = _fuzzable()


def test_every_public_callable_has_an_entry():
    missing = sorted(set(FUZZABLE) - set(table.EXAMPLES))
    assert not missing, (
        f"public callables without an entry in tests/badinput_table.py: {missing}. Add one line per callable "
        "to EXAMPLES with valid keyword arguments (see the docstring of tests/test_bad_input.py), or, for a "
        "result record or a callable that cannot take bad input, an entry with its reason in SKIP.")


def test_table_names_only_public_callables():
    stale = sorted(set(table.EXAMPLES) - set(FUZZABLE))
    assert not stale, f"EXAMPLES entries for callables that are not public (or are skipped): {stale}"
    for key, reason in table.SKIP.items():
        assert reason.strip(), key
        assert key.endswith(".*") or key in API, f"SKIP names {key!r}, which is not public"
    for (key, arg, kind), reason in table.ALLOW.items():
        assert reason.strip(), (key, arg, kind)
        assert key in table.EXAMPLES, f"ALLOW names {key!r}, which has no entry"
        assert arg == "*" or arg in table.EXAMPLES[key].make(), f"ALLOW names no argument {arg!r} of {key}"


def test_the_optimizers_are_fuzzed_and_only_their_kernels_skipped():
    """Every optimiser class of the registry is fuzzed; what is skipped is the base class and pure kernels."""
    from lrtheory.optim import REGISTRY

    assert all(f"optim.{name}" in FUZZABLE for name in REGISTRY)
    for key in (k for k in API if k.startswith("optim.") and table.skipped(k)):
        assert key.startswith("optim.BookOptimizer") or key.split(".")[1] in (
            "adagrad_norm", "amid", "eg", "rmsprop", "stepsize"), key


@pytest.mark.parametrize("key", sorted(table.EXAMPLES))
def test_bad_inputs_get_clear_errors(key):
    results = engine.walk_entry(key, API[key], table.EXAMPLES[key], table.allowed)
    bad = [r for r in results if r.outcome not in ("clear", "allowed")]
    assert results, f"{key}: no call was made"
    for (k, arg, kind), reason in table.ALLOW.items():
        if k == key:
            assert any(table.allowed(key, r.arg, r.kind) == reason and (arg in ("*", r.arg)) for r in results), (
                f"ALLOW entry {(k, arg, kind)} matches no call of {key}: remove it")
    assert not bad, f"{key}: {len(bad)} of {len(results)} bad-input calls were not refused clearly:\n" + "\n".join(
        f"  {r.outcome}: {r.arg}={r.kind}: {r.detail}" for r in bad)


# --------------------------------------------------------------------------- the engine can fail

def _is_nan(x: object) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _silent(x: float) -> float:
    return x


def _obscure(x: float) -> float:
    if _is_nan(x):
        raise RuntimeError("an internal error")
    return x


def _unnamed(x: float) -> float:
    if _is_nan(x):
        raise ValueError("something is wrong")
    return x


def _hangs(x: float) -> float:
    while _is_nan(x):
        pass
    return x


def _clear(x: float) -> float:
    from lrtheory._validation import check_scalar

    return check_scalar("x", x)


@pytest.mark.parametrize("fn,outcome", [(_silent, "silent"), (_obscure, "obscure"), (_unnamed, "obscure"),
                                        (_hangs, "hang"), (_clear, "clear")])
def test_the_engine_sees_each_outcome(fn, outcome):
    assert threading.current_thread() is threading.main_thread()  # the per-call time limit needs it
    entry = table.ex(lambda: dict(x=0.5), timeout=0.2)
    results = engine.walk_entry("test.fn", fn, entry, lambda *a: None)
    assert {r.outcome for r in results if r.kind == "nan"} == {outcome}


def test_the_engine_tries_every_kind_of_bad_value():
    kinds = {k for k, _ in engine.bad_values("x", [0.5, 1.5], optional=False, free_text=False)}
    assert {"nan", "inf", "-inf", "complex", "None", "str", "numeric-str", "bool", "wrong-shape", "empty",
            "None-entry", "wrong-type"} <= kinds
    kinds = {k for k, _ in engine.bad_values("seed", 3, optional=False, free_text=False)}
    assert {"nan", "inf", "float", "numeric-str", "None", "complex", "bool"} <= kinds
    info = engine._CallableInfo([np.zeros(2)])
    kinds = {k for k, _ in engine.bad_values("grad", lambda th: th, optional=False, free_text=False,
                                             callable_info=info)}
    assert {"None", "wrong-type", "returns-nan", "returns-none"} <= kinds
    assert "None" not in {k for k, _ in engine.bad_values("t_eval", [0.5], optional=True, free_text=False)}
    assert engine.names_argument("theta must be finite", "theta")
    assert not engine.names_argument("theta0 must be finite", "theta")
    assert math.isnan(engine._nanify(1.0))


# --------------------------------------------------------------------------- the defects of issue 19

def _no_hang(fn, *args, **kwargs):
    """Call ``fn`` with a time limit: a hang fails the test instead of stalling the suite."""
    with engine.time_limit(10.0):
        return fn(*args, **kwargs)


def nan_field(theta):
    return np.full_like(np.asarray(theta, dtype=float), np.nan)


@pytest.mark.parametrize("call", [
    lambda: __import__("lrtheory.flows").flows.integrate_flow(nan_field, [1.0, 0.5], 1.0),
    lambda: __import__("lrtheory.flows").flows.gradient_flow(nan_field, [1.0, 0.5], 1.0),
    lambda: __import__("lrtheory.odecontrol").odecontrol.rk45_steps(nan_field, [1.0, 0.5], 1.0),
])
def test_a_nan_field_raises_instead_of_hanging(call):
    with pytest.raises(ValueError, match=r"returned by (field|grad)"):
        _no_hang(call)


def test_a_flow_that_blows_up_is_reported_as_such():
    from lrtheory.flows import integrate_flow

    with pytest.raises(ValueError, match="blows up|integration failed"):
        _no_hang(integrate_flow, lambda th: th**3, [2.0], 10.0)


@pytest.mark.parametrize("bad,exc,match", [
    ([1 + 2j, 3.0], TypeError, "x must be real"),
    (["0.1", "0.2"], TypeError, "x must hold numbers"),
    ("0.1", TypeError, "x must be array-like"),
    (b"0.1", TypeError, "x must be array-like"),
    ([True, False], TypeError, "x must hold numbers, got booleans"),
    ([1.0, None], TypeError, "x must be array-like of numbers"),
    (None, TypeError, "x must be array-like of numbers, got None"),
    ([[1.0], [1.0, 2.0]], ValueError, "x must be a rectangular array"),
])
def test_check_array_casts_nothing_silently(bad, exc, match):
    from lrtheory._validation import check_array

    with pytest.raises(exc, match=match):
        check_array("x", bad)


def test_every_check_array_user_refuses_complex_and_numeric_strings():
    from lrtheory import adaptive, bounds, constrained

    for bad in ([0.5 + 1j, 0.5], ["0.5", "0.5"]):
        with pytest.raises(TypeError, match="theta"):
            adaptive.gd_update(bad, [1.0, 1.0], 0.1)
        with pytest.raises(TypeError, match="grad_norms"):
            bounds.average_bound([0.1, 0.1], bad, 1.0)
        with pytest.raises(TypeError, match="x"):
            constrained.project_simplex(bad)


def test_knn_and_linear_probe_refuse_nan_features_and_float_labels():
    import torch

    from lrtheory.ssl_eval import knn_accuracy, linear_probe_accuracy

    x, y = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    bad = x.clone()
    bad[0, 0] = float("nan")
    for fn in (knn_accuracy, linear_probe_accuracy):
        with pytest.raises(ValueError, match="train_x must contain only finite values"):
            fn(bad, y, x, y)
        with pytest.raises(ValueError, match="test_x must contain only finite values"):
            fn(x, y, bad, y)
        with pytest.raises(TypeError, match="train_y must be an integer tensor"):
            fn(x, y.double(), x, y)


def test_update_cosine_checks_lr_and_labels():
    import torch

    from lrtheory.sweeps import make_classifier, update_cosine

    X, y = torch.randn(8, 4), torch.arange(8) % 3

    def sgd(params, lr):
        return torch.optim.SGD(params, lr=lr)

    for lr in (float("nan"), -1.0, "0.1", None):
        with pytest.raises((TypeError, ValueError), match="lr"):
            update_cosine(make_classifier("logreg", 4, 3, seed=0), sgd, lr, X, y)
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        update_cosine(make_classifier("logreg", 4, 3, seed=0), sgd, 0.1, X, y.double())


def test_the_torch_helpers_check_types_and_finiteness():
    import torch

    from lrtheory import curvature, metalr, ssl

    with pytest.raises(TypeError, match="a must be a torch.Tensor"):
        metalr.cosine(np.ones(3), torch.ones(3))
    with pytest.raises(TypeError, match="p must be a torch.Tensor"):
        ssl.negative_cosine(np.ones((2, 3)), torch.ones(2, 3))
    model = ssl.SimSiam(64, 8, 4, 2)
    images = torch.rand(4, 1, 8, 8)
    images[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="images must contain only finite values"):
        ssl.train_ssl(model, images, num_steps=1, seed=0, batch_size=2, device="cpu")
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    loss = (p**3).sum()
    with pytest.raises(ValueError, match="vector must contain only finite values"):
        curvature.hessian_vector_product(loss, [p], torch.tensor([1.0, float("nan")], dtype=torch.float64))
    with pytest.raises(TypeError, match="vector must be real"):
        curvature.hessian_vector_product(loss, [p], torch.ones(2, dtype=torch.complex128))
    q = torch.tensor([float("nan"), 1.0], requires_grad=True)
    with pytest.raises(ValueError, match="params must contain only finite values"):
        curvature.flat_grad(q[1] ** 2, [q])


def test_a_nan_gradient_at_the_start_is_not_called_divergence():
    from lrtheory.adaptive import run_adaptive

    with pytest.raises(ValueError, match="returned by grad") as info:
        run_adaptive(nan_field, [1.0, 2.0], "gd", 0.1, 3)
    assert "diverged" not in str(info.value)


def test_check_point_names_a_bad_dim():
    from lrtheory.problems import check_point

    with pytest.raises(TypeError, match="dim must be an integer, got NoneType"):
        check_point("theta", [1.0, 2.0], None)


@pytest.mark.parametrize("call,match", [
    (lambda: __import__("lrtheory.adaptive").adaptive.error_control_lr([], 0.1), "grad must not be empty"),
    (lambda: __import__("lrtheory.constrained").constrained.project_simplex([]), "x must not be empty"),
    (lambda: __import__("lrtheory.constrained_problems").constrained_problems.mixture_weights_reference(
        np.ones((0, 2))), "P must not be empty"),
    (lambda: __import__("lrtheory.constrained_problems").constrained_problems.mixture_weights_reference(
        np.ones((3, 0))), "P must not be empty"),
])
def test_empty_inputs_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
