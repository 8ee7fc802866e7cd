"""The step-size loop at the stability edge: stability functions and the linearised controller loop (chapter 1).

An explicit method with error control, run on a stiff problem, ends at its
stability edge: a step below the edge lets the stiff component decay, the
error estimate shrinks and the controller grows the step; a step above it
lets the stiff component grow until the estimate pulls the step back.  Hall
(1985) called the resulting state an *equilibrium* of the scheme; whether the
step sequence settles there or oscillates around it is a question about a
small feedback loop, which this module linearises.

* :func:`rk_stability_polynomial` and :func:`real_stability_boundary`: the
  stability function R(z) of an explicit Runge–Kutta method and the length x*
  of its real stability interval (x* = 2 for Euler, that is gradient descent).
* :func:`edge_loop_matrix`: the linearised loop of (log step, log stiff
  amplitude) at Euler's edge, for a Söderlind-form controller of the
  Heun–Euler error estimate (the I and PI controllers of
  :mod:`lrtheory.odecontrol`) or for RMSprop's moving average with constant α.
* :func:`loop_modes`: spectral radius and oscillation period of such a loop, and
  :func:`measured_modes`: the same measured from a run (Prony's method).

Derived in chapter 1.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_int, check_scalar

__all__ = [
    "rk_stability_polynomial",
    "real_stability_boundary",
    "edge_loop_matrix",
    "loop_modes",
    "measured_modes",
]


def rk_stability_polynomial(A: object, b: object) -> np.ndarray:
    """Coefficients (constant first) of the stability function of an explicit Runge–Kutta method.

    Parameters
    ----------
    A : array_like, shape (s, s)
        The Butcher matrix; must be strictly lower triangular (explicit method).
    b : array_like, shape (s,)
        The weights of the propagated solution.

    Returns
    -------
    numpy.ndarray, shape (s + 1,)
        c_0, …, c_s with R(z) = Σ c_k z^k, the factor by which one step
        multiplies the solution of y′ = λy when z = hλ.

    Notes
    -----
    R(z) = 1 + z bᵀ(I − zA)⁻¹𝟙 = 1 + Σ_{k≥0} z^{k+1} bᵀA^k𝟙, a finite sum
    because A is nilpotent. Euler (A = [0], b = [1]) gives R(z) = 1 + z.
    Derived in chapter 1.
    """
    A = check_array("A", A, ndim=2, nonempty=True)
    s = A.shape[0]
    if A.shape != (s, s) or np.any(np.triu(A) != 0):
        raise ValueError("A must be a square, strictly lower-triangular matrix (an explicit method)")
    b = check_array("b", b, shape=(s,))
    coeffs = np.zeros(s + 1)
    coeffs[0] = 1.0
    v = np.ones(s)
    for k in range(s):
        coeffs[k + 1] = b @ v
        v = A @ v
    return coeffs


def real_stability_boundary(method: str | tuple[object, object] = "RK45") -> float:
    """Length x* of the negative real interval [−x*, 0] on which abs(R(z)) ≤ 1.

    Parameters
    ----------
    method : {"Euler", "RK23", "RK45"} or (A, b)
        A named method (scipy's tableaux for ``"RK23"`` and ``"RK45"``) or a
        Butcher pair as in :func:`rk_stability_polynomial`.

    Returns
    -------
    float
        x* such that, on L(θ) = ½λθ², the method is stable for steps
        h ≤ x*/λ; 2 for Euler (gradient descent).

    Notes
    -----
    Found by scanning R on [−10, 0] and refining the first crossing of
    abs(R) = 1 by bisection. Derived in chapter 1.
    """
    if isinstance(method, str):
        if method == "Euler":
            A, b = np.zeros((1, 1)), np.ones(1)
        elif method in ("RK23", "RK45"):
            from scipy.integrate import RK23, RK45

            cls = RK45 if method == "RK45" else RK23
            b = np.asarray(cls.B, dtype=float)
            A = np.zeros((b.size, b.size))
            A[:, : cls.A.shape[1]] = cls.A  # scipy stores A without its last (zero) column
        else:
            raise ValueError(f"method must be 'Euler', 'RK23', 'RK45' or a pair (A, b), got {method!r}")
    else:
        try:
            A, b = method
        except (TypeError, ValueError):
            raise TypeError("method must be a name or a pair (A, b)") from None
    poly = np.polynomial.Polynomial(rk_stability_polynomial(A, b))
    xs = np.linspace(0.0, 10.0, 100_001)
    bad = np.nonzero(np.abs(poly(-xs)) > 1.0 + 1e-12)[0]
    bad = bad[xs[bad] > 1e-3]
    if bad.size == 0:  # pragma: no cover - explicit methods have bounded stability regions
        return float("inf")
    lo, hi = xs[bad[0] - 1], xs[bad[0]]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if abs(poly(-mid)) > 1.0:
            hi = mid
        else:
            lo = mid
    return float(lo)


def edge_loop_matrix(
    controller: str | tuple[float, float, float] | None = None,
    *,
    alpha: float | None = None,
    kappa: float = 2.0,
    order: int = 2,
) -> np.ndarray:
    """The linearised step-size loop at Euler's stability edge on a stiff quadratic.

    Give either a step-size ``controller`` of the Heun–Euler estimate (a name
    of :data:`lrtheory.odecontrol.CONTROLLERS` or gains ``(kβ₁, kβ₂, α₂)``) or
    RMSprop's smoothing constant ``alpha``.

    Parameters
    ----------
    controller : str or (float, float, float), optional
        The controller whose loop to build.
    alpha : float, optional
        RMSprop's α in [0, 1) (the loop of scalar RMSprop, γ_n = γ̃/√G_{n+1}).
    kappa : float, optional
        d log abs(R(−x)) / d log x at the edge, > 0: 2 for Euler, where
        abs(R(−x)) = x − 1 near x = 2.
    order : int, optional
        k, the power of h in the error estimate (2 for Heun–Euler), ≥ 1.

    Returns
    -------
    numpy.ndarray
        For a controller, the 4×4 map of (u_n, v_n, u_{n−1}, v_{n−1}) with u the
        log step and v the log amplitude of the stiff component, both relative
        to the equilibrium; for RMSprop, the 2×2 map of (w_n, v_n) with w = log G.

    Raises
    ------
    ValueError, TypeError
        Unless exactly one of ``controller`` and ``alpha`` is given, or for bad values.

    Notes
    -----
    Near the edge the stiff amplitude obeys v_{n+1} = v_n + κ u_n.  The
    Heun–Euler estimate of a step is ½h²λ²·abs(c), so its log deviation is
    e_n = k u_n + v_n, and the controller of :func:`lrtheory.odecontrol.controller_factor`
    gives u_{n+1} = u_n − (β₁/k) e_n − (β₂/k) e_{n−1} − α₂(u_n − u_{n−1}).  For
    RMSprop the gradient is dominated by the stiff component, so to first
    order w_{n+1} = α w_n + 2(1 − α) v_n and u_n = −w_{n+1}/2.  The I controller
    gives eigenvalues e^{±iπ/3} (a persistent period-6 oscillation); RMSprop
    gives abs(z)² = α (a damped one; α = 0, normalised descent, leaves z = −1: the
    two-cycle).  Derived in chapter 1.
    """
    from .odecontrol import _gains

    if (controller is None) == (alpha is None):
        raise ValueError("give exactly one of controller and alpha")
    kappa = check_scalar("kappa", kappa, low=0.0, low_inclusive=False)
    if alpha is not None:
        a = check_scalar("alpha", alpha, low=0.0, high=1.0, high_inclusive=False)
        # (w, v) -> (a w + 2(1-a) v,  v - kappa/2 * w')
        w_row = np.array([a, 2.0 * (1.0 - a)])
        v_row = np.array([0.0, 1.0]) - 0.5 * kappa * w_row
        return np.array([w_row, v_row])
    k = check_int("order", order, low=1)
    b1, b2, a2 = _gains(controller)
    # state (u_n, v_n, u_{n-1}, v_{n-1}); e_n = k u_n + v_n
    u_row = np.array([1.0 - b1 - a2, -b1 / k, -b2 + a2, -b2 / k])
    v_row = np.array([kappa, 1.0, 0.0, 0.0])
    return np.array([u_row, v_row, [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


def loop_modes(matrix: object) -> tuple[float, float]:
    """Spectral radius and oscillation period (in steps) of a linear loop's dominant mode.

    Parameters
    ----------
    matrix : array_like, shape (m, m)
        The loop, e.g. from :func:`edge_loop_matrix`.

    Returns
    -------
    (float, float)
        ρ = max abs(z) over the eigenvalues (ρ < 1: deviations decay like ρⁿ;
        ρ = 1: they persist), and 2π/abs(arg z) of the dominant eigenvalue
        (``inf`` for a real positive one, 2 for a real negative one).

    Notes
    -----
    Derived in chapter 1.
    """
    m = check_array("matrix", matrix, ndim=2)
    if m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"matrix must be square and non-empty, got shape {m.shape}")
    z = np.linalg.eigvals(m)
    i = int(np.argmax(np.abs(z) + 1e-12 * np.abs(np.angle(z))))
    angle = abs(float(np.angle(z[i])))
    return float(np.abs(z[i])), (np.inf if angle < 1e-12 else 2.0 * np.pi / angle)


def measured_modes(sequence: object, order: int = 2) -> tuple[float, float]:
    """Spectral radius and period of the dominant mode *measured* from a sequence (Prony's method).

    Parameters
    ----------
    sequence : array_like, shape (n,)
        Samples of one component of a (nearly) linear loop, e.g. the log step
        deviation log(h_n λ/2) of a run near the edge; n > 2·order.
    order : int, optional
        Order m ≥ 1 of the linear recurrence fitted, at most the loop's dimension.

    Returns
    -------
    (float, float)
        As in :func:`loop_modes`, for the roots of the fitted recurrence
        s_{n+1} = a_1 s_n + … + a_m s_{n−m+1}.

    Notes
    -----
    Every component of a linear loop x_{n+1} = M x_n obeys the recurrence of
    M's minimal polynomial, so a least-squares fit of that recurrence to
    noise-free samples recovers M's eigenvalues; comparing them with
    :func:`loop_modes` of :func:`edge_loop_matrix` checks the linearisation
    against a run.  Derived in chapter 1.
    """
    s = check_array("sequence", sequence, ndim=1)
    m = check_int("order", order, low=1)
    if s.size <= 2 * m:
        raise ValueError(f"sequence must have more than 2*order = {2 * m} samples, got {s.size}")
    X = np.column_stack([s[m - 1 - j: s.size - 1 - j] for j in range(m)])
    coef, *_ = np.linalg.lstsq(X, s[m:], rcond=None)
    companion = np.zeros((m, m))
    companion[0] = coef
    companion[1:, :-1] = np.eye(m - 1)
    return loop_modes(companion)
