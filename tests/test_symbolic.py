"""Tests for lrtheory.symbolic against closed forms and sympy's own Bernoulli numbers."""

from __future__ import annotations

import pytest
import sympy as sp

from lrtheory import symbolic as S

y, h, lam = sp.symbols("y h lambda")
a, b = sp.symbols("a b")


def test_coefficients_match_sympy_bernoulli():
    c = S.bernoulli_operator_coefficients(14)
    assert c[0] == 1
    assert c[1] == sp.Rational(-1, 2)  # sympy >= 1.12 uses B_1 = +1/2, so n = 1 is checked by hand
    for n in range(2, 15):
        assert c[n] == sp.bernoulli(n) / sp.factorial(n)


def test_odd_coefficients_vanish_beyond_the_first():
    c = S.bernoulli_operator_coefficients(21)
    assert all(c[n] == 0 for n in range(3, 22, 2))
    assert c[4] == sp.Rational(-1, 720)


def test_series_times_exp_minus_one_is_x():
    x = sp.Symbol("x")
    order = 8
    poly = S.bernoulli_operator_series(order, x)
    prod = sp.series(poly * (sp.exp(x) - 1), x, 0, order + 2).removeO()
    assert sp.expand(prod - x) == 0
    assert sp.expand(poly - sum(ci * x**n for n, ci in enumerate(S.bernoulli_operator_coefficients(order)))) == 0


def test_flow_series_of_linear_field_is_exponential():
    flow = S.flow_series([-lam * y], [y], h, 6)[0]
    exact = sp.series(y * sp.exp(-lam * h), h, 0, 7).removeO()
    assert sp.expand(flow - exact) == 0


def test_modified_field_of_linear_field_is_log_series():
    # Euler maps y to (1 - h lam) y, which is the exact time-h flow of y' = mu y with
    # mu = log(1 - h lam) / h; its Taylor series in h is the full modified field.
    terms = S.modified_field_terms([-lam * y], [y], h, 4)
    mu = sp.series(sp.log(1 - h * lam) / h, h, 0, 5).removeO()
    for j in range(5):
        assert sp.simplify(terms[j][0] - sp.expand(mu).coeff(h, j) * y) == 0


def test_general_1d_terms_match_hairer_lubich_wanner():
    f = sp.Function("f")(y)
    fp, fpp = sp.diff(f, y), sp.diff(f, y, 2)
    terms = S.modified_field_terms(f, [y], h, 2)
    assert sp.simplify(terms[1][0] - (-fp * f / 2)) == 0
    assert sp.simplify(terms[2][0] - (fp**2 * f / 3 + fpp * f**2 / 12)) == 0


def test_first_order_field_is_gradient_of_modified_loss():
    loss = (a * b - 1) ** 2 / 2 + a**4 / 7
    field = S.modified_field(S.gradient_field(loss, [a, b]), [a, b], h, 1)
    grad_sq = sum(sp.diff(loss, v) ** 2 for v in (a, b))
    target = S.gradient_field(loss + h / 4 * grad_sq, [a, b])
    assert all(sp.simplify(fi - ti) == 0 for fi, ti in zip(field, target))


def test_is_modified_field_accepts_derived_and_rejects_wrong_fields():
    field = S.gradient_field((a * b - 1) ** 2 / 2, [a, b])
    for order in (1, 2, 3):
        mod = S.modified_field(field, [a, b], h, order)
        assert S.is_modified_field(field, mod, [a, b], h, order)
    first = S.modified_field(field, [a, b], h, 1)
    assert not S.is_modified_field(field, first, [a, b], h, 2)
    assert not S.is_modified_field(field, field, [a, b], h, 1)
    terms = S.modified_field_terms(field, [a, b], h, 1)
    wrong = [f0 + h * sp.Rational(2, 3) * f1 for f0, f1 in zip(*terms)]
    assert not S.is_modified_field(field, wrong, [a, b], h, 1)


def test_curl_zero_for_quadratic_nonzero_for_toy():
    quad = S.gradient_field(3 * a**2 + a * b + b**2 / 2, [a, b])
    assert S.field_curl(S.modified_field_terms(quad, [a, b], h, 2)[2], [a, b]) == sp.zeros(2, 2)
    toy = S.gradient_field((a * b - 1) ** 2 / 2, [a, b])
    curl = S.field_curl(S.modified_field_terms(toy, [a, b], h, 2)[2], [a, b])
    assert curl[1, 0] != 0
    assert sp.simplify(curl + curl.T) == sp.zeros(2, 2)
    grad_curl = S.field_curl(toy, [a, b])
    assert grad_curl == sp.zeros(2, 2)


def test_lie_derivative_is_chain_rule():
    u = a**2 * sp.sin(b)
    assert sp.simplify(S.lie_derivative(u, [b, -a], [a, b]) - (2 * a * b * sp.sin(b) - a**3 * sp.cos(b))) == 0


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="order"):
        S.bernoulli_operator_coefficients(-1)
    with pytest.raises(TypeError, match="order"):
        S.bernoulli_operator_series(1.5)
    with pytest.raises(TypeError, match="h"):
        S.flow_series([y], [y], "h", 2)
    with pytest.raises(ValueError, match="variables"):
        S.modified_field([a, b], [a], h, 1)
    with pytest.raises(ValueError, match="field"):
        S.modified_field([h * y], [y], h, 1)
    with pytest.raises(ValueError, match="candidate"):
        S.modified_field_residuals([a, b], [a], [a, b], h, 1)
    with pytest.raises(TypeError, match="field"):
        S.modified_field(3, [y], h, 1)
    with pytest.raises(TypeError, match="loss"):
        S.gradient_field("a*b", [a, b])
