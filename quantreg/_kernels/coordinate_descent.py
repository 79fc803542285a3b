"""Coordinate descent for penalised least squares over Gram statistics (numba, no pandas).

Every selector of :mod:`quantreg.selection` reduces to one problem on the sufficient statistics
of a sample (or of one rolling window),

.. math::

    \\min_w \\; \\tfrac12 w^\\top G w - b^\\top w + \\sum_j p(|w_j|),

with ``G = XᵀX/n`` and ``b = Xᵀy/n`` (centred when an intercept is fitted). This is the
objective ``(1/2n)‖y − c − Xw‖² + Σ_j p(|w_j|)`` up to the constant ``(1/2n)‖y − c‖²``.

The penalty reaches the kernels as an integer ``kind`` plus a float64 ``params`` array whose
first entry is always ``alpha`` (no jitclasses, so every kernel is cached on disk):

==========  =====================  ============================================================
kind        params                 p(t), t = |w_j| ≥ 0
==========  =====================  ============================================================
``L1``      ``[alpha]``            ``alpha·t``
``L2``      ``[alpha]``            ``alpha·t²/2`` (solved in closed form, Cholesky)
``SCAD``    ``[alpha, a]``         Fan & Li (2001): ``alpha·t`` for ``t ≤ alpha``,
                                   ``(2·a·alpha·t − t² − alpha²)/(2(a − 1))`` up to ``a·alpha``,
                                   ``(a + 1)·alpha²/2`` beyond
``NN_L1``   ``[alpha]``            ``alpha·t`` with ``w_j ≥ 0`` (non-negative garrote factors)
``MCP``     ``[alpha, gamma]``     ``alpha·t − t²/(2·gamma)`` up to ``gamma·alpha``, then
                                   ``gamma·alpha²/2``; ``gamma = 1`` is Fan & Li's hard
                                   thresholding penalty (in this ``1/2`` scaling)
==========  =====================  ============================================================

The per-window entry point is :func:`cd_gram` ``(G, b, w, kind, params, max_iter, tol)``: it
updates ``w`` in place (warm start) and returns ``(n_iter, violation)``, so that a kernel looping
over rolling windows can call it with the previous window's solution. For the non-convex kinds
(SCAD, MCP) the estimators instead follow a continuation path from ``alpha_max`` down to
``alpha`` (:func:`cd_continuation_gram`, same signature plus the grid's length and ``eps``); a
window solved that way equals the estimator fitted on that window alone. ``violation`` is the
largest distance between ``−∇_j`` of the smooth part and the (Clarke) subdifferential of the
penalty at ``w_j`` — zero exactly at a stationary point; the loop stops when it is ``≤ tol``
(an absolute tolerance, in the units of ``b``). ``n_iter == -1`` flags a singular ridge system
(``alpha = 0`` with rank-deficient ``G``); ``w`` is then NaN.
"""

from __future__ import annotations

import numpy as np

from quantreg._kernels._jit import jit

__all__ = [
    "L1",
    "L2",
    "SCAD",
    "NN_L1",
    "MCP",
    "scad_threshold",
    "mcp_threshold",
    "prox_1d",
    "penalty_value",
    "penalty_derivative",
    "subdiff_distance",
    "kkt_violation",
    "cholesky_solve",
    "ridge_gram",
    "cd_gram",
    "cd_path_gram",
    "alpha_max_gram",
    "log_grid",
    "cd_continuation_gram",
    "effective_df",
    "path_mse_df",
    "subset_mse",
    "threshold_many",
]

L1 = 0
L2 = 1
SCAD = 2
NN_L1 = 3
MCP = 4

# Cholesky pivots below this fraction of the largest diagonal entry mean "singular".
_SINGULAR_RTOL = 1e-12


@jit()
def scad_threshold(z: float, d: float, alpha: float, a: float) -> float:
    """Global minimiser of ``(d/2)(t − z)² + p_SCAD(|t|)`` over ``t`` (``d > 0``, ``a > 1``).

    With ``d = 1`` this is Fan & Li's (2001, eq. 2.8) SCAD thresholding rule. When
    ``d(a − 1) > 1`` the univariate problem is convex and the rule is closed form; otherwise
    the minimiser is the best of the piecewise candidates (the middle piece is then concave).
    """
    if alpha <= 0.0:
        return z
    az = abs(z)
    s = 1.0 if z >= 0.0 else -1.0
    c = d * (a - 1.0)
    if c > 1.0:
        if az <= alpha / d:
            return 0.0
        if az <= alpha * (1.0 + 1.0 / d):
            return s * (az - alpha / d)
        if az <= a * alpha:
            return s * (c * az - a * alpha) / (c - 1.0)
        return z
    # non-convex univariate problem: compare the candidates of each piece (t >= 0)
    best_t = 0.0
    best_f = 0.5 * d * az * az
    t1 = az - alpha / d
    if t1 < 0.0:
        t1 = 0.0
    if t1 > alpha:
        t1 = alpha
    t3 = az if az > a * alpha else a * alpha
    for t in (t1, alpha, a * alpha, t3):
        if t <= alpha:
            pen = alpha * t
        elif t <= a * alpha:
            pen = (2.0 * a * alpha * t - t * t - alpha * alpha) / (2.0 * (a - 1.0))
        else:
            pen = 0.5 * (a + 1.0) * alpha * alpha
        f = 0.5 * d * (t - az) * (t - az) + pen
        if f < best_f:
            best_f = f
            best_t = t
    return s * best_t


@jit()
def mcp_threshold(z: float, d: float, alpha: float, gamma: float) -> float:
    """Global minimiser of ``(d/2)(t − z)² + p_MCP(|t|)`` (firm thresholding; hard when γ = 1)."""
    if alpha <= 0.0:
        return z
    az = abs(z)
    s = 1.0 if z >= 0.0 else -1.0
    c = d * gamma
    if c > 1.0:
        if az <= alpha / d:
            return 0.0
        if az <= gamma * alpha:
            return s * gamma * (d * az - alpha) / (c - 1.0)
        return z
    best_t = 0.0
    best_f = 0.5 * d * az * az
    t2 = az if az > gamma * alpha else gamma * alpha
    for t in (gamma * alpha, t2):
        pen = 0.5 * gamma * alpha * alpha
        f = 0.5 * d * (t - az) * (t - az) + pen
        if f < best_f:
            best_f = f
            best_t = t
    return s * best_t


@jit()
def prox_1d(kind: int, params: np.ndarray, r: float, d: float) -> float:
    """Minimiser of ``(d/2)t² − r·t + p(|t|)``: the coordinate update of :func:`cd_gram`."""
    if d <= 0.0:
        return 0.0
    alpha = params[0]
    if kind == L1:
        if r > alpha:
            return (r - alpha) / d
        if r < -alpha:
            return (r + alpha) / d
        return 0.0
    if kind == L2:
        return r / (d + alpha)
    if kind == SCAD:
        return scad_threshold(r / d, d, alpha, params[1])
    if kind == NN_L1:
        if r > alpha:
            return (r - alpha) / d
        return 0.0
    if kind == MCP:
        return mcp_threshold(r / d, d, alpha, params[1])
    return np.nan


@jit()
def penalty_value(kind: int, params: np.ndarray, w: float) -> float:
    """``p(|w|)`` for one coefficient (``inf`` for a negative garrote factor)."""
    alpha = params[0]
    t = abs(w)
    if kind == L1:
        return alpha * t
    if kind == L2:
        return 0.5 * alpha * t * t
    if kind == SCAD:
        a = params[1]
        if t <= alpha:
            return alpha * t
        if t <= a * alpha:
            return (2.0 * a * alpha * t - t * t - alpha * alpha) / (2.0 * (a - 1.0))
        return 0.5 * (a + 1.0) * alpha * alpha
    if kind == NN_L1:
        if w < 0.0:
            return np.inf
        return alpha * w
    if kind == MCP:
        gamma = params[1]
        if t <= gamma * alpha:
            return alpha * t - t * t / (2.0 * gamma)
        return 0.5 * gamma * alpha * alpha
    return np.nan


@jit()
def penalty_derivative(kind: int, params: np.ndarray, t: float) -> float:
    """``p'(t)`` for ``t ≥ 0`` (the right derivative at 0, i.e. ``alpha`` for the sparse kinds)."""
    alpha = params[0]
    t = abs(t)
    if kind == L1 or kind == NN_L1:
        return alpha
    if kind == L2:
        return alpha * t
    if kind == SCAD:
        a = params[1]
        if t <= alpha:
            return alpha
        if t < a * alpha:
            return (a * alpha - t) / (a - 1.0)
        return 0.0
    if kind == MCP:
        v = alpha - t / params[1]
        return v if v > 0.0 else 0.0
    return np.nan


@jit()
def subdiff_distance(kind: int, params: np.ndarray, wj: float, gj: float) -> float:
    """Distance from ``−gj`` to the (Clarke) subdifferential of ``p(|·|)`` at ``wj``.

    ``gj`` is the gradient of the smooth part, ``(Gw − b)_j``; zero distance for every ``j``
    is the optimality (stationarity) certificate.
    """
    alpha = params[0]
    if kind == L2:
        return abs(gj + alpha * wj)
    if kind == NN_L1:
        if wj > 0.0:
            return abs(gj + alpha)
        v = -gj - alpha
        return v if v > 0.0 else 0.0
    if wj == 0.0:
        v = abs(gj) - alpha
        return v if v > 0.0 else 0.0
    s = 1.0 if wj > 0.0 else -1.0
    return abs(gj + s * penalty_derivative(kind, params, wj))


@jit()
def _matvec(G: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    p = w.shape[0]
    for i in range(p):
        acc = 0.0
        for k in range(p):
            acc += G[i, k] * w[k]
        out[i] = acc


@jit()
def _violation(q: np.ndarray, b: np.ndarray, w: np.ndarray, kind: int, params: np.ndarray) -> float:
    worst = 0.0
    for j in range(w.shape[0]):
        v = subdiff_distance(kind, params, w[j], q[j] - b[j])
        if v > worst or v != v:
            worst = v
    return worst


@jit()
def kkt_violation(G: np.ndarray, b: np.ndarray, w: np.ndarray, kind: int, params: np.ndarray) -> float:
    """Largest subgradient distance at ``w`` (0 at a stationary point)."""
    q = np.empty(w.shape[0])
    _matvec(G, w, q)
    return _violation(q, b, w, kind, params)


@jit(address=True)
def cholesky_solve(A: np.ndarray, rhs: np.ndarray, out: np.ndarray) -> int:
    """Solve ``A x = rhs`` for a symmetric positive definite ``A`` (not modified).

    Returns 0 on success and 1 when a pivot is below ``1e-12`` times the largest diagonal
    entry (singular or numerically singular ``A``); ``out`` is then left unspecified.
    """
    p = A.shape[0]
    L = np.zeros((p, p))
    scale = 0.0
    for i in range(p):
        if A[i, i] > scale:
            scale = A[i, i]
    if not scale > 0.0:
        return 1 if p > 0 else 0
    thresh = _SINGULAR_RTOL * scale
    for j in range(p):
        s = A[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > thresh:
            return 1
        ljj = np.sqrt(s)
        L[j, j] = ljj
        for i in range(j + 1, p):
            s = A[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / ljj
    for i in range(p):
        s = rhs[i]
        for k in range(i):
            s -= L[i, k] * out[k]
        out[i] = s / L[i, i]
    for i in range(p - 1, -1, -1):
        s = out[i]
        for k in range(i + 1, p):
            s -= L[k, i] * out[k]
        out[i] = s / L[i, i]
    return 0


@jit()
def ridge_gram(G: np.ndarray, b: np.ndarray, alpha: float, w: np.ndarray) -> int:
    """Closed-form ridge ``(G + alpha·I) w = b`` by Cholesky; returns 0, or 1 if singular."""
    p = b.shape[0]
    A = G.copy()
    for j in range(p):
        A[j, j] += alpha
    return cholesky_solve(A, b, w)


@jit(address=True)
def cd_gram(
    G: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    kind: int,
    params: np.ndarray,
    max_iter: int,
    tol: float,
) -> tuple[int, float]:
    """Minimise ``½wᵀGw − bᵀw + Σ p(|w_j|)`` by cyclic coordinate descent, ``w`` in place.

    Parameters
    ----------
    G : ndarray of shape (p, p)
        ``XᵀX/n`` (centred when an intercept is fitted); symmetric positive semi-definite.
    b : ndarray of shape (p,)
        ``Xᵀy/n`` (centred likewise).
    w : ndarray of shape (p,)
        Starting point (warm start); overwritten with the solution.
    kind : int
        Penalty kind (``L1``, ``L2``, ``SCAD``, ``NN_L1``, ``MCP``).
    params : ndarray of float64
        ``[alpha, ...]`` (see the module docstring).
    max_iter : int
        Maximum number of sweeps over the coordinates.
    tol : float
        Absolute tolerance on the largest subgradient distance.

    Returns
    -------
    n_iter : int
        Sweeps used (``1`` for the closed-form ridge, ``-1`` if the ridge system is singular).
    violation : float
        Largest subgradient distance at the returned ``w``.

    Notes
    -----
    Coordinate ``j`` is set to ``argmin_t (G_jj/2)t² − r_j t + p(|t|)`` with
    ``r_j = b_j − Σ_{k≠j} G_jk w_k``; ``q = Gw`` is updated in ``O(p)`` per change and recomputed
    exactly before convergence is declared.

    Examples
    --------
    >>> import numpy as np
    >>> G = np.array([[1.0, 0.5], [0.5, 1.0]]); b = np.array([1.0, 0.2]); w = np.zeros(2)
    >>> n_iter, violation = cd_gram(G, b, w, L1, np.array([0.1]), 100, 1e-12)
    >>> w, bool(violation <= 1e-12)
    (array([ 1. , -0.2]), True)
    """
    p = b.shape[0]
    if kind == L2:
        status = ridge_gram(G, b, params[0], w)
        if status != 0:
            for j in range(p):
                w[j] = np.nan
            return -1, np.nan
        return 1, kkt_violation(G, b, w, kind, params)
    q = np.empty(p)
    _matvec(G, w, q)
    viol = np.inf
    for it in range(max_iter):
        for j in range(p):
            d = G[j, j]
            wj = w[j]
            r = b[j] - q[j] + d * wj
            new = prox_1d(kind, params, r, d)
            if new != wj:
                delta = new - wj
                for k in range(p):
                    q[k] += G[k, j] * delta
                w[j] = new
        viol = _violation(q, b, w, kind, params)
        if viol <= tol:
            _matvec(G, w, q)
            viol = _violation(q, b, w, kind, params)
            if viol <= tol:
                return it + 1, viol
    return max_iter, viol


@jit()
def cd_path_gram(
    G: np.ndarray,
    b: np.ndarray,
    alphas: np.ndarray,
    kind: int,
    params: np.ndarray,
    w: np.ndarray,
    max_iter: int,
    tol: float,
    coefs: np.ndarray,
    n_iters: np.ndarray,
    violations: np.ndarray,
) -> None:
    """Solve along ``alphas`` (decreasing), each fit warm-started from the previous one.

    ``params[0]`` is replaced by each ``alphas[k]`` (``params`` itself is not modified);
    ``w`` is the starting point and ends as the last solution. Row ``k`` of ``coefs`` receives
    the solution at ``alphas[k]``, with its sweep count and violation.
    """
    prm = params.copy()
    for k in range(alphas.shape[0]):
        prm[0] = alphas[k]
        it, viol = cd_gram(G, b, w, kind, prm, max_iter, tol)
        for j in range(w.shape[0]):
            coefs[k, j] = w[j]
        n_iters[k] = it
        violations[k] = viol


@jit()
def alpha_max_gram(G: np.ndarray, b: np.ndarray, kind: int) -> float:
    """Top of the default alpha grid.

    ``max_j |b_j|`` (the smallest alpha with ``w = 0`` stationary) for ``L1``/``SCAD``/``MCP``,
    ``max(max_j b_j, 0)`` for ``NN_L1``, and ``100·tr(G)/p`` for ``L2``.
    """
    p = b.shape[0]
    top = 0.0
    if kind == L2:
        for j in range(p):
            top += G[j, j]
        return 100.0 * top / p if p > 0 else 0.0
    for j in range(p):
        v = b[j] if kind == NN_L1 else abs(b[j])
        if v > top:
            top = v
    return top


@jit()
def log_grid(top: float, eps: float, out: np.ndarray) -> None:
    """``out[k] = top·eps^(k/(m − 1))``: ``m = len(out)`` log-spaced values from ``top`` down."""
    m = out.shape[0]
    if m == 0:
        return
    out[0] = top
    step = np.log(eps) / (m - 1) if m > 1 else 0.0
    for k in range(1, m):
        out[k] = top * np.exp(step * k)


@jit(address=True)
def cd_continuation_gram(
    G: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    kind: int,
    params: np.ndarray,
    n_alphas: int,
    eps: float,
    max_iter: int,
    tol: float,
) -> tuple[int, float]:
    """Fit at ``alpha = params[0]`` by continuation: ``w ← 0``, then :func:`cd_gram` at every
    point of the default grid (``alpha_max_gram``, :func:`log_grid`) above ``alpha``, each warm
    started from the previous one, and finally at ``alpha``.

    The answer depends only on ``(G, b, kind, params)`` — not on a starting point — which makes
    the local minimum found for the non-convex penalties reproducible. Returns the total sweeps
    and the final violation.
    """
    for j in range(w.shape[0]):
        w[j] = 0.0
    alpha = params[0]
    top = alpha_max_gram(G, b, kind)
    if top < 1e-300:
        top = 1e-300
    grid = np.empty(n_alphas)
    log_grid(top, eps, grid)
    prm = params.copy()
    total = 0
    for k in range(n_alphas):
        if not grid[k] > alpha:
            break
        prm[0] = grid[k]
        it, _ = cd_gram(G, b, w, kind, prm, max_iter, tol)
        total += it
    prm[0] = alpha
    it, viol = cd_gram(G, b, w, kind, prm, max_iter, tol)
    return total + it, viol


@jit()
def effective_df(G: np.ndarray, w: np.ndarray, kind: int, params: np.ndarray) -> float:
    """Fan & Li's effective number of parameters ``tr[(G_A + Σ_A)⁻¹ G_A]``.

    ``A`` holds the non-zero coefficients (every column with ``G_jj > 0`` for ``L2``) and
    ``Σ = diag(p'(|w_j|)/|w_j|)``; this equals ``tr[X_A(X_AᵀX_A + nΣ_A)⁻¹X_Aᵀ]``. NaN when
    ``G_A + Σ_A`` is singular.
    """
    p = w.shape[0]
    idx = np.empty(p, dtype=np.int64)
    k = 0
    for j in range(p):
        if kind == L2:
            if G[j, j] > 0.0:
                idx[k] = j
                k += 1
        elif w[j] != 0.0 and w[j] == w[j]:
            idx[k] = j
            k += 1
    if k == 0:
        return 0.0
    M = np.empty((k, k))
    GA = np.empty((k, k))
    for i in range(k):
        for m in range(k):
            GA[i, m] = G[idx[i], idx[m]]
            M[i, m] = GA[i, m]
        wi = w[idx[i]]
        if kind == L2:
            M[i, i] += params[0]
        else:
            M[i, i] += penalty_derivative(kind, params, wi) / abs(wi)
    col = np.empty(k)
    sol = np.empty(k)
    trace = 0.0
    for m in range(k):
        for i in range(k):
            col[i] = GA[i, m]
        if cholesky_solve(M, col, sol) != 0:
            return np.nan
        trace += sol[m]
    return trace


@jit()
def path_mse_df(
    G: np.ndarray,
    b: np.ndarray,
    syy: float,
    alphas: np.ndarray,
    kind: int,
    params: np.ndarray,
    coefs: np.ndarray,
    mse: np.ndarray,
    df: np.ndarray,
) -> None:
    """Training mean squared error ``syy − 2bᵀw + wᵀGw`` and :func:`effective_df` along a path."""
    p = b.shape[0]
    prm = params.copy()
    q = np.empty(p)
    for k in range(alphas.shape[0]):
        prm[0] = alphas[k]
        w = coefs[k]
        _matvec(G, w, q)
        acc = syy
        for j in range(p):
            acc += w[j] * q[j] - 2.0 * b[j] * w[j]
        mse[k] = acc if acc > 0.0 else 0.0
        df[k] = effective_df(G, w, kind, prm)


@jit()
def subset_mse(G: np.ndarray, b: np.ndarray, syy: float, mse: np.ndarray) -> None:
    """Least-squares ``syy − b_Aᵀ G_A⁻¹ b_A`` for every subset ``A`` (bit mask), NaN if singular.

    ``mse`` has length ``2**p``; entry ``mask`` is the training mean squared error of the
    least-squares fit on the columns whose bits are set (the empty model has ``syy``).
    """
    p = b.shape[0]
    idx = np.empty(p, dtype=np.int64)
    mse[0] = syy
    for mask in range(1, 1 << p):
        k = 0
        for j in range(p):
            if (mask >> j) & 1:
                idx[k] = j
                k += 1
        A = np.empty((k, k))
        rhs = np.empty(k)
        sol = np.empty(k)
        for i in range(k):
            rhs[i] = b[idx[i]]
            for m in range(k):
                A[i, m] = G[idx[i], idx[m]]
        if cholesky_solve(A, rhs, sol) != 0:
            mse[mask] = np.nan
            continue
        acc = syy
        for i in range(k):
            acc -= rhs[i] * sol[i]
        mse[mask] = acc if acc > 0.0 else 0.0


@jit()
def threshold_many(kind: int, params: np.ndarray, z: np.ndarray, d: float, out: np.ndarray) -> None:
    """Univariate rule ``argmin_t (d/2)(t − z_i)² + p(|t|)`` for every ``z_i``."""
    for i in range(z.shape[0]):
        out[i] = prox_1d(kind, params, d * z[i], d)
