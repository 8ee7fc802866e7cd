"""The bad-input suite's entries for :mod:`lrtheory.optim` (merged into ``tests/badinput_table.py``).

The optimiser classes, their public methods and :func:`~lrtheory.optim.check_hparam`
are fuzzed like every other public callable.  Two kinds of callable are not:

* the abstract base class (its subclasses are fuzzed, and the contract suite
  drives its bookkeeping through a registered subclass);
* the pure per-tensor update kernels (``*_update``, ``*_update_foreach``,
  ``*_step_size``): they sit on the hot path of every step and take tensors that
  the optimiser classes have already checked (as torch's functional optimiser
  API does, they check nothing); tests/test_optim_*.py test each against an
  oracle, and the optimizer matrix (tests/test_optim_matrix.py) covers the step's
  non-finite gradients under every policy.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

KERNELS = ("the pure per-tensor update kernels of the optimisers: on the hot path of every step, called "
           "by the optimiser classes with checked inputs (no checks by design, as torch's functional "
           "optimiser API); each is tested against an oracle in tests/test_optim_*.py")


def _theta() -> list[torch.Tensor]:
    return [torch.full((3,), 0.5, dtype=torch.float64, requires_grad=True)]


def _egd(cls_name: str) -> Any:
    from lrtheory import optim

    return getattr(optim, cls_name)(_theta(), lr=0.1)


def entries(ex: Callable[..., Any]) -> dict[str, Any]:
    """EXAMPLES entries (``ex`` is the table's constructor of an entry)."""
    return {
        # the checker's message names the hyperparameter it is given as ``name``: here "value" itself
        "optim.check_hparam": ex(lambda: dict(name="value", value=0.1, low=0.0, high=1.0, low_inclusive=True,
                                              high_inclusive=False), free_text=("name",)),
        "optim.BookOptimizer.add_param_group": ex(lambda: dict(self=_egd("SignDescent"),
                                                               param_group={"params": _theta(), "lr": 0.2})),
        "optim.BookOptimizer.load_state_dict": ex(lambda: (lambda o: dict(self=o, state_dict=o.state_dict()))(
            _egd("HypergradientSGD"))),
        "optim.SignDescent": ex(lambda: dict(params=_theta(), lr=0.1, foreach=True, compile=False)),
        "optim.RMSpropScalar": ex(lambda: dict(params=_theta(), lr=0.1, alpha=0.9, eps=1e-8, eps_inside=True,
                                               initial_accumulator_value=0.0, foreach=True)),
        "optim.RMSpropCoordinate": ex(lambda: dict(params=_theta(), lr=0.1, alpha=0.9, eps=1e-8,
                                                   eps_inside=False, initial_accumulator_value=0.1,
                                                   foreach=True, compile=False)),
        "optim.AdaGradNorm": ex(lambda: dict(params=_theta(), lr=1.0, eps=1e-10, initial_accumulator_value=0.0,
                                             weight_decay=0.0, foreach=True)),
        "optim.EGD": ex(lambda: dict(params=_theta(), lr=0.1, foreach=True, compile=False)),
        "optim.EGD.add_param_group": ex(lambda: dict(self=_egd("EGD"), param_group={"params": _theta()})),
        "optim.NormalizedEGD": ex(lambda: dict(params=_theta(), lr=0.1, foreach=True, compile=False)),
        "optim.NormalizedEGD.add_param_group": ex(lambda: dict(self=_egd("NormalizedEGD"),
                                                               param_group={"params": _theta()})),
        "optim.EGStepSize": ex(lambda: dict(params=_theta(), lr=0.01, meta_lr=0.01, per_coordinate=True,
                                            direction="adam", momentum=0.9, betas=(0.9, 0.999), eps=1e-8,
                                            signal="gradient", init_nu=1.0, nu_min=0.1, nu_max=10.0,
                                            foreach=True)),
        "optim.traffic.traffic_bytes_per_element": ex(lambda: dict(name="EGD", itemsize=4, path="fast",
                                                                  nonfinite="skip")),
        "optim.HypergradientSGD": ex(lambda: dict(params=_theta(), lr=0.01, hyper_lr=1e-4, foreach=True)),
        "optim.EGGainScale": ex(lambda: dict(params=_theta(), lr=0.01, momentum=0.9, gain_lr=0.01, scale_lr=0.01,
                                             grad_avg=0.9, gain_min=0.1, gain_max=10.0, scale_min=1e-3,
                                             scale_max=1e3, foreach=True)),
    }


ALLOW: dict[tuple[str, str, str], str] = {
    ("optim.EGStepSize", "nu_max", "inf"): "nu_max = inf is the default: no upper clamp (documented)",
    ("optim.check_hparam", "low", "-inf"): "an infinite bound is no bound (as None)",
    ("optim.check_hparam", "high", "inf"): "an infinite bound is no bound (as None)",
    ("optim.check_hparam", "low", "inf"): "a valid bound: every finite value is then refused as out of range",
    ("optim.check_hparam", "high", "-inf"): "a valid bound: every finite value is then refused as out of range",
}

SKIP: dict[str, str] = {
    "optim.BookOptimizer": ("the abstract base class: every registered subclass is fuzzed, and the contract "
                            "suite drives its bookkeeping through a subclass of its own (ContractSGD)"),
    "optim.BookOptimizer.step": ("the step's input is the gradients, which the non-finite policies handle "
                                 "(tests/test_optim_matrix.py, every optimiser under every policy); its "
                                 "closure argument is called as torch.optim calls it"),
    **{f"optim.{module}.*": KERNELS for module in ("adagrad_norm", "amid", "eg", "rmsprop", "stepsize")},
}
