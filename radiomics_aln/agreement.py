"""Agreement between raters on categories: Cohen's kappa (weighted) and Fleiss' kappa.

- :func:`cohen_kappa` -- two raters (or a rater against the truth), unweighted or weighted
  (linear, quadratic or any agreement-weight matrix), with the large-sample variance of
  Fleiss, Cohen & Everitt (1969) and a normal confidence interval (``psych::cohen.kappa``);
- :func:`fleiss_kappa` -- more than two raters, Fleiss (1971), with the standard error under
  the null hypothesis of Fleiss, Nee & Landis (1979), its z test, and a bootstrap interval over
  subjects.

Both take ratings per subject (one value per subject and rater; no missing value) and return a
tidy one-row :class:`pandas.DataFrame` with ``estimate``, ``se``, ``ci_low``, ``ci_high``.
The reader study (:mod:`radiomics_aln.readers`) uses them for the agreement between readers and
between each reader and the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._bootstrap import resample_indices
from radiomics_aln._validation import check_conf_level, check_n_boot, format_items
from radiomics_aln.exceptions import InputError

__all__ = ["cohen_kappa", "fleiss_kappa", "KAPPA_WEIGHTS"]

#: the named weights of :func:`cohen_kappa`
KAPPA_WEIGHTS = ("linear", "quadratic")


def _ratings(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    missing = [i for i, v in enumerate(arr) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise InputError(
            f"`{name}` has missing ratings at positions {format_items(missing)}; "
            "kappa needs a rating of every subject by every rater (drop those subjects first)"
        )
    return arr


def _categories(values: np.ndarray, levels: Sequence[Any] | None) -> list[Any]:
    observed = list(pd.unique(values))
    if levels is None:
        try:
            return sorted(observed)
        except TypeError as exc:
            raise InputError(
                f"ratings of mixed types cannot be ordered ({format_items(observed)}); "
                "pass `levels=` in the intended order"
            ) from exc
    levels = list(levels)
    if len(set(levels)) != len(levels):
        raise InputError(f"`levels` has duplicates: {format_items(levels)}")
    unknown = [v for v in observed if v not in levels]
    if unknown:
        raise InputError(f"ratings {format_items(unknown)} are not among `levels` {levels}")
    return levels


def _weight_matrix(weights: Any, k: int) -> np.ndarray:
    if weights is None:
        return np.eye(k)
    if isinstance(weights, str):
        if weights not in KAPPA_WEIGHTS:
            raise InputError(f"`weights` must be None, {KAPPA_WEIGHTS} or a matrix, got {weights!r}")
        if k < 2:
            return np.ones((1, 1))
        d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
        return 1 - (d if weights == "linear" else d**2)
    w = np.asarray(weights, dtype=float)
    if w.shape != (k, k):
        raise InputError(f"a `weights` matrix must be {k} x {k} (one row per level), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any((w < 0) | (w > 1)) or not np.allclose(np.diag(w), 1):
        raise InputError("a `weights` matrix holds agreement weights in [0, 1] with 1 on the diagonal")
    return w


def cohen_kappa(
    a: Any,
    b: Any,
    *,
    weights: Literal["linear", "quadratic"] | np.ndarray | None = None,
    levels: Sequence[Any] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Cohen's kappa between two raters, unweighted or weighted, with its confidence interval.

    Parameters
    ----------
    a, b : array-like
        The two raters' ratings of the same subjects, same order (numbers or labels). A rater
        against the truth: pass the outcome as ``b``.
    weights : {None, "linear", "quadratic"} or 2-D array
        ``None``: unweighted kappa. ``"linear"`` / ``"quadratic"``: agreement weights
        ``1 - |i - j| / (k - 1)`` / ``1 - (i - j)^2 / (k - 1)^2`` over the ``k`` levels in
        order (``psych::cohen.kappa``'s default weights are the quadratic ones). A ``k x k``
        array: your own agreement weights (1 on the diagonal).
    levels : sequence, optional
        The categories in order (default: the sorted values seen in ``a`` and ``b``). Give all
        levels of a scale (e.g. 1-5) when some are unused: the weights depend on ``k``.
    conf_level : float
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row indexed ``"kappa"`` (unweighted) or ``"weighted_kappa"``: ``estimate``,
        ``se``, ``ci_low``, ``ci_high`` (clipped to [-1, 1]), ``p_observed`` (weighted
        observed agreement), ``p_expected`` (chance agreement), ``n``, ``n_levels``,
        ``weights`` (``"none"``, ``"linear"``, ``"quadratic"`` or ``"custom"``),
        ``conf_level``.

    Raises
    ------
    InputError
        Missing ratings, lengths that differ, ratings outside ``levels``, bad ``weights``.

    Notes
    -----
    With ``p_ij`` the proportions of the ``k x k`` table, row/column margins ``p_i.``,
    ``p_.j`` and agreement weights ``w_ij``: ``p_o = sum w_ij p_ij``,
    ``p_e = sum w_ij p_i. p_.j`` and ``kappa = (p_o - p_e) / (1 - p_e)``. The variance is the
    large-sample one of Fleiss, Cohen & Everitt (1969),
    ``[sum p_ij (w_ij (1 - p_e) - (wbar_i. + wbar_.j)(1 - p_o))^2 - (p_o p_e - 2 p_e + p_o)^2]
    / (n (1 - p_e)^4)`` with ``wbar_i. = sum_j p_.j w_ij`` and ``wbar_.j = sum_i p_i. w_ij``;
    the interval is ``kappa -/+ z se``, clipped to [-1, 1].

    Unweighted: equal to ``psych::cohen.kappa`` (estimate, ``var.kappa``, ``confid``).
    Weighted: the estimate equals ``psych::cohen.kappa`` (``weighted.kappa``, with
    ``w = NULL`` for quadratic weights or the linear weight matrix); the variance is Fleiss,
    Cohen & Everitt's (equal to statsmodels' ``cohens_kappa``), **not** psych's
    ``var.weighted``: psych 2.2.9 averages the weights over the wrong margins and often gets a
    negative variance, which it sets to 0 (a zero-width interval). psych orders levels as
    text (``"10" < "9"``); here numbers sort as numbers.

    References
    ----------
    Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37-46.
    Cohen J (1968). Weighted kappa. Psychol Bull 70:213-220.
    Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted
    kappa. Psychol Bull 72:323-327.

    Examples
    --------
    >>> a = [1, 2, 2, 3, 3, 3, 1, 2, 3, 1]
    >>> b = [1, 2, 3, 3, 3, 2, 1, 1, 3, 1]
    >>> cohen_kappa(a, b)[["estimate", "se", "ci_low", "ci_high"]].round(4)
           estimate      se  ci_low  ci_high
    kappa    0.5455  0.2092  0.1355   0.9554
    >>> # R: psych::cohen.kappa(cbind(a, b))$confid["unweighted kappa", ]
    >>> cohen_kappa(a, b, weights="quadratic")["estimate"].round(4).item()
    0.8
    """
    conf_level = check_conf_level(conf_level)
    aa, bb = _ratings(a, "a"), _ratings(b, "b")
    if aa.size != bb.size:
        raise InputError(f"`a` and `b` must have the same length, got {aa.size} and {bb.size}")
    if aa.size == 0:
        raise InputError("`a` and `b` are empty")
    cats = _categories(np.concatenate([aa, bb]), levels)
    k = len(cats)
    w = _weight_matrix(weights, k)
    pos = {c: i for i, c in enumerate(cats)}
    table = np.zeros((k, k))
    np.add.at(table, ([pos[v] for v in aa], [pos[v] for v in bb]), 1)
    n = aa.size
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.sum(w * p))
    pe = float(np.sum(w * np.outer(rows, cols)))
    if pe >= 1:
        est = se = float("nan")  # one category only: kappa undefined (psych returns NA)
    else:
        est = (po - pe) / (1 - pe)
        wi, wj = w @ cols, w.T @ rows
        inner = w * (1 - pe) - np.add.outer(wi, wj) * (1 - po)
        var = (np.sum(p * inner**2) - (po * pe - 2 * pe + po) ** 2) / (n * (1 - pe) ** 4)
        se = float(np.sqrt(max(var, 0.0)))
    z = stats.norm.ppf(0.5 + conf_level / 2)
    label = "none" if weights is None else weights if isinstance(weights, str) else "custom"
    return pd.DataFrame(
        {
            "estimate": [est],
            "se": [se],
            "ci_low": [max(est - z * se, -1.0) if est == est else est],
            "ci_high": [min(est + z * se, 1.0) if est == est else est],
            "p_observed": [po],
            "p_expected": [pe],
            "n": [n],
            "n_levels": [k],
            "weights": [label],
            "conf_level": [conf_level],
        },
        index=pd.Index(["kappa" if weights is None else "weighted_kappa"]),
    )


def _fleiss_counts(ratings: np.ndarray, cats: list[Any]) -> np.ndarray:
    pos = {c: i for i, c in enumerate(cats)}
    counts = np.zeros((ratings.shape[0], len(cats)))
    for j in range(ratings.shape[1]):
        np.add.at(counts, (np.arange(ratings.shape[0]), [pos[v] for v in ratings[:, j]]), 1)
    return counts


def _fleiss_from_counts(counts: np.ndarray, m: int) -> np.ndarray:
    """Fleiss' kappa of one or many (``..., subjects, k``) count arrays."""
    n_sub = counts.shape[-2]
    pj = counts.sum(axis=-2) / (n_sub * m)
    agree = ((counts**2).sum(axis=-1) - m) / (m * (m - 1))
    po = agree.mean(axis=-1)
    pe = (pj**2).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (po - pe) / (1 - pe)


def fleiss_kappa(
    ratings: Any,
    *,
    levels: Sequence[Any] | None = None,
    conf_level: float = 0.95,
    n_boot: int = 2000,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Fleiss' kappa for more than two raters, with its z test and a bootstrap interval.

    Parameters
    ----------
    ratings : 2-D array-like or DataFrame
        One row per subject, one column per rater (each subject rated by every rater; no
        missing value).
    levels : sequence, optional
        The categories (default: the sorted values seen). Unused levels do not change kappa.
    conf_level : float
        Confidence level of the bootstrap interval.
    n_boot : int
        Bootstrap resamples of subjects for the interval (0: no interval, NaN limits).
    random_state : int, numpy Generator or None
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row indexed ``"fleiss_kappa"``: ``estimate``, ``se`` (under the null hypothesis
        kappa = 0), ``z``, ``p_value`` (two-sided), ``ci_low``, ``ci_high`` (percentile
        bootstrap over subjects), ``n`` (subjects), ``n_raters``, ``n_levels``, ``n_boot``,
        ``conf_level``.

    Raises
    ------
    InputError
        Fewer than two raters or subjects, missing ratings, ratings outside ``levels``.

    Notes
    -----
    With ``n_ij`` the number of the ``m`` raters who put subject ``i`` (of ``N``) in category
    ``j``, ``p_j = sum_i n_ij / (N m)``, ``P_i = (sum_j n_ij^2 - m) / (m (m - 1))``:
    ``kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2)`` (Fleiss 1971). The standard error under
    kappa = 0 is Fleiss, Nee & Landis (1979):
    ``se^2 = 2 [(sum p_j q_j)^2 - sum p_j q_j (q_j - p_j)] / ((sum p_j q_j)^2 N m (m - 1))``
    with ``q_j = 1 - p_j``; ``z = kappa / se`` (as ``irr::kappam.fleiss``). That standard error
    only serves the test, so the interval is a percentile bootstrap of subjects. On Fleiss'
    (1971) psychiatric diagnoses (30 patients, 6 psychiatrists, 5 diagnoses) kappa = 0.430.
    For two raters Fleiss' kappa is not Cohen's (it assumes one common set of margins).

    References
    ----------
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychol Bull
    76:378-382.
    Fleiss JL, Nee JCM, Landis JR (1979). Large sample variance of kappa in the case of
    different sets of raters. Psychol Bull 86:974-977.

    Examples
    --------
    >>> ratings = [[1, 1, 1], [1, 2, 1], [2, 2, 2], [3, 3, 2], [3, 3, 3], [1, 1, 2]]
    >>> res = fleiss_kappa(ratings, random_state=0)
    >>> res[["estimate", "se", "z"]].round(4)
                  estimate      se       z
    fleiss_kappa    0.4953  0.1675  2.9579
    """
    conf_level = check_conf_level(conf_level)
    n_boot = check_n_boot(n_boot, allow_zero=True)
    frame = ratings if isinstance(ratings, pd.DataFrame) else pd.DataFrame(np.asarray(ratings, dtype=object))
    arr = frame.to_numpy(dtype=object)
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 2:
        raise InputError(
            f"`ratings` must have one row per subject and one column per rater (at least 2 of "
            f"each), got shape {arr.shape}"
        )
    bad = frame.isna().any(axis=1)
    if bad.any():
        raise InputError(
            f"`ratings` has missing values for subjects {format_items(list(frame.index[bad]))}; "
            "Fleiss' kappa needs every subject rated by every rater"
        )
    cats = _categories(arr.ravel(), levels)
    counts = _fleiss_counts(arr, cats)
    n_sub, m = arr.shape
    est = float(_fleiss_from_counts(counts, m))
    pj = counts.sum(axis=0) / (n_sub * m)
    qj = 1 - pj
    spq = float(np.sum(pj * qj))
    if spq > 0:
        var0 = 2 * (spq**2 - np.sum(pj * qj * (qj - pj))) / (spq**2 * n_sub * m * (m - 1))
        se = float(np.sqrt(var0))
        zstat = est / se
        pval = float(2 * stats.norm.sf(abs(zstat)))
    else:
        se = zstat = pval = float("nan")
    lo = hi = float("nan")
    if n_boot:
        boots = [
            _fleiss_from_counts(counts[idx], m)
            for (idx,) in resample_indices(n_boot, [n_sub], random_state=random_state)
        ]
        values = np.concatenate(boots)
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = (float(q) for q in np.quantile(values, [0.5 - conf_level / 2, 0.5 + conf_level / 2]))
    return pd.DataFrame(
        {
            "estimate": [est],
            "se": [se],
            "z": [zstat],
            "p_value": [pval],
            "ci_low": [lo],
            "ci_high": [hi],
            "n": [n_sub],
            "n_raters": [m],
            "n_levels": [len(cats)],
            "n_boot": [n_boot],
            "conf_level": [conf_level],
        },
        index=pd.Index(["fleiss_kappa"]),
    )
