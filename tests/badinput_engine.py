"""The engine of the bad-input suite (``tests/test_bad_input.py``).

It finds every public function, class and public method of :mod:`lrtheory` by
introspection, derives bad values for each argument from the argument's valid
example (in ``tests/badinput_table.py``), calls the function with one bad
argument at a time under a per-call timeout, and classifies the outcome:

``clear``
    a ``TypeError`` or ``ValueError`` whose message names the argument;
``allowed``
    the call returned, and the table's allow-list says the input is legitimate;
``silent``
    the call returned (possibly with a warning) although the input is bad;
``obscure``
    any other exception, or a ``TypeError``/``ValueError`` that does not name
    the argument;
``hang``
    the call ran past its time limit.

Nothing here knows about particular functions: that is the table's job.
``python scripts/bad_input_report.py`` prints the counts of a whole walk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import math
import numbers
import pkgutil
import re
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import numpy as np

OUTCOMES = ("clear", "allowed", "silent", "obscure", "hang")
VALID_CALL_TIMEOUT = 60.0
"""Seconds allowed for the valid call of an entry (it may import modules and warm caches)."""


# --------------------------------------------------------------------------- the public API

def public_api() -> dict[str, Any]:
    """Every public callable of lrtheory: ``{"module.name": obj, "module.Class.method": function}``.

    Modules are ``lrtheory._SUBMODULES`` and, for the sub-packages among them,
    their submodules; names come from each module's ``__all__``.  An object
    exported twice keeps its first public path.  Public methods are the
    functions a public class defines itself (not inherited ones), whose name
    does not start with ``_`` (plus ``__call__``), and that take an argument
    besides ``self``.
    """
    import lrtheory

    modules: list[str] = []
    for short in lrtheory._SUBMODULES:
        mod = importlib.import_module(f"lrtheory.{short}")
        modules.append(short)
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__):
                if not info.name.startswith("_"):
                    modules.append(f"{short}.{info.name}")
    seen: set[int] = set()
    out: dict[str, Any] = {}
    for short in modules:
        mod = importlib.import_module(f"lrtheory.{short}")
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if not callable(obj) or id(obj) in seen:
                continue
            if not getattr(obj, "__module__", "").startswith("lrtheory"):
                continue
            seen.add(id(obj))
            key = f"{short}.{name}"
            out[key] = obj
            if inspect.isclass(obj):
                for mname, member in vars(obj).items():
                    if mname.startswith("_") and mname != "__call__":
                        continue
                    if not inspect.isfunction(member):
                        continue
                    params = list(inspect.signature(member).parameters.values())[1:]
                    if any(p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params):
                        out[f"{key}.{mname}"] = member
    return out


# --------------------------------------------------------------------------- bad values

class _Probe:
    """An object of no type any function expects."""

    def __repr__(self) -> str:
        return "<probe object>"


def _torch():
    import torch

    return torch


def _is_tensor(v: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


def _is_module_like(v: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, (torch.nn.Module, torch.optim.Optimizer, torch.Generator))


def _numeric_array(v: Any) -> np.ndarray | None:
    """``v`` as a numeric (int or float) numpy array if it is a non-empty list/tuple/array of numbers."""
    if isinstance(v, np.ndarray):
        return v if v.dtype.kind in "fiu" and v.size else None
    if isinstance(v, (list, tuple)) and v:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.asarray(v)
        except (ValueError, TypeError):
            return None
        if arr.dtype.kind in "fiu" and not any(isinstance(x, bool) for x in np.ravel(np.asarray(v, dtype=object))):
            return arr
    return None


def _like(template: Any, arr: np.ndarray) -> Any:
    """``arr`` in the container type of ``template`` (list stays list)."""
    if isinstance(template, np.ndarray):
        return arr
    return arr.tolist()


def _with_first(arr: np.ndarray, value: Any) -> np.ndarray:
    out = arr.astype(float if np.isrealobj(value) else complex, copy=True)
    out.flat[0] = value
    return out


def _tensor_with_first(t: Any, value: float) -> Any:
    torch = _torch()
    if not t.is_floating_point():
        t = t.double()
    if t.requires_grad and not t.is_leaf:  # keep the graph (e.g. a loss built from parameters)
        mask = torch.zeros_like(t, dtype=torch.bool)
        mask.view(-1)[0] = True
        return torch.where(mask, torch.full_like(t, value), t)
    out = t.detach().clone()
    out.view(-1)[0] = value
    return out.requires_grad_(t.requires_grad)


def _tensor_variants(v: Any) -> list[tuple[str, Any]]:
    torch = _torch()
    out: list[tuple[str, Any]] = []
    leafy = v.requires_grad and v.is_leaf
    if v.is_floating_point():
        out += [("nan", _tensor_with_first(v, math.nan)), ("inf", _tensor_with_first(v, math.inf)),
                ("-inf", _tensor_with_first(v, -math.inf))]
        cplx = v.detach().to(torch.complex128) if leafy else v.to(torch.complex128)
        out.append(("complex", cplx.requires_grad_(True) if leafy else cplx))
    elif v.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        out += [("float", v.double() + 0.5), ("float-labels", v.double())]
    out.append(("bool", v.detach() != 0))
    if v.ndim >= 1:
        out.append(("empty", v.detach()[:0].clone().requires_grad_(leafy)))
    out.append(("wrong-shape", v.detach().unsqueeze(-1).clone().requires_grad_(leafy) if leafy
                else v.unsqueeze(-1)))
    out.append(("numpy", v.detach().cpu().numpy()))
    out += [("None", None), ("str", "0.1")]
    return out


def _tensor_list_variants(v: list) -> list[tuple[str, Any]]:
    torch = _torch()
    first = v[0]
    nan = first.detach().clone()
    nan.view(-1)[0] = math.nan
    cplx = first.detach().to(torch.complex128)
    rg = first.requires_grad
    return [("None", None), ("str", "0.1"), ("empty", []), ("wrong-type", [1.0]),
            ("nan", [nan.requires_grad_(rg), *v[1:]]), ("complex", [cplx.requires_grad_(rg), *v[1:]])]


def _array_variants(v: Any, arr: np.ndarray) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [
        ("nan", _like(v, _with_first(arr, math.nan))),
        ("inf", _like(v, _with_first(arr, math.inf))),
        ("-inf", _like(v, _with_first(arr, -math.inf))),
        ("complex", _like(v, arr + 1j)),
    ]
    if arr.dtype.kind in "iu":
        out.append(("float", _like(v, arr + 0.5)))
    out += [
        ("None", None),
        ("str", "0.1"),
        ("numeric-str", [str(x) for x in arr.ravel().tolist()] if arr.ndim == 1 else arr.astype(str)),
        ("None-entry", [None, *arr.ravel().tolist()[1:]] if arr.ndim == 1 else
         np.where(np.arange(arr.size).reshape(arr.shape) == 0, None, arr.astype(object))),
        ("bool", _like(v, arr != 0)),
        ("wrong-shape", _like(v, arr[..., None])),
        ("empty", _like(v, np.zeros((0,) + arr.shape[1:], dtype=arr.dtype))),
        ("wrong-type", _Probe()),
    ]
    return out


def _nanify(value: Any) -> Any:
    """A NaN counterpart of a callable's output, or ``_NotNumeric`` when it has none."""
    if isinstance(value, bool):
        return _NotNumeric
    if isinstance(value, numbers.Real):
        return math.nan
    if _is_tensor(value) and value.is_floating_point() and value.numel():
        return _tensor_with_first(value, math.nan)
    arr = _numeric_array(value)
    if arr is not None:
        return _like(value, _with_first(arr, math.nan))
    if isinstance(value, Mapping) and value:
        out = dict(value)
        for k, x in value.items():
            nx = _nanify(x)
            if nx is not _NotNumeric:
                out[k] = nx
                return out
    return _NotNumeric


class _NotNumeric:
    pass


@dataclass
class _CallableInfo:
    outputs: list[Any] = field(default_factory=list)


def _callable_variants(name: str, v: Callable, info: _CallableInfo | None) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [("None", None), ("wrong-type", 1.0), ("str", "f")]
    outputs = info.outputs if info is not None else []
    if outputs and _nanify(outputs[0]) is not _NotNumeric:
        def returns_nan(*a: Any, **k: Any) -> Any:
            res = v(*a, **k)
            bad = _nanify(res)
            return res if bad is _NotNumeric else bad
        out.append(("returns-nan", returns_nan))
    if outputs and outputs[0] is not None:
        def returns_none(*a: Any, **k: Any) -> Any:
            v(*a, **k)
            return None
        out.append(("returns-none", returns_none))
    return out


def bad_values(name: str, value: Any, *, optional: bool, free_text: bool,
               callable_info: _CallableInfo | None = None) -> list[tuple[str, Any]]:
    """The bad values tried for argument ``name`` whose valid example is ``value``.

    The kinds depend on what the valid value is: a bool, an int, a real, a
    string, a numeric array (or list), a torch tensor, a list of tensors, a
    callable, or any other object.  ``None`` is skipped for optional
    arguments; a made-up string is skipped for free-text arguments.  A
    callable also gets wrappers that return NaN (when its valid output is
    numeric) or ``None``, but only when the valid call called it (a callable
    that is stored for later gets the not-callable values only).
    """
    if isinstance(value, bool):
        out = [("None", None), ("str", "yes"), ("wrong-type", 0.5)]
    elif isinstance(value, numbers.Integral):
        out = [("nan", math.nan), ("inf", math.inf), ("float", 2.5), ("numeric-str", "2"),
               ("None", None), ("complex", 2 + 1j), ("bool", True)]
    elif isinstance(value, numbers.Real):
        v = float(value)
        out = [("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("complex", complex(v, 1.0)),
               ("None", None), ("numeric-str", "0.1"), ("bool", True), ("wrong-shape", np.array([v, v]))]
    elif isinstance(value, str):
        out = [("None", None), ("wrong-type", 1.0), ("bytes", value.encode())]
        if not free_text:
            out.append(("bad-choice", "no-such-" + (value or "value")))
    elif _is_tensor(value):
        out = _tensor_variants(value)
    elif isinstance(value, list) and value and all(_is_tensor(t) for t in value):
        out = _tensor_list_variants(value)
    elif _numeric_array(value) is not None:
        out = _array_variants(value, _numeric_array(value))
    elif callable(value) and not _is_module_like(value) and not inspect.isclass(value):
        out = _callable_variants(name, value, callable_info)
    elif callable(value) and inspect.isclass(value) and callable_info is not None:
        out = _callable_variants(name, value, callable_info)
    else:
        out = [("None", None), ("wrong-type", 1.0), ("str", "x")]
    if optional:
        out = [(k, x) for k, x in out if k != "None"]
    return out


# --------------------------------------------------------------------------- calling

class CallTimeout(BaseException):
    """Raised inside a call that ran past its time limit (a BaseException, so ``except Exception`` cannot eat it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (SIGALRM; a no-op outside the main thread)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise CallTimeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names_argument(message: str, name: str) -> bool:
    """Whether ``message`` names ``name`` as a whole word (``theta`` is not named by ``theta0``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


@dataclass
class Result:
    key: str
    arg: str
    kind: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0


def call(fn: Callable, kwargs: dict[str, Any], timeout: float) -> tuple[str, Any, list[str], float]:
    """Call ``fn(**kwargs)``: ``("return", value, warnings, s)``, ``("raise", exc, ...)`` or ``("hang", None, ...)``."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with time_limit(timeout):
                value = fn(**kwargs)
                if inspect.isgenerator(value) or type(value).__name__ == "tqdm":
                    value = list(value)
            status, payload = "return", value
        except CallTimeout:
            status, payload = "hang", None
        except Exception as exc:  # noqa: BLE001 - classifying is the point
            status, payload = "raise", exc
    msgs = [f"{w.category.__name__}: {w.message}" for w in caught]
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    return status, payload, msgs, time.perf_counter() - t0


def classify(status: str, payload: Any, msgs: list[str], arg: str, allowed: bool) -> tuple[str, str]:
    if status == "hang":
        return "hang", ""
    if status == "return":
        if allowed:
            return "allowed", ""
        return "silent", ("warned: " + msgs[0][:120]) if msgs else "returned"
    exc = payload
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (TypeError, ValueError)) and names_argument(str(exc), arg):
        return "clear", text[:200]
    if allowed and isinstance(exc, (TypeError, ValueError)):  # a legitimate input, refused for its own reason
        return "allowed", text[:200]
    return "obscure", text[:300]


# --------------------------------------------------------------------------- walking one entry

def _optional(sig: inspect.Signature | None, name: str) -> bool:
    if sig is None or name not in sig.parameters:
        return False
    p = sig.parameters[name]
    ann = p.annotation
    text = ann if isinstance(ann, str) else repr(ann)
    return p.default is None or "None" in text or "Optional" in text


def _recording(fn: Callable, info: _CallableInfo) -> Callable:
    def rec(*a: Any, **k: Any) -> Any:
        out = fn(*a, **k)
        if len(info.outputs) < 1:
            info.outputs.append(out)
        return out
    return rec


def signature_of(obj: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def walk_entry(key: str, obj: Any, entry: Any, allow: Callable[[str, str, str], str | None]) -> list[Result]:
    """Call ``obj`` once with valid arguments, then once per (argument, bad value)."""
    sig = signature_of(obj)
    # 1. the valid call, recording what each callable argument returns
    kwargs = entry.make()
    infos: dict[str, _CallableInfo] = {}
    for name, v in list(kwargs.items()):
        if name in entry.skip or name == "self":
            continue
        if callable(v) and not _is_module_like(v) and not _is_tensor(v):
            infos[name] = _CallableInfo()
            kwargs[name] = _recording(v, infos[name])
    fn = _bind(obj, kwargs)
    # the valid call may import and warm up (sympy, myst-nb, torch kernels): a generous limit
    status, payload, msgs, secs = call(fn, {k: v for k, v in kwargs.items() if k != "self"},
                                       max(VALID_CALL_TIMEOUT, entry.timeout))
    if status != "return":
        detail = f"{type(payload).__name__}: {payload}" if status == "raise" else "timed out"
        return [Result(key, "(valid call)", "valid", "invalid-example", detail, secs)]
    results: list[Result] = []
    fuzzed = [n for n in entry.make() if n != "self" and n not in entry.skip]
    for name in fuzzed:
        template = entry.make()
        for kind, bad in bad_values(name, template[name], optional=_optional(sig, name),
                                    free_text=name in entry.free_text, callable_info=infos.get(name)):
            kw = entry.make()
            kw[name] = bad
            reason = allow(key, name, kind)
            fn = _bind(obj, kw)
            status, payload, msgs, secs = call(fn, {k: v for k, v in kw.items() if k != "self"}, entry.timeout)
            outcome, detail = classify(status, payload, msgs, name, reason is not None)
            results.append(Result(key, name, kind, outcome, detail, secs))
    return results


def _bind(obj: Any, kwargs: dict[str, Any]) -> Callable:
    if "self" in kwargs:
        self = kwargs["self"]
        return lambda **kw: obj(self, **kw)
    return obj


def summarize(results: list[Result]) -> dict[str, int]:
    counts = {k: 0 for k in OUTCOMES}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    counts["calls"] = len(results)
    return counts
