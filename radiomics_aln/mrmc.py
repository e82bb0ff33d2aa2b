"""Multi-reader multi-case (MRMC) ROC analysis: Obuchowski-Rockette with Hillis' df.

Several readers rate the same cases under two or more sessions (modalities, e.g. ultrasound
alone and ultrasound with the nomogram). :func:`or_mrmc` compares the reader-averaged empirical
AUCs of the sessions with the Obuchowski-Rockette (OR) model (Obuchowski & Rockette 1995) in the
unified form of Hillis and colleagues (Hillis et al. 2005; Hillis 2007; Hillis 2014), the
analysis of OR-DBM MRMC (University of Iowa), RJafroc and MRMCaov:

- **random readers, random cases** (the default inference: the results apply to the population
  of readers and of cases): F test with Hillis' (2007) denominator degrees of freedom;
- **fixed readers, random cases**: chi-square and z tests (the results apply to these readers);
- **random readers, fixed cases**: the conventional treatment x reader ANOVA of the AUCs.

The input is the tidy reader table: one row per case x reader x session with the reader's
rating, and the truth of each case (a column, or a mapping case -> 0/1). The AUC of each reader
and session is :func:`radiomics_aln.metrics.c_statistic` (Mann-Whitney, trapezoidal); the
covariances of the reader-session AUCs come from the jackknife over cases (OR-DBM's, RJafroc's and
MRMCaov's default), from DeLong's method (``cov="delong"``) or from the unbiased estimator of
Gallas et al. (2007) (``cov="unbiased"``).

The numbers equal the published outputs for the VanDyke data (5 readers, 114 cases, 2 sessions)
of OR-DBM MRMC 2.5 (jackknife) and MRMCaov 0.3 (jackknife, DeLong, unbiased; fixed readers,
fixed cases): ``tests/test_mrmc.py``, reference values in ``tests/reference/mrmc_vandyke.csv``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from radiomics_aln._display import SummaryHTML
from radiomics_aln._plotting import get_ax, legend_below, series_colour
from radiomics_aln._validation import check_conf_level, format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.metrics import c_statistic

__all__ = ["or_mrmc", "MRMCResult", "ANALYSES"]

CovMethod = Literal["jackknife", "delong", "unbiased"]
_COV_METHODS = ("jackknife", "delong", "unbiased")

#: The three analyses, in the order of OR-DBM MRMC's output.
ANALYSES: tuple[str, ...] = (
    "random readers, random cases",
    "fixed readers, random cases",
    "random readers, fixed cases",
)


# --------------------------------------------------------------------------- input


def _py(value: Any) -> Any:
    """A numpy scalar as the Python scalar (so messages read ``2``, not ``np.int64(2)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _ordered_levels(values: pd.Series) -> list[Any]:
    """The distinct values, sorted when they can be (else in order of appearance)."""
    levels = [_py(v) for v in pd.unique(values)]
    try:
        return sorted(levels)
    except TypeError:
        return levels


def _check_frame(data: Any, columns: Mapping[str, str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            f"`data` must be a pandas DataFrame (one row per case x reader x session), "
            f"got {type(data).__name__}"
        )
    missing = [f"{col!r} ({arg}=)" for arg, col in columns.items() if col not in data.columns]
    if missing:
        raise InputError(
            f"`data` has no column {format_items(missing)}; its columns are "
            f"{format_items(map(repr, data.columns))}. Pass the column names as keywords, "
            f"e.g. or_mrmc(data, y='truth', case='case_id')"
        )
    for arg in ("case", "reader", "session"):
        col = columns[arg]
        if data[col].isna().any():
            rows = data.index[data[col].isna()]
            raise InputError(f"column {col!r} ({arg}=) is empty in rows {format_items(rows)}")
    return data


def _check_ratings(data: pd.DataFrame, col: str) -> np.ndarray:
    values = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        rows = data.index[bad]
        raise InputError(
            f"column {col!r} (rating=) must hold finite numbers; rows {format_items(rows)} "
            f"hold {format_items(data.loc[rows, col].map(repr))}. Drop or fix those readings"
        )
    return values


def _case_truth(data: pd.DataFrame, y: Any, case: str, cases: list[Any]) -> np.ndarray:
    """The 0/1 truth of each case, from a column of ``data`` or a mapping case -> 0/1."""
    if isinstance(y, str):
        if y not in data.columns:
            raise InputError(
                f"`data` has no truth column {y!r} (y=); pass y= the column of 0/1 truth or a "
                f"mapping case -> 0/1"
            )
        per_case = data.groupby(case, sort=False)[y].agg(lambda v: set(v.dropna()))
        mixed = [_py(c) for c, v in per_case.items() if len(v) > 1]
        if mixed:
            raise InputError(
                f"truth column {y!r} differs between the readings of cases "
                f"{format_items(mixed)}: a case's truth must be the same in every row"
            )
        truth = {_py(c): (_py(next(iter(v))) if v else np.nan) for c, v in per_case.items()}
        source = f"column {y!r}"
    elif isinstance(y, Mapping | pd.Series):
        if isinstance(y, pd.Series) and len(y) == len(data) and y.index.equals(data.index):
            raise InputError(
                "`y` is a Series aligned with the rows of `data` (one value per reading), but a "
                "Series `y` maps case -> truth; pass the column name instead "
                f"(y={y.name!r} if it is a column of `data`)"
            )
        truth = {_py(c): _py(v) for c, v in y.items()}
        source = "the mapping `y`"
    else:
        raise InputError(
            f"`y` must be the name of the truth column or a mapping case -> 0/1, "
            f"got {type(y).__name__}"
        )
    absent = [c for c in cases if c not in truth or pd.isna(truth[c])]
    if absent:
        raise InputError(f"{source} gives no truth for cases {format_items(absent)}")
    values = [truth[c] for c in cases]
    bad = [c for c in cases if truth[c] not in (0, 1)]
    if bad:
        shown = format_items(f"{c!r}: {truth[c]!r}" for c in bad)
        raise InputError(
            f"{source} must be binary 0/1 (1 = diseased); cases {shown} are not. Recode the "
            f"truth as 0/1"
        )
    out = np.asarray(values, dtype=int)
    m, n = int(out.sum()), int(out.size - out.sum())
    if m < 2 or n < 2:
        raise InputError(
            f"the MRMC analysis needs at least 2 diseased (y = 1) and 2 non-diseased (y = 0) "
            f"cases; got {m} and {n}"
        )
    return out


def _rating_array(
    data: pd.DataFrame, ratings: np.ndarray, names: Mapping[str, str]
) -> tuple[np.ndarray, list[Any], list[Any], list[Any]]:
    """Ratings as an array [session, reader, case], checking the design is fully crossed."""
    case, reader, session = names["case"], names["reader"], names["session"]
    sessions = _ordered_levels(data[session])
    readers = _ordered_levels(data[reader])
    cases = _ordered_levels(data[case])
    if len(sessions) < 2:
        raise InputError(
            f"column {session!r} (session=) has one level ({sessions[0]!r}); comparing "
            f"sessions needs at least two"
        )
    if len(readers) < 2:
        raise InputError(
            f"column {reader!r} (reader=) has one reader ({readers[0]!r}); the MRMC analysis "
            f"needs at least two readers (for one reader compare the sessions with "
            f"metrics.delong_test)"
        )
    keys = [session, reader, case]
    dup = data.duplicated(keys, keep=False)
    if dup.any():
        first = data.loc[dup, keys].drop_duplicates().head(5)
        shown = format_items(tuple(r) for r in first.itertuples(index=False))
        raise InputError(
            f"{int(dup.sum())} rows repeat a (session, reader, case): {shown}; keep one "
            f"rating per case, reader and session"
        )
    counts = data.groupby([session, reader]).size()
    for s in sessions:
        for r in readers:
            if (s, r) not in counts.index:
                raise InputError(
                    f"reader {r!r} has no readings in session {s!r}: every reader must read "
                    f"every case in every session (a fully crossed design)"
                )
    grid = pd.Series(ratings, index=pd.MultiIndex.from_frame(data[keys]))
    full = pd.MultiIndex.from_product([sessions, readers, cases], names=keys)
    grid = grid.reindex(full)
    if grid.isna().any():
        holes = grid.index[grid.isna().to_numpy()]
        shown = format_items(f"case {c!r} (reader {r!r}, session {s!r})" for s, r, c in holes)
        raise InputError(
            f"{len(holes)} readings are missing: {shown}; every reader must read every case "
            f"in every session (a fully crossed design)"
        )
    arr = grid.to_numpy().reshape(len(sessions), len(readers), len(cases))
    return arr, sessions, readers, cases


# --------------------------------------------------------------------------- covariances


def _placements(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values: ``v10`` per diseased case (share of non-diseased rated lower,
    ties 1/2) and ``v01`` per non-diseased case (share of diseased rated higher, ties 1/2)."""
    pos = np.sort(s[y == 1])
    neg = np.sort(s[y == 0])
    x, z = s[y == 1], s[y == 0]
    v10 = (np.searchsorted(neg, x, "left") + np.searchsorted(neg, x, "right")) / (2 * neg.size)
    above = 2 * pos.size - np.searchsorted(pos, z, "left") - np.searchsorted(pos, z, "right")
    v01 = above / (2 * pos.size)
    return v10, v01


def _auc_covariance(y: np.ndarray, ratings: np.ndarray, cov: str) -> tuple[np.ndarray, np.ndarray]:
    """AUCs (k = session x reader, session-major) and their k x k covariance matrix.

    Jackknife: the AUC without case i follows from the placements exactly,
    ``(m AUC - v10_i) / (m - 1)`` for a diseased case and ``(n AUC - v01_j) / (n - 1)`` for a
    non-diseased one; ``cov = (c - 1) / c * sum (A_(i) - mean)(A_(i) - mean)'`` (Efron 1982),
    as OR-DBM MRMC, RJafroc and MRMCaov. DeLong: ``S10 / m + S01 / n`` (DeLong et al. 1988).
    """
    flat = ratings.reshape(-1, ratings.shape[-1])
    pos = y == 1
    m, n, c = int(pos.sum()), int((~pos).sum()), y.size
    aucs = np.array([c_statistic(y, s) for s in flat])
    v10 = np.empty((m, flat.shape[0]))
    v01 = np.empty((n, flat.shape[0]))
    for k, s in enumerate(flat):
        v10[:, k], v01[:, k] = _placements(y, s)
    if cov == "delong":
        return aucs, np.cov(v10, rowvar=False, ddof=1) / m + np.cov(v01, rowvar=False, ddof=1) / n
    if cov == "unbiased":
        return aucs, _unbiased_cov(flat[:, pos], flat[:, ~pos], aucs, v10, v01)
    jack = np.empty((c, flat.shape[0]))
    jack[pos] = (m * aucs - v10) / (m - 1)
    jack[~pos] = (n * aucs - v01) / (n - 1)
    centred = jack - jack.mean(axis=0)
    return aucs, (c - 1) / c * centred.T @ centred


def _unbiased_cov(
    pos: np.ndarray, neg: np.ndarray, aucs: np.ndarray, v10: np.ndarray, v01: np.ndarray
) -> np.ndarray:
    """The unbiased covariance of the AUCs (Gallas, Pennello & Myers 2007; MRMCaov
    ``cov = unbiased``, its fully crossed form).

    With the kernel ``psi_k(i, j) = [x_ik > z_jk] + [x_ik = z_jk] / 2`` of diseased case i and
    non-diseased case j, its row sums ``P = n v10``, column sums ``N = m v01``, total
    ``S = m n AUC`` and ``d = (m n)^2 / (m (m - 1) n (n - 1))``:
    ``cov_kl = [(1 - d) S_k S_l + d (P_k'P_l + N_k'N_l - sum_ij psi_k psi_l)] / (m n)^2``.
    The sum over pairs is accumulated over blocks of diseased cases (bounded memory).
    """
    k, m = pos.shape
    n = neg.shape[1]
    total = m * n * aucs
    rows, cols = n * v10, m * v01
    cross = np.zeros((k, k))
    step = max(1, 2_000_000 // max(n * k, 1))
    for start in range(0, m, step):
        x = pos[:, start : start + step, None]
        psi = (x > neg[:, None, :]) + 0.5 * (x == neg[:, None, :])
        flat = psi.reshape(k, -1)
        cross += flat @ flat.T
    d = (m * n) ** 2 / (m * (m - 1) * n * (n - 1))
    both = (1 - d) * np.outer(total, total) + d * (rows.T @ rows + cols.T @ cols - cross)
    return both / (m * n) ** 2


def _cov_averages(cov: np.ndarray, t: int, r: int, mask: np.ndarray | None = None) -> dict:
    """Var(error) and Cov1-3: averages of the covariance matrix over the pairs of (session,
    reader) with the same reader / session (Obuchowski & Rockette 1995); ``mask`` restricts
    to some of the t x r AUCs (one session, one reader)."""
    sess = np.repeat(np.arange(t), r)
    rdr = np.tile(np.arange(r), t)
    keep = np.ones(t * r, bool) if mask is None else mask
    pair = np.outer(keep, keep)
    same_t = sess[:, None] == sess[None, :]
    same_r = rdr[:, None] == rdr[None, :]

    def avg(sel: np.ndarray) -> float:
        sel = sel & pair
        return float(cov[sel].mean()) if sel.any() else 0.0

    return {
        "var_error": float(np.diag(cov)[keep].mean()),
        "cov1": avg(~same_t & same_r),
        "cov2": avg(same_t & ~same_r),
        "cov3": avg(~same_t & ~same_r),
    }


def _anova(a: np.ndarray) -> dict:
    """Mean squares of the session x reader ANOVA of the AUCs ``a[session, reader]``."""
    t, r = a.shape
    grand = a.mean()
    mt, mr = a.mean(axis=1), a.mean(axis=0)
    ss_t = r * float(((mt - grand) ** 2).sum())
    ss_r = t * float(((mr - grand) ** 2).sum())
    ss_tr = float(((a - mt[:, None] - mr[None, :] + grand) ** 2).sum())
    return {
        "ss": {"T": ss_t, "R": ss_r, "T*R": ss_tr},
        "df": {"T": t - 1, "R": r - 1, "T*R": (t - 1) * (r - 1)},
        "ms": {"T": ss_t / (t - 1), "R": ss_r / (r - 1), "T*R": ss_tr / ((t - 1) * (r - 1))},
    }


# --------------------------------------------------------------------------- the analyses


def _row(analysis: str, estimate: float, se: float, df: float, q: float, **extra: Any) -> dict:
    stat = _div(estimate, se)
    if np.isinf(df):
        p = 2 * stats.norm.sf(abs(stat))
    else:
        p = 2 * stats.t.sf(abs(stat), df)
    return {
        "analysis": analysis,
        **extra,
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - q * se,
        "ci_high": estimate + q * se,
        "test": "z" if np.isinf(df) else "t",
        "statistic": stat,
        "df": df,
        "p_value": p,
    }


def _div(a: float, b: float) -> float:
    """``a / b`` with IEEE results for a zero ``b`` (inf, or NaN for 0 / 0), as R computes:
    readers with identical AUC differences give MS(T*R) = 0 and an infinite ddf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(np.float64(a), np.float64(b)))


def _sqrt(v: float) -> float:
    """Square root; NaN for a negative variance estimate (possible with ``cov="unbiased"``
    or a negative ``Var(error) - Cov1``), as R's ``sqrt`` gives."""
    return float(np.sqrt(v)) if v >= 0 else np.nan


def _quantile(conf_level: float, df: float) -> float:
    upper = (1 + conf_level) / 2
    return float(stats.norm.ppf(upper) if np.isinf(df) else stats.t.ppf(upper, df))


def _denominators(an: dict, cv: dict, r: int) -> dict[str, float]:
    """The error terms of the three analyses (Hillis et al. 2005, Hillis 2007, OR-DBM MRMC)."""
    c23 = max(cv["cov2"] - cv["cov3"], 0.0)
    return {
        ANALYSES[0]: an["ms"]["T*R"] + r * c23,
        ANALYSES[1]: cv["var_error"] - cv["cov1"] + (r - 1) * c23,
        ANALYSES[2]: an["ms"]["T*R"],
    }


def _f_sf(f: float, df1: int, df2: float) -> float:
    """P(F > f) on (df1, df2) degrees of freedom; df2 = inf is chi-square(df1) / df1, as R's
    ``pf(f, df1, Inf)`` (scipy's F distribution returns NaN there)."""
    if np.isinf(df2):
        return float(stats.chi2.sf(f * df1, df1))
    return float(stats.f.sf(f, df1, df2))


def _global_tests(an: dict, den: dict, t: int, r: int) -> pd.DataFrame:
    ms_t, ms_tr = an["ms"]["T"], an["ms"]["T*R"]
    rows = []
    # Random readers, random cases: F with Hillis' ddf (Hillis 2007, "ddf_H").
    ddf = _div(den[ANALYSES[0]] ** 2, ms_tr**2 / ((t - 1) * (r - 1)))
    f = _div(ms_t, den[ANALYSES[0]])
    rows.append((ANALYSES[0], "F", f, t - 1, ddf, _f_sf(f, t - 1, ddf), den[ANALYSES[0]]))
    x2 = _div((t - 1) * ms_t, den[ANALYSES[1]])
    rows.append((ANALYSES[1], "chi2", x2, t - 1, np.inf, stats.chi2.sf(x2, t - 1),
                 den[ANALYSES[1]]))
    f3 = _div(ms_t, den[ANALYSES[2]])
    df3 = (t - 1) * (r - 1)
    rows.append((ANALYSES[2], "F", f3, t - 1, df3, _f_sf(f3, t - 1, df3), den[ANALYSES[2]]))
    cols = ["analysis", "test", "statistic", "df1", "df2", "p_value", "denominator"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(2, "ms_t", ms_t)
    return out


def _differences(
    a: np.ndarray, sessions: list, den: dict, glob: pd.DataFrame, r: int, conf_level: float
) -> pd.DataFrame:
    means = a.mean(axis=1)
    rows = []
    for analysis in ANALYSES:
        df = float(glob.loc[glob["analysis"] == analysis, "df2"].iloc[0])
        se = _sqrt(2 / r * den[analysis])
        q = _quantile(conf_level, df)
        for i, j in itertools.combinations(range(len(sessions)), 2):
            comp = f"{sessions[i]} - {sessions[j]}"
            rows.append(_row(analysis, float(means[i] - means[j]), se, df, q, comparison=comp))
    return pd.DataFrame(rows)


def _session_rows(
    a: np.ndarray, cov: np.ndarray, sessions: list, conf_level: float
) -> pd.DataFrame:
    """Each session's reader-averaged AUC with its SE, df and CI under the three analyses,
    from that session's data only (OR-DBM MRMC part (c); Hillis 2007 "ddf_H_single")."""
    t, r = a.shape
    rows = []
    for i, s in enumerate(sessions):
        auc = a[i]
        ms_r = float(auc.var(ddof=1))
        mask = np.repeat(np.arange(t) == i, r)
        cv = _cov_averages(cov, t, r, mask)
        cov2 = max(cv["cov2"], 0.0)
        est = float(auc.mean())
        terms = (
            (ANALYSES[0], ms_r / r + cov2, _div((ms_r + r * cov2) ** 2, ms_r**2 / (r - 1))),
            (ANALYSES[1], (cv["var_error"] + (r - 1) * cov2) / r, np.inf),
            (ANALYSES[2], ms_r / r, float(r - 1)),
        )
        for analysis, var, df in terms:
            row = _row(analysis, est, _sqrt(var), df, _quantile(conf_level, df),
                       session=s)
            row["ci_low"], row["ci_high"] = max(row["ci_low"], 0.0), min(row["ci_high"], 1.0)
            for k in ("test", "statistic", "p_value"):
                del row[k]
            row.update(ms_r=ms_r, var_error=cv["var_error"], cov2=cv["cov2"])
            rows.append(row)
    return pd.DataFrame(rows)


def _reader_rows(
    a: np.ndarray, cov: np.ndarray, sessions: list, readers: list, conf_level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per reader: AUCs with z CIs, and the session differences (fixed readers; OR-DBM part
    (d)), each from that reader's covariances only."""
    t, r = a.shape
    z = _quantile(conf_level, np.inf)
    sd = np.array([_sqrt(v) for v in np.diag(cov)]).reshape(t, r)
    aucs = []
    for i, s in enumerate(sessions):
        for j, rd in enumerate(readers):
            est, se = float(a[i, j]), float(sd[i, j])
            aucs.append({"session": s, "reader": rd, "estimate": est, "se": se,
                         "ci_low": max(est - z * se, 0.0), "ci_high": min(est + z * se, 1.0)})
    diffs = []
    for j, rd in enumerate(readers):
        cv = _cov_averages(cov, t, r, np.tile(np.arange(r) == j, t))
        se = _sqrt(2 * (cv["var_error"] - cv["cov1"]))
        for i, k in itertools.combinations(range(t), 2):
            diffs.append(_row(ANALYSES[1], float(a[i, j] - a[k, j]), se, np.inf, z, reader=rd,
                              comparison=f"{sessions[i]} - {sessions[k]}"))
    return pd.DataFrame(aucs), pd.DataFrame(diffs)


def _components(an: dict, cv: dict, t: int) -> pd.DataFrame:
    """OR variance components (Hillis et al. 2005, eq. for the ANOVA estimates; OR-DBM MRMC)."""
    ms = an["ms"]
    var_r = (ms["R"] - ms["T*R"]) / t - cv["cov1"] + cv["cov3"]
    var_tr = ms["T*R"] - cv["var_error"] + cv["cov1"] + (cv["cov2"] - cv["cov3"])
    names = ["var_r", "var_tr", "var_error", "cov1", "cov2", "cov3"]
    est = [var_r, var_tr, cv["var_error"], cv["cov1"], cv["cov2"], cv["cov3"]]
    corr = [np.nan, np.nan, np.nan] + [x / cv["var_error"] for x in est[3:]]
    return pd.DataFrame({"estimate": est, "correlation": corr}, index=pd.Index(names,
                        name="component"))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, repr=False)
class MRMCResult(SummaryHTML):
    """The Obuchowski-Rockette MRMC analysis of :func:`or_mrmc`.

    Attributes
    ----------
    summary : DataFrame
        One row per analysis (:data:`ANALYSES`) and pair of sessions: ``analysis``,
        ``comparison`` ("A - B"), ``estimate`` (difference of reader-averaged AUCs), ``se``,
        ``ci_low``, ``ci_high``, ``test`` ("t", or "z" for fixed readers), ``statistic``,
        ``df`` (Hillis' ddf for random readers and cases; ``inf`` for z), ``p_value``.
    global_test : DataFrame
        The test that all sessions have the same AUC, per analysis: ``analysis``, ``test``
        (``"F"`` or ``"chi2"``), ``ms_t``, ``statistic``, ``df1``, ``df2`` (``inf`` for
        chi-square), ``p_value``, ``denominator`` (the error term).
    session_auc : DataFrame
        Each session's reader-averaged AUC per analysis (from that session's data only):
        ``analysis``, ``session``, ``estimate``, ``se``, ``ci_low``, ``ci_high`` (clipped to
        [0, 1]), ``df``, ``ms_r``, ``var_error``, ``cov2``.
    reader_auc : DataFrame
        AUC of every reader and session: ``session``, ``reader``, ``estimate``, ``se`` (square
        root of its variance), ``ci_low``, ``ci_high`` (normal, clipped to [0, 1]).
    reader_differences : DataFrame
        Per reader, the differences between sessions (fixed readers, that reader's variance
        and Cov1 only); columns as ``summary`` plus ``reader``.
    variance_components : DataFrame
        Indexed by ``var_r``, ``var_tr``, ``var_error``, ``cov1``, ``cov2``, ``cov3``:
        ``estimate`` (ANOVA estimates, may be negative) and ``correlation`` (Cov / Var(error)).
    anova : DataFrame
        The session x reader ANOVA of the AUCs: ``source`` (T, R, T*R), ``ss``, ``df``, ``ms``.
    covariance : DataFrame
        The covariance matrix of the reader-session AUCs (rows and columns: (session, reader)).
    cov, conf_level : str, float
        The covariance method and the confidence level.
    n_cases, n_diseased : int
        Cases and diseased cases.
    """

    summary: pd.DataFrame
    global_test: pd.DataFrame
    session_auc: pd.DataFrame
    reader_auc: pd.DataFrame
    reader_differences: pd.DataFrame
    variance_components: pd.DataFrame
    anova: pd.DataFrame
    covariance: pd.DataFrame = field(compare=False)
    cov: str = "jackknife"
    conf_level: float = 0.95
    n_cases: int = 0
    n_diseased: int = 0

    def __repr__(self) -> str:
        row = self.summary.iloc[0]
        return (
            f"MRMCResult(cov={self.cov!r}, readers={self.reader_auc['reader'].nunique()}, "
            f"cases={self.n_cases}, {row['comparison']}: {row['estimate']:.4f} "
            f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}], p={row['p_value']:.4g} "
            f"(random readers, random cases))"
        )

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Each reader's AUC per session (thin lines) and the reader-averaged AUC with its CI
        for random readers and cases (thick); returns the ``Axes``."""
        ax = get_ax(ax)
        sessions = list(dict.fromkeys(self.reader_auc["session"]))
        x = np.arange(len(sessions))
        for k, (reader, grp) in enumerate(self.reader_auc.groupby("reader", sort=False)):
            est = grp.set_index("session").loc[sessions, "estimate"]
            ax.plot(x, est.to_numpy(), marker="o", lw=0.8, alpha=0.7, label=f"reader {reader}",
                    color=series_colour(k, black=False))
        avg = self.session_auc[self.session_auc["analysis"] == ANALYSES[0]]
        avg = avg.set_index("session").loc[sessions]
        err = np.vstack([avg["estimate"] - avg["ci_low"], avg["ci_high"] - avg["estimate"]])
        style = {"color": "#000000", "lw": 2.2, "marker": "s", "capsize": 4} | kwargs
        label = f"reader average ({self.conf_level:.0%} CI, random readers and cases)"
        ax.errorbar(x, avg["estimate"].to_numpy(), yerr=err, label=label, **style)
        ax.set_xticks(x, [str(s) for s in sessions])
        ax.set_xmargin(0.15)
        ax.set_xlabel("session")
        ax.set_ylabel("AUC")
        legend_below(ax, ncol=2)
        return ax


# --------------------------------------------------------------------------- entry point


def or_mrmc(
    data: pd.DataFrame,
    *,
    y: str | Mapping[Any, int] | pd.Series = "y",
    case: str = "case_id",
    reader: str = "reader",
    session: str = "session",
    rating: str = "rating",
    cov: CovMethod = "jackknife",
    conf_level: float = 0.95,
) -> MRMCResult:
    """Compare sessions' reader-averaged AUCs: Obuchowski-Rockette with Hillis' ddf.

    Parameters
    ----------
    data : DataFrame
        The reader table, one row per case x reader x session (fully crossed: every reader
        reads every case in every session).
    y : str or mapping, default "y"
        The truth (1 = diseased, e.g. ALN metastasis; 0 = not): the name of a column of
        ``data`` (the same in every row of a case), or a mapping / Series case -> 0/1.
    case, reader, session, rating : str
        Columns of the case id, the reader, the session (modality, test, treatment) and the
        rating (any numbers; higher = more likely diseased; ties allowed).
    cov : {"jackknife", "delong", "unbiased"}, default "jackknife"
        How the covariances of the reader-session AUCs are estimated: the jackknife over cases
        (OR-DBM MRMC, RJafroc, MRMCaov's default), DeLong et al. (1988) (MRMCaov
        ``cov = DeLong``, RJafroc ``covEstMethod = "DeLong"``) or the unbiased estimator of
        Gallas et al. (2007) (MRMCaov ``cov = unbiased``).
    conf_level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    MRMCResult
        ``summary`` (differences between sessions per analysis), ``global_test``,
        ``session_auc``, ``reader_auc``, ``reader_differences``, ``variance_components``,
        ``anova``, ``covariance``; ``plot(ax=None)``.

    Raises
    ------
    InputError
        A missing column; a reader without readings in a session; a case without a reading;
        a repeated (session, reader, case); non-finite ratings; truth that is not 0/1, missing
        or different between a case's rows; fewer than 2 diseased or 2 non-diseased cases;
        one session or one reader only; an unknown ``cov``.

    Notes
    -----
    With ``t`` sessions, ``r`` readers, the AUCs ``A[i, j]`` and their covariance matrix,
    ``Var(error)`` is the mean variance and Cov1, Cov2, Cov3 the mean covariances of AUCs of
    the same reader in different sessions, of different readers in the same session, and of
    different readers in different sessions (Obuchowski & Rockette 1995). With the mean
    squares MS(T), MS(R), MS(T*R) of the session x reader ANOVA of the AUCs:

    - random readers, random cases: ``F = MS(T) / [MS(T*R) + r max(Cov2 - Cov3, 0)]`` on
      ``t - 1`` and ``ddf_H = [MS(T*R) + r max(Cov2 - Cov3, 0)]^2 / {MS(T*R)^2 / [(t - 1)
      (r - 1)]}`` degrees of freedom (Hillis 2007); a difference of two sessions has
      ``SE = sqrt(2 / r * denominator)`` and a t CI on ``ddf_H``;
    - fixed readers, random cases: ``X2 = (t - 1) MS(T) / [Var(error) - Cov1 + (r - 1)
      max(Cov2 - Cov3, 0)]`` on ``t - 1`` df, z CIs;
    - random readers, fixed cases: ``F = MS(T) / MS(T*R)`` on ``t - 1`` and
      ``(t - 1)(r - 1)`` df.

    These are the formulas printed by OR-DBM MRMC 2.5 and used by RJafroc and MRMCaov; one
    difference from MRMCaov 0.3: for fixed readers MRMCaov uses ``Cov2 - Cov3`` without the
    ``max(., 0)`` (the two agree whenever Cov2 >= Cov3, as in the VanDyke data). AUC CIs of a
    session or a reader are clipped to [0, 1], as MRMCaov does.

    References
    ----------
    Obuchowski NA, Rockette HE (1995). Hypothesis testing of diagnostic accuracy for multiple
    readers and multiple tests: an ANOVA approach with dependent observations. Commun Stat
    Simul Comput 24:285-308.
    Hillis SL, Obuchowski NA, Schartz KM, Berbaum KS (2005). A comparison of the
    Dorfman-Berbaum-Metz and Obuchowski-Rockette methods for receiver operating characteristic
    (ROC) data. Stat Med 24:1579-1607.
    Hillis SL (2007). A comparison of denominator degrees of freedom methods for multiple
    observer ROC analysis. Stat Med 26:596-619.
    Hillis SL (2014). A marginal-mean ANOVA approach for analyzing multireader multicase
    radiological imaging data. Stat Med 33:330-360.
    DeLong ER, DeLong DM, Clarke-Pearson DL (1988). Comparing the areas under two or more
    correlated receiver operating characteristic curves: a nonparametric approach.
    Biometrics 44:837-845.
    Gallas BD, Pennello GA, Myers KJ (2007). Multireader multicase variance analysis for
    binary data. J Opt Soc Am A 24:B70-B80.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> truth = np.repeat([0, 1], 40)                    # 80 cases, 40 with metastasis
    >>> latent = 1.2 * truth + rng.normal(size=80)       # how obvious each case is
    >>> rows = [(c, r, s, truth[c],
    ...          latent[c] + 0.5 * k * truth[c] + rng.normal(scale=0.8))
    ...         for c in range(80) for r in range(4) for k, s in enumerate(["US", "US+AI"])]
    >>> reads = pd.DataFrame(rows, columns=["case_id", "reader", "session", "y", "rating"])
    >>> res = or_mrmc(reads)   # MRMCaov: mrmc(empirical_auc(y, rating), session, reader, case_id)
    >>> res.summary[["analysis", "estimate", "ci_low", "ci_high", "df", "p_value"]].round(3)
                           analysis  estimate  ci_low  ci_high      df  p_value
    0  random readers, random cases    -0.098  -0.139   -0.056  10.966    0.000
    1   fixed readers, random cases    -0.098  -0.156   -0.039     inf    0.001
    2   random readers, fixed cases    -0.098  -0.141   -0.054   3.000    0.006
    >>> res.summary["comparison"].iloc[0]
    'US - US+AI'
    """
    if cov not in _COV_METHODS:
        raise InputError(f"`cov` must be one of {_COV_METHODS}, got {cov!r}")
    conf_level = check_conf_level(conf_level)
    names = {"case": case, "reader": reader, "session": session, "rating": rating}
    data = _check_frame(data, names)
    ratings = _check_ratings(data, rating)
    arr, sessions, readers, cases = _rating_array(data, ratings, names)
    truth = _case_truth(data, y, case, cases)
    t, r = len(sessions), len(readers)

    aucs, cov_mat = _auc_covariance(truth, arr, cov)
    a = aucs.reshape(t, r)
    an = _anova(a)
    cv = _cov_averages(cov_mat, t, r)
    den = _denominators(an, cv, r)
    glob = _global_tests(an, den, t, r)
    reader_auc, reader_diffs = _reader_rows(a, cov_mat, sessions, readers, conf_level)
    keys = pd.MultiIndex.from_product([sessions, readers], names=["session", "reader"])
    anova = pd.DataFrame({"source": list(an["ss"]), "ss": list(an["ss"].values()),
                          "df": list(an["df"].values()), "ms": list(an["ms"].values())})
    return MRMCResult(
        summary=_differences(a, sessions, den, glob, r, conf_level),
        global_test=glob,
        session_auc=_session_rows(a, cov_mat, sessions, conf_level),
        reader_auc=reader_auc,
        reader_differences=reader_diffs,
        variance_components=_components(an, cv, t),
        anova=anova,
        covariance=pd.DataFrame(cov_mat, index=keys, columns=keys),
        cov=cov,
        conf_level=conf_level,
        n_cases=len(cases),
        n_diseased=int(truth.sum()),
    )
