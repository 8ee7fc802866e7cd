"""Symbolic backward error analysis of gradient descent (sympy).

Gradient descent θ_{k+1} = θ_k + γ f(θ_k), with f = −∇L, is explicit Euler on
the flow θ' = f(θ).  Backward error analysis asks for a *modified* vector
field f̃ = f + γ f_1 + γ² f_2 + … whose exact time-γ flow reproduces one Euler
step, order by order in γ.  This module derives f̃ symbolically:

* :func:`bernoulli_operator_series` and :func:`bernoulli_operator_coefficients`
  expand the operator x/(eˣ − 1) that appears when the difference equation is
  written as (e^{γD} − 1)θ = γ f;
* :func:`flow_series` is the Lie (Taylor) series of the exact flow of a field;
* :func:`modified_field_terms` and :func:`modified_field` solve for f_1, …, f_p
  for a general 1-D field (an undefined sympy ``Function``) or an n-D field
  given as sympy expressions;
* :func:`modified_field_residuals` / :func:`is_modified_field` check that one
  Euler step equals the time-γ flow of a candidate field up to a given order;
* :func:`gradient_field` and :func:`field_curl` test whether a field is the
  (negative) gradient of some function.

Derived in chapter 3.
"""

from __future__ import annotations

from typing import Sequence

import sympy as sp

from ._validation import check_int

__all__ = [
    "bernoulli_operator_series",
    "bernoulli_operator_coefficients",
    "lie_derivative",
    "flow_series",
    "euler_step",
    "modified_field_terms",
    "modified_field",
    "modified_field_residuals",
    "is_modified_field",
    "gradient_field",
    "field_curl",
]


def _check_symbol(name: str, value: object) -> sp.Symbol:
    if not isinstance(value, sp.Symbol):
        raise TypeError(f"{name} must be a sympy Symbol, got {type(value).__name__}")
    return value


def _check_exprs(name: str, value: object) -> list[sp.Expr]:
    if isinstance(value, sp.Expr):
        return [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, sp.MatrixBase)):
        raise TypeError(f"{name} must be a sympy expression or a sequence of them, "
                        f"got {type(value).__name__}")
    out = [sp.sympify(v) for v in value]
    if not out:
        raise ValueError(f"{name} must not be empty")
    for v in out:
        if not isinstance(v, sp.Expr):
            raise TypeError(f"{name} must contain sympy expressions, got {type(v).__name__}")
    return out


def _check_variables(variables: object, dim: int) -> list[sp.Symbol]:
    if isinstance(variables, sp.Symbol):
        variables = [variables]
    if isinstance(variables, (str, bytes)) or not isinstance(variables, Sequence):
        raise TypeError(f"variables must be a sequence of sympy Symbols, got {type(variables).__name__}")
    out = [_check_symbol("variables", v) for v in variables]
    if len(out) != dim:
        raise ValueError(f"variables must have the field's length {dim}, got {len(out)}")
    if len(set(out)) != len(out):
        raise ValueError("variables must be distinct")
    return out


def _truncate(expr: sp.Expr, h: sp.Symbol, degree: int) -> sp.Expr:
    """Keep the terms of ``expr`` (a polynomial in ``h``) of degree ≤ ``degree``."""
    expr = sp.expand(expr)
    return sp.Add(*[expr.coeff(h, i) * h**i for i in range(degree + 1)])


def bernoulli_operator_series(order: int, x: sp.Symbol | None = None) -> sp.Expr:
    """Taylor polynomial of x/(eˣ − 1) up to and including xᵒʳᵈᵉʳ.

    Parameters
    ----------
    order : int
        Highest power kept, ≥ 0.
    x : sympy.Symbol, optional
        The variable (default a fresh symbol ``x``).

    Returns
    -------
    sympy.Expr
        The polynomial Σ_{n=0}^{order} (B_n / n!) xⁿ.

    Notes
    -----
    x/(eˣ − 1) = Σ_n B_n xⁿ/n! defines the Bernoulli numbers with B_1 = −1/2.
    Since x/(eˣ − 1) + x/2 = (x/2) coth(x/2) is even, every odd coefficient
    after the first vanishes:
    x/(eˣ − 1) = 1 − x/2 + x²/12 − x⁴/720 + x⁶/30240 − ….
    Derived in chapter 3.
    """
    order = check_int("order", order, low=0)
    x = sp.Symbol("x") if x is None else _check_symbol("x", x)
    return sp.series(x / (sp.exp(x) - 1), x, 0, order + 1).removeO()


def bernoulli_operator_coefficients(order: int) -> list[sp.Rational]:
    """Coefficients c_0, …, c_order of x/(eˣ − 1) = Σ c_n xⁿ (exact rationals).

    Parameters
    ----------
    order : int
        Highest power, ≥ 0.

    Returns
    -------
    list of sympy.Rational
        ``c[n] = B_n / n!`` with the convention B_1 = −1/2.

    Notes
    -----
    Computed from the recursion Σ_{k=0}^{n} c_k / (n + 1 − k)! = [n = 0], which
    is the coefficient of xⁿ⁺¹ in (eˣ − 1) · Σ c_k xᵏ = x; it does not call
    sympy's own Bernoulli numbers, so that they can serve as an oracle.
    Derived in chapter 3.
    """
    order = check_int("order", order, low=0)
    c: list[sp.Rational] = []
    for n in range(order + 1):
        acc = sum((c[k] / sp.factorial(n + 1 - k) for k in range(n)), sp.Integer(0))
        c.append(sp.Rational(int(n == 0)) - acc)  # the k = n term has weight 1/1! = 1
    return c


def lie_derivative(u: sp.Expr, field: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Expr:
    """Derivative of ``u`` along ``field``: (L_f u)(θ) = ∇u(θ) · f(θ).

    Parameters
    ----------
    u : sympy.Expr
        A scalar function of ``variables``.
    field : sequence of sympy.Expr
        The vector field, one component per variable.
    variables : sequence of sympy.Symbol
        The coordinates θ_1, …, θ_d.

    Returns
    -------
    sympy.Expr
        Σ_i ∂u/∂θ_i · f_i, i.e. d/dt u(θ(t)) along a solution of θ' = f(θ).

    Notes
    -----
    Applied k times to the coordinate functions it gives the k-th time
    derivative of a solution, the terms of :func:`flow_series`. Derived in
    chapter 3.
    """
    field = _check_exprs("field", field)
    variables = _check_variables(variables, len(field))
    if not isinstance(u, sp.Expr):
        raise TypeError(f"u must be a sympy expression, got {type(u).__name__}")
    return sp.Add(*[sp.diff(u, v) * fi for v, fi in zip(variables, field)])


def flow_series(field: Sequence[sp.Expr], variables: Sequence[sp.Symbol], h: sp.Symbol,
                order: int) -> list[sp.Expr]:
    """Taylor expansion in ``h`` of the exact time-h flow of θ' = field(θ).

    Parameters
    ----------
    field : sympy.Expr or sequence of sympy.Expr
        The vector field; it may itself depend polynomially on ``h`` (as a
        modified field does).
    variables : sympy.Symbol or sequence of sympy.Symbol
        The coordinates (the starting point of the flow).
    h : sympy.Symbol
        The time step.
    order : int
        Highest power of ``h`` kept, ≥ 0.

    Returns
    -------
    list of sympy.Expr
        One polynomial in ``h`` per component.

    Notes
    -----
    The Lie series φ_h(θ) = Σ_k (h^k / k!) L_f^k θ, where L_f is
    :func:`lie_derivative`: the k-th time derivative of a solution is L_f^k
    applied to the coordinate functions. Terms beyond h^order are dropped after
    every application of L_f. Derived in chapter 3.
    """
    field = _check_exprs("field", field)
    variables = _check_variables(variables, len(field))
    h = _check_symbol("h", h)
    if h in variables:
        raise ValueError("h must not be one of the variables")
    order = check_int("order", order, low=0)
    out = []
    for v in variables:
        term = v  # L^0 θ_i
        total = v
        for k in range(1, order + 1):
            term = _truncate(lie_derivative(term, field, variables), h, order - k)
            total = total + h**k / sp.factorial(k) * term
        out.append(sp.expand(total))
    return out


def euler_step(field: Sequence[sp.Expr], variables: Sequence[sp.Symbol], h: sp.Symbol) -> list[sp.Expr]:
    """One explicit Euler step θ + h f(θ), componentwise (gradient descent when f = −∇L).

    Parameters
    ----------
    field : sympy.Expr or sequence of sympy.Expr
        The vector field f.
    variables : sympy.Symbol or sequence of sympy.Symbol
        The coordinates θ.
    h : sympy.Symbol
        The step (learning rate).

    Returns
    -------
    list of sympy.Expr

    Notes
    -----
    The map whose modified field :func:`modified_field_terms` derives.
    Derived in chapter 3.
    """
    field = _check_exprs("field", field)
    variables = _check_variables(variables, len(field))
    h = _check_symbol("h", h)
    return [v + h * fi for v, fi in zip(variables, field)]


def modified_field_terms(field: Sequence[sp.Expr], variables: Sequence[sp.Symbol], h: sp.Symbol,
                         order: int) -> list[list[sp.Expr]]:
    """The terms f_0 = f, f_1, …, f_order of the modified field of explicit Euler.

    Parameters
    ----------
    field : sympy.Expr or sequence of sympy.Expr
        The vector field f (for gradient descent, −∇L). For a general 1-D
        field pass an undefined function, ``sympy.Function("f")(y)``.
    variables : sympy.Symbol or sequence of sympy.Symbol
        The coordinates.
    h : sympy.Symbol
        The step size; it must not occur in ``field``.
    order : int
        Highest order p ≥ 0 to derive.

    Returns
    -------
    list of list of sympy.Expr
        ``terms[j]`` is f_j (one expression per component), with
        ``terms[0] == field``.

    Notes
    -----
    Unknowns are found one order at a time: with f̃_{j−1} = Σ_{i<j} hⁱ f_i
    already matching the Euler step θ + h f up to h^j, the coefficient of
    h^{j+1} in the time-h flow of f̃_{j−1} is some c_j, and adding h^j f_j
    changes that coefficient by exactly f_j (it enters the flow first through
    the term h·f̃). The Euler step has no h^{j+1} term, so f_j = −c_j. For
    explicit Euler this gives
    f_1 = −½ f′f and f_2 = ⅓ f′f′f + (1/12) f″(f, f)
    (Hairer, Lubich & Wanner 2006, ch. IX). Derived in chapter 3.
    """
    field = _check_exprs("field", field)
    variables = _check_variables(variables, len(field))
    h = _check_symbol("h", h)
    if any(fi.has(h) for fi in field):
        raise ValueError("field must not depend on h")
    order = check_int("order", order, low=0)
    terms: list[list[sp.Expr]] = [list(field)]
    for j in range(1, order + 1):
        current = [sp.Add(*[h**i * terms[i][c] for i in range(j)]) for c in range(len(field))]
        flow = flow_series(current, variables, h, j + 1)
        terms.append([-sp.expand(comp).coeff(h, j + 1) for comp in flow])
    return terms


def modified_field(field: Sequence[sp.Expr], variables: Sequence[sp.Symbol], h: sp.Symbol,
                   order: int) -> list[sp.Expr]:
    """The modified field f̃ = f + h f_1 + … + h^order f_order of explicit Euler.

    Parameters
    ----------
    field, variables, h, order
        As in :func:`modified_field_terms`.

    Returns
    -------
    list of sympy.Expr
        One expression per component.

    Notes
    -----
    For gradient descent on L (f = −∇L, g = ∇L, H = ∇²L) the first order is
    f̃ = −g − (h/2) H g = −∇(L + (h/4)‖∇L‖²). Derived in chapter 3.
    """
    terms = modified_field_terms(field, variables, h, order)
    return [sp.Add(*[h**j * terms[j][c] for j in range(len(terms))]) for c in range(len(terms[0]))]


def modified_field_residuals(field: Sequence[sp.Expr], candidate: Sequence[sp.Expr],
                             variables: Sequence[sp.Symbol], h: sp.Symbol, order: int) -> list[sp.Expr]:
    """Coefficients by which one Euler step and the time-h flow of ``candidate`` differ.

    Parameters
    ----------
    field : sympy.Expr or sequence of sympy.Expr
        The field f of the Euler step θ + h f(θ).
    candidate : sympy.Expr or sequence of sympy.Expr
        A proposed modified field (may depend on ``h``).
    variables : sympy.Symbol or sequence of sympy.Symbol
        The coordinates.
    h : sympy.Symbol
        The step.
    order : int
        The order p claimed for ``candidate``: agreement is checked for the
        powers h^0, …, h^{p+1} (a field of order p makes the local error
        O(h^{p+2})).

    Returns
    -------
    list of sympy.Expr
        The simplified coefficients of h^0 … h^{p+1} of (flow − Euler step),
        all components, in that order; all zero iff ``candidate`` is a modified
        field of order p.

    Notes
    -----
    An independent check of :func:`modified_field_terms`: it only expands the
    flow of the candidate (:func:`flow_series`) and compares it with the step.
    Coefficients that expand to zero are not passed to ``simplify``.
    Derived in chapter 3.
    """
    field = _check_exprs("field", field)
    candidate = _check_exprs("candidate", candidate)
    if len(candidate) != len(field):
        raise ValueError(f"candidate must have {len(field)} components, got {len(candidate)}")
    variables = _check_variables(variables, len(field))
    h = _check_symbol("h", h)
    order = check_int("order", order, low=0)
    flow = flow_series(candidate, variables, h, order + 1)
    step = euler_step(field, variables, h)
    out = []
    for k in range(order + 2):
        for fl, st in zip(flow, step):
            coef = sp.expand(fl - st).coeff(h, k)
            out.append(coef if coef == 0 else sp.simplify(coef))
    return out


def is_modified_field(field: Sequence[sp.Expr], candidate: Sequence[sp.Expr],
                      variables: Sequence[sp.Symbol], h: sp.Symbol, order: int) -> bool:
    """True iff one Euler step equals the time-h flow of ``candidate`` up to O(h^{order+2}).

    See :func:`modified_field_residuals` for the parameters.

    Returns
    -------
    bool

    Notes
    -----
    Derived in chapter 3.
    """
    return all(r == 0 for r in modified_field_residuals(field, candidate, variables, h, order))


def gradient_field(loss: sp.Expr, variables: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """The gradient flow field −∇L as a list of expressions.

    Parameters
    ----------
    loss : sympy.Expr
        L as a function of ``variables``.
    variables : sympy.Symbol or sequence of sympy.Symbol
        The coordinates.

    Returns
    -------
    list of sympy.Expr

    Notes
    -----
    Gradient descent on L is :func:`euler_step` applied to this field.
    Derived in chapter 3.
    """
    if not isinstance(loss, sp.Expr):
        raise TypeError(f"loss must be a sympy expression, got {type(loss).__name__}")
    if isinstance(variables, sp.Symbol):
        variables = [variables]
    if isinstance(variables, (str, bytes)) or not isinstance(variables, Sequence):
        raise TypeError(f"variables must be a sequence of sympy Symbols, got {type(variables).__name__}")
    variables = _check_variables(variables, len(variables))
    return [-sp.diff(loss, v) for v in variables]


def field_curl(field: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Matrix:
    """Antisymmetric part J − Jᵀ of the Jacobian of a field (its curl).

    Parameters
    ----------
    field : sequence of sympy.Expr
        The vector field F.
    variables : sequence of sympy.Symbol
        The coordinates.

    Returns
    -------
    sympy.Matrix
        Entry (i, j) is ∂F_i/∂θ_j − ∂F_j/∂θ_i, simplified. On a simply
        connected domain F is a gradient field (F = −∇V for some V) iff this
        matrix vanishes identically; in 2-D the single entry (1, 0) is the
        scalar curl ∂F_2/∂θ_1 − ∂F_1/∂θ_2.

    Notes
    -----
    For gradient descent the second-order modified term has curl
    −(1/6)(H T[g] − T[g] H), non-zero in general. Derived in chapter 3.
    """
    field = _check_exprs("field", field)
    variables = _check_variables(variables, len(field))
    jac = sp.Matrix([[sp.diff(fi, v) for v in variables] for fi in field])
    return (jac - jac.T).applyfunc(sp.simplify)
