"""The inter- and intra-observer ICC filter: keep the features that readers reproduce.

:class:`ICCFilter` is a scikit-learn selector fitted on the repeat readings of the training
cases (a second reader's and a repeated segmentation's features). It computes one ICC form per
feature and comparison with :func:`radiomics_aln.reliability.icc_comparisons` and keeps a
feature only if it passes the threshold in *every* comparison; ``transform`` then reduces any
cohort's feature table to the kept columns.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from radiomics_aln._display import SummaryHTML
from radiomics_aln._validation import check_conf_level, format_items
from radiomics_aln.exceptions import InputError
from radiomics_aln.io import (
    BOOL,
    SCALAR,
    STR,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    rebuilding,
)
from radiomics_aln.reliability import (
    AGREEMENT_LEVELS,
    check_nan_policy,
    check_readings,
    icc_comparisons,
    icc_form,
    plot_icc,
)

__all__ = ["ICCFilter"]

logger = logging.getLogger(__name__)

# Comparison names used by ICCFilter.fit(repeats=...) for the reader names of the project contract.
_COMPARISON_OF_READER = {"reader2": "inter", "repeat": "intra"}


class ICCFilter(SummaryHTML, SelectorMixin, BaseEstimator):
    """Keep the features whose inter- *and* intra-observer ICC reach a threshold.

    Fitted on the repeat readings of (a subset of) the training cases, it computes one ICC
    form per feature and comparison (:func:`icc_comparisons`) and keeps a feature only if it
    passes in every comparison; ``transform`` then reduces any feature table (any cohort) to
    the kept columns. Nothing about the cohorts it transforms is learned.

    Parameters
    ----------
    threshold : float, default 0.80
        Minimum ICC (inclusive) in every comparison.
    form : str, default "ICC2"
        ICC form (see :func:`icc_table`); ICC2 = ICC(A,1), absolute agreement of single raters.
    on : {"estimate", "ci_low"}, default "estimate"
        Compare the point estimate or the lower confidence bound with ``threshold``
        (``"ci_low"`` is stricter: the feature passes only if the whole CI is above it).
    nan_policy : {"raise", "omit"}, default "raise"
        Missing feature values in the readings: error naming feature and case, or per-feature
        listwise deletion (see :func:`icc_table`).
    conf_level : float, default 0.95
        Confidence level of the CI (matters for ``on="ci_low"``).

    Attributes
    ----------
    icc_ : pandas.DataFrame
        Long table, one row per feature x comparison: ``comparison``, ``readings``,
        ``feature``, the columns of :func:`icc_table`, ``value`` (what was compared with the
        threshold) and ``passed``.
    selected_features_ : numpy.ndarray of str
        Names of the kept features, in input order.
    support_ : numpy.ndarray of bool
        Mask of the kept features over ``feature_names_in_``.
    comparisons_ : list of str
        Names of the comparisons that every feature had to pass.
    feature_names_in_, n_features_in_
        Feature names and count of ``X`` in ``fit``.

    Notes
    -----
    ``fit`` takes the repeat readings in one of three ways (exactly one):

    - ``repeats={"reader2": r2, "repeat": r3}``, the ``.repeats`` of
      :func:`radiomics_aln.extraction.extract_features`: the first reader's values are taken
      from ``X`` for the case ids of each repeat table (they must all be rows of ``X``);
      ``reader2`` forms the comparison ``"inter"`` and ``repeat`` the comparison ``"intra"``
      (any other key forms a comparison of that name);
    - ``readings={"inter": {"reader1": a, "reader2": b}, "intra": {"reader1": a, "repeat": c}}``
      (any comparisons, any number of readings each);
    - ``icc=table``, a precomputed table: the output of :func:`icc_comparisons`, of
      :func:`icc_table` (one comparison) or a dict of :func:`icc_table` outputs.

    The columns of ``X`` define the feature set. A feature of ``X`` absent from a reading or
    from the precomputed table is an error (the message lists them); columns of the readings
    that are not in ``X`` are ignored. A feature whose ICC is undefined (zero variance across
    cases) is not kept, and ``icc_`` says why.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from radiomics_aln.icc_filter import ICCFilter
    >>> rng = np.random.default_rng(0)
    >>> cols = ["tumor__original_firstorder_Mean", "tumor__original_glcm_Contrast"]
    >>> idx = pd.Index([f"c{i:02d}" for i in range(30)], name="case_id")
    >>> truth = pd.DataFrame(rng.normal(size=(30, 2)), index=idx, columns=cols)
    >>> noise = [0.1, 1.0]  # the GLCM feature is poorly reproducible
    >>> X_train = truth + rng.normal(scale=noise, size=(30, 2))
    >>> repeats = {
    ...     "reader2": truth.iloc[:20] + rng.normal(scale=noise, size=(20, 2)),
    ...     "repeat": truth.iloc[:20] + rng.normal(scale=noise, size=(20, 2)),
    ... }
    >>> filt = ICCFilter(threshold=0.80).fit(X_train, repeats=repeats)
    >>> filt.selected_features_.tolist()
    ['tumor__original_firstorder_Mean']
    >>> filt.set_output(transform="pandas").transform(X_train).shape
    (30, 1)
    >>> filt.icc_[["comparison", "feature", "estimate", "passed"]].round(2)
      comparison                          feature  estimate  passed
    0      inter  tumor__original_firstorder_Mean      0.99    True
    1      inter    tumor__original_glcm_Contrast      0.51   False
    2      intra  tumor__original_firstorder_Mean      0.99    True
    3      intra    tumor__original_glcm_Contrast      0.23   False
    """

    def __init__(
        self,
        *,
        threshold: float = 0.80,
        form: str = "ICC2",
        on: str = "estimate",
        nan_policy: str = "raise",
        conf_level: float = 0.95,
    ) -> None:
        self.threshold = threshold
        self.form = form
        self.on = on
        self.nan_policy = nan_policy
        self.conf_level = conf_level

    def _check_params(self) -> str:
        """Check the parameters (each error names it); return the canonical ICC form."""
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, Real) or not np.isfinite(t):
            raise InputError(f"ICCFilter's 'threshold' parameter must be a finite number, got {t!r}")
        if self.on not in ("estimate", "ci_low"):
            raise InputError(
                f"ICCFilter's 'on' parameter must be 'estimate' or 'ci_low', got {self.on!r}"
            )
        check_nan_policy(self.nan_policy)
        check_conf_level(self.conf_level)
        if not isinstance(self.form, str):
            raise InputError(f"ICCFilter's 'form' parameter must be a string, got {self.form!r}")
        return icc_form(self.form)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # selection never looks at the values transformed
        return tags

    def fit(
        self,
        X: pd.DataFrame,
        y: Any = None,
        *,
        readings: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
        repeats: Mapping[str, pd.DataFrame] | None = None,
        icc: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
    ) -> ICCFilter:
        """Compute the ICCs from the repeat readings and choose the features.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table of the first reader (training cases, indexed by case id); its
            columns define the feature set. With ``repeats`` its rows supply the first
            reader's values of the repeat cases; otherwise only its columns are used.
        y : ignored
        readings, repeats, icc
            The repeat readings or a precomputed ICC table; pass exactly one (see Notes of
            the class).

        Returns
        -------
        ICCFilter
            The fitted filter.

        Raises
        ------
        InputError
            ``X`` is not a DataFrame with feature names; none or several of
            ``readings``/``repeats``/``icc``; features of ``X`` missing from a reading or the
            table; repeat cases missing from ``X``; and every error of :func:`icc_table`.
        """
        form = self._check_params()
        if isinstance(X, pd.DataFrame):
            not_str = [c for c in X.columns if not isinstance(c, str)]
            if not_str:
                raise InputError(
                    f"X's column names must be feature names (str); got {format_items(not_str)}"
                )
            if X.columns.has_duplicates:
                dups = X.columns[X.columns.duplicated()].unique()
                raise InputError(f"X has duplicated feature columns: {format_items(dups)}")
        # sklearn's own checks (shape, sparse, complex), with its standard messages.
        validate_data(self, X, dtype=None, ensure_all_finite=False)
        sources = {"readings": readings, "repeats": repeats, "icc": icc}
        given = [k for k, v in sources.items() if v is not None]
        if len(given) != 1:
            raise InputError(
                "ICCFilter.fit needs exactly one of readings=, repeats= or icc= (the repeat "
                f"segmentations' features or a precomputed ICC table); got {given or 'none'}"
            )
        if not isinstance(X, pd.DataFrame):
            raise InputError(
                "ICCFilter.fit needs X as a pandas DataFrame: its column names are matched with "
                f"the features of the repeat readings; got {type(X).__name__}"
            )
        features = pd.Index(X.columns)
        if icc is not None:
            table = self._table_from_precomputed(icc, features)
        else:
            if repeats is not None:
                readings = self._readings_from_repeats(X, repeats)
            groups = {}
            if not isinstance(readings, Mapping) or not readings:
                raise InputError(
                    "`readings` must map a comparison name to {reader name: DataFrame}, e.g. "
                    "{'inter': {'reader1': r1, 'reader2': r2}, 'intra': {'reader1': r1, "
                    "'repeat': r3}}"
                )
            for comparison, group in readings.items():
                group = check_readings(group, what=f"readings[{comparison!r}]")
                groups[comparison] = {
                    name: self._restrict(df, features, f"reading {name!r} of {comparison!r}")
                    for name, df in group.items()
                }
            table = icc_comparisons(
                groups, form=form, nan_policy=self.nan_policy, conf_level=self.conf_level
            )
        value_col = self.on  # the column compared with the threshold: estimate or ci_low
        if value_col not in table.columns:
            raise InputError(
                f"the ICC table has no column `{value_col}` needed for on={self.on!r}; it has "
                f"{format_items(table.columns)}"
            )
        table = table.copy()
        table["value"] = pd.to_numeric(table[value_col], errors="coerce").astype(float)
        excluded = (
            table["excluded"].astype(bool) if "excluded" in table.columns else table["value"].isna()
        )
        table["passed"] = (table["value"] >= self.threshold) & ~excluded
        passed = table.pivot(index="feature", columns="comparison", values="passed")
        support = passed.reindex(features).fillna(False).astype(bool).all(axis=1).to_numpy()
        self.icc_ = table.reset_index(drop=True)
        self.comparisons_ = [str(c) for c in pd.unique(table["comparison"])]
        self.support_ = support
        self.selected_features_ = np.asarray(features[support], dtype=object)
        logger.info(
            "ICCFilter: kept %d of %d features (%s >= %g in %s)",
            int(support.sum()),
            len(features),
            value_col,
            self.threshold,
            " and ".join(self.comparisons_),
        )
        return self

    @staticmethod
    def _restrict(df: Any, features: pd.Index, what: str) -> pd.DataFrame:
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{what} must be a DataFrame, got {type(df).__name__}")
        df = df.rename(columns=str)
        missing = features.difference(df.columns, sort=False)
        if len(missing):
            raise InputError(
                f"{what} lacks {len(missing)} feature(s) of X: {format_items(missing)} "
                "(X's columns define the feature set; drop them from X or add them to the reading)"
            )
        return df[features]

    def _readings_from_repeats(
        self, X: pd.DataFrame, repeats: Any
    ) -> dict[str, dict[str, pd.DataFrame]]:
        if not isinstance(repeats, Mapping) or not repeats:
            raise InputError(
                "`repeats` must map a reader name ('reader2', 'repeat') to a cases x features "
                f"DataFrame, got {type(repeats).__name__}"
            )
        if X.index.has_duplicates:
            raise InputError(
                f"X has duplicated case ids: {format_items(X.index[X.index.duplicated()].unique())}"
            )
        out = {}
        for name, df in repeats.items():
            if not isinstance(df, pd.DataFrame):
                raise InputError(f"repeats[{name!r}] must be a DataFrame, got {type(df).__name__}")
            absent = df.index.difference(X.index, sort=False)
            if len(absent):
                raise InputError(
                    f"repeats[{name!r}] has case(s) that are not rows of X: {format_items(absent)} "
                    "(the first reader's values are taken from X)"
                )
            if name == "reader1":
                raise InputError("`repeats` must not contain 'reader1': it is taken from X")
            comparison = _COMPARISON_OF_READER.get(str(name), str(name))
            out[comparison] = {"reader1": X.loc[df.index], str(name): df}
        return out

    @staticmethod
    def _table_from_precomputed(icc: Any, features: pd.Index) -> pd.DataFrame:
        if isinstance(icc, Mapping):
            parts = []
            for comparison, tab in icc.items():
                if not isinstance(tab, pd.DataFrame):
                    raise InputError(
                        f"icc[{comparison!r}] must be an icc_table DataFrame, got {type(tab).__name__}"
                    )
                tab = tab.reset_index() if "feature" not in tab.columns else tab.copy()
                tab["comparison"] = str(comparison)
                parts.append(tab)
            table = pd.concat(parts, ignore_index=True)
        elif isinstance(icc, pd.DataFrame):
            table = icc.reset_index() if "feature" not in icc.columns else icc.copy()
            if "comparison" not in table.columns:
                table["comparison"] = "icc"
        else:
            raise InputError(
                f"`icc` must be a DataFrame (icc_table / icc_comparisons output), got {type(icc).__name__}"
            )
        if "feature" not in table.columns:
            raise InputError("the precomputed ICC table needs a `feature` column or index")
        table["feature"] = table["feature"].astype(str)
        table["comparison"] = table["comparison"].astype(str)
        if table.duplicated(["comparison", "feature"]).any():
            dups = table.loc[table.duplicated(["comparison", "feature"]), "feature"]
            raise InputError(f"the precomputed ICC table repeats feature(s) {format_items(dups)}")
        problems = []
        for comparison, sub in table.groupby("comparison", sort=False):
            missing = features.difference(pd.Index(sub["feature"]), sort=False)
            if len(missing):
                problems.append(f"comparison {comparison!r} lacks {format_items(missing)}")
        if problems:
            raise InputError(
                "the precomputed ICC table does not cover every feature of X: "
                + "; ".join(problems)
            )
        return table[table["feature"].isin(features)].reset_index(drop=True)

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_

    @property
    def summary(self) -> pd.DataFrame:
        """One row per feature: the compared value in each comparison, ``selected`` and ``reason``."""
        check_is_fitted(self, "support_")
        wide = self.icc_.pivot(index="feature", columns="comparison", values="value")
        wide = wide.reindex(index=self.feature_names_in_, columns=self.comparisons_)
        wide.columns = [f"{self._value_name()}_{c}" for c in wide.columns]
        wide.index.name = "feature"
        wide["selected"] = self.support_
        reasons = (
            self.icc_.dropna(subset=["reason"]).groupby("feature")["reason"].first()
            if "reason" in self.icc_.columns
            else pd.Series(dtype="string")
        )
        wide["reason"] = pd.array(reasons.reindex(wide.index), dtype="string")
        return wide

    def _value_name(self) -> str:
        return "ICC" if self.on == "estimate" else "ICC_ci_low"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Distribution of the fitted ICCs by ROI and feature class (see :func:`plot_icc`)."""
        check_is_fitted(self, "support_")
        kwargs.setdefault("threshold", self.threshold)
        return plot_icc(self.icc_, ax=ax, **kwargs)

    # -- persistence ---------------------------------------------------------------------

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Save the fitted filter (parameters, ICC table, selection) as JSON; return the text."""
        check_is_fitted(self, "support_")
        table = self.icc_.copy()
        for col in table.columns:
            if isinstance(table[col].dtype, pd.CategoricalDtype) or table[col].dtype == "string":
                table[col] = table[col].astype(object).where(table[col].notna(), None)
        state = {
            "feature_names_in": list(self.feature_names_in_),
            "support": self.support_,
            "comparisons": self.comparisons_,
            "icc_columns": list(table.columns),
            "icc": {c: table[c].tolist() for c in table.columns},
        }
        return dump_model("ICCFilter", self.get_params(), state, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> ICCFilter:
        """Load a filter saved by :meth:`to_json` (a path or the JSON text).

        Every key and value is checked first: a missing or unknown key or a wrong type raises
        :class:`InputError` naming the key.
        """
        params = Record({k: SCALAR for k in cls().get_params()})
        doc = load_model(source, "ICCFilter", params=params, state=_STATE_SCHEMA)
        with rebuilding(doc):
            return cls._rebuild(doc)

    @classmethod
    def _rebuild(cls, doc: dict[str, Any]) -> ICCFilter:
        obj = cls(**doc["params"])
        state = doc["state"]
        if len(state["support"]) != len(state["feature_names_in"]):
            raise ValueError("state.support and state.feature_names_in differ in length")
        if sorted(state["icc"]) != sorted(state["icc_columns"]):
            raise ValueError("state.icc is not keyed by exactly state.icc_columns")
        obj.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.support_ = np.asarray(state["support"], dtype=bool)
        obj.comparisons_ = list(state["comparisons"])
        table = pd.DataFrame({c: state["icc"][c] for c in state["icc_columns"]})
        for col in ("estimate", "F", "p_value", "ci_low", "ci_high", "value"):
            if col in table.columns:
                table[col] = pd.to_numeric(table[col], errors="coerce").astype(float)
        if "agreement" in table.columns:
            table["agreement"] = pd.Categorical(
                table["agreement"], categories=list(AGREEMENT_LEVELS), ordered=True
            )
        if "reason" in table.columns:
            table["reason"] = pd.array(table["reason"], dtype="string")
        obj.icc_ = table
        obj.selected_features_ = obj.feature_names_in_[obj.support_]
        return obj


# What an ICCFilter file's ``state`` holds (see radiomics_aln.io); the ICC table's numbers may be
# null (NaN) or "inf" (an F ratio with no residual variance).
_STATE_SCHEMA = Record(
    {
        "feature_names_in": ListOf(STR),
        "support": ListOf(BOOL),
        "comparisons": ListOf(STR),
        "icc_columns": ListOf(STR),
        "icc": MapOf(ListOf(SCALAR)),
    }
)
