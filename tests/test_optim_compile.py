"""The opt-in ``torch.compile`` fast paths (``compile=True``) equal the per-tensor reference loop.

Compiling takes 10–70 s per optimiser on a CPU, so the equality tests run only when
``LRTHEORY_TEST_COMPILE=1`` (``scripts``/device runs set it); the flag's validation
runs always.
"""

from __future__ import annotations

import os

import pytest
import torch

from test_optim_contract import SHAPES, build, clone_params, make_params, noise_sequence, run_closed_loop, spec_of

COMPILED = ["SignDescent", "RMSpropCoordinate", "EGD", "NormalizedEGD"]
RUN = os.environ.get("LRTHEORY_TEST_COMPILE") == "1"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch._dynamo's imports


@pytest.mark.parametrize("name", COMPILED)
def test_compile_flag_is_validated_and_kept_per_group(name):
    p = make_params([(3,)], positive=spec_of(name).positive, seed=0)
    for bad in ("yes", 1, None):
        with pytest.raises(TypeError, match=r"\bcompile\b"):
            build(name, p, compile=bad)
    opt = build(name, [{"params": p, "compile": True}])
    assert opt.param_groups[0]["compile"] is True and opt.defaults["compile"] is False


@pytest.mark.skipif(not RUN, reason="compiling takes 10-70 s per optimiser: set LRTHEORY_TEST_COMPILE=1")
@pytest.mark.parametrize("name", COMPILED)
def test_compiled_path_equals_reference_loop_in_float64(name):
    spec = spec_of(name)
    centre = 1.0 if spec.positive else 0.0
    params = make_params([s for s in SHAPES if s != ()], positive=spec.positive, seed=1)
    noise = noise_sequence(params, 12, seed=2)
    p_ref, p_fast = clone_params(params), clone_params(params)
    ref, fast = build(name, p_ref, foreach=False), build(name, p_fast, compile=True)
    run_closed_loop(ref, p_ref, noise[:6], centre=centre)
    run_closed_loop(fast, p_fast, noise[:6], centre=centre)
    for opt in (ref, fast):  # a schedule changes lr: the compiled function takes it as a tensor
        opt.param_groups[0]["lr"] *= 0.5
    run_closed_loop(ref, p_ref, noise[6:], centre=centre)
    run_closed_loop(fast, p_fast, noise[6:], centre=centre)
    for x, y in zip(p_ref, p_fast):
        torch.testing.assert_close(y, x, rtol=1e-10, atol=1e-12)
