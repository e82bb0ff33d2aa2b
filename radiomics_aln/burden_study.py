"""The axillary tumour burden study: ordinal and two-step nomograms on one cohort.

:class:`BurdenStudy` runs the binary :class:`~radiomics_aln.study.Study` (extraction, ICC
filter, one LASSO score per ROI and the N+ vs N0 nomogram, all on the training cohort) and
then, on the same training patients and the same predictors (the binary nomogram's screened
clinical factors and scores):

1. the burden levels from the node count column of the ``endpoint`` setting
   (:func:`~radiomics_aln.burden.burden_levels`), checked against the binary outcome;
2. the proportional-odds model and its nomogram
   (:class:`~radiomics_aln.ordinal.OrdinalNomogram`), with Brant's test;
3. the two-step model (:class:`~radiomics_aln.burden.TwoStepModel`): step 1 is the binary
   study's nomogram itself, step 2 a nomogram of N>=3 vs N1-2 fitted on N+ training patients.

``evaluate()`` computes on every cohort the ordinal C of both routes, the per-split AUC (DeLong)
and calibration (:func:`~radiomics_aln.burden.split_evaluation`), decision curves per split,
and the decision table of each route at the training Youden cutoffs.

**Route for the scores.** The radiomics scores are the binary study's LASSO scores, fitted on
N+ vs N0 (the split with the most events, and the one the binary nomogram needs anyway); the
burden models then use the scores as predictors. Fitting a cumulative-logit LASSO, or one
LASSO per split, would add a high-dimensional selection on the N>=3 split, which has a third
of the events of N+ vs N0, and would give each route different scores to compare. A score that
carries no information about burden among N+ patients shows up as a small step-2 coefficient
and in Brant's test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.burden import (
    TwoStepModel,
    burden_levels,
    check_endpoint,
    cutoff_levels,
    decision_table,
    split_evaluation,
)
from radiomics_aln.decision import decision_curve
from radiomics_aln.exceptions import InputError
from radiomics_aln.formatting import format_estimate_ci, format_number, format_p_value
from radiomics_aln.manifest import read_manifest
from radiomics_aln.metrics import youden_threshold
from radiomics_aln.ordinal import OrdinalNomogram, ordinal_c
from radiomics_aln.study import Study

__all__ = ["BurdenStudy"]

ORDINAL = "Ordinal model"
TWO_STEP = "Two-step model"


class BurdenStudy:
    """Ordinal (proportional odds) and two-step nomograms of axillary tumour burden.

    Parameters
    ----------
    config : StudyConfig, mapping or path
        As :class:`~radiomics_aln.study.Study`; its ``endpoint`` must be set (see
        :func:`~radiomics_aln.burden.check_endpoint`), with ``outcome`` the binary N+ column.
    table, features, repeats, progress, **overrides
        Passed to :class:`~radiomics_aln.study.Study`. ``table`` (or the manifest) must hold
        the node count column.

    Attributes
    ----------
    study : Study
        The binary study (step 1 and the scores).
    ordinal_ : OrdinalNomogram
    two_step_ : TwoStepModel or None
        None when the endpoint has more than three levels.
    brant_ : DataFrame
        Brant's test of the ordinal model (training cohort).
    codes_ : Series
        Burden level codes of every patient.
    results_ : dict
        After ``evaluate()``: ``tables`` and ``figures``.

    Examples
    --------
    See ``examples/burden_study.py`` and ``radiomics-aln demo --endpoint burden``.
    """

    def __init__(
        self,
        config: Any = None,
        *,
        table: pd.DataFrame | None = None,
        features: pd.DataFrame | None = None,
        repeats: Mapping[str, pd.DataFrame] | None = None,
        progress: Callable[[str], None] | bool | None = None,
        **overrides: Any,
    ) -> None:
        self.study = Study(config, table=table, features=features, repeats=repeats,
                           progress=progress, **overrides)  # fmt: skip
        self.endpoint = check_endpoint(self.study.config.endpoint)
        self._table = table

    # ------------------------------------------------------------------ fit
    def _burden_codes(self) -> pd.Series:
        """Burden codes of every patient of the cohort table, checked before any fitting:
        the count column, the counts, agreement with the binary outcome, training levels."""
        cfg, col = self.study.config, self.endpoint["column"]
        if self._table is not None:
            source = self._table
        else:
            source = read_manifest(cfg.manifest, outcome=cfg.outcome,
                                   spacing_range=cfg.spacing_range).table  # fmt: skip
        missing = [c for c in (col, cfg.outcome, "cohort") if c not in source.columns]
        if missing:
            raise InputError(
                f"column(s) {format_items(missing)} of the burden endpoint are not in the cohort "
                f"table; it has {format_items(source.columns, 30)}"
            )
        source = source.set_axis(source.index.astype(str))
        levels = self.endpoint["levels"]
        codes = burden_levels(source[col], levels, column=col)
        binary = pd.to_numeric(source[cfg.outcome], errors="coerce").to_numpy()
        clash = (codes.to_numpy() >= 1) != (binary == 1)
        if clash.any():
            raise InputError(
                f"node count `{col}` and outcome `{cfg.outcome}` disagree (N+ needs >= "
                f"{levels[list(levels)[1]][0]} nodes) in case(s) "
                f"{format_items(source.index[clash], 5)}"
            )
        train = codes[source["cohort"].astype(str) == cfg.train_cohort].to_numpy()
        empty = [n for k, n in enumerate(levels) if not np.any(train == k)]
        if empty:
            raise InputError(
                f"no training patients at burden level(s) {format_items(empty)} of `{col}`; "
                "merge such a level with its neighbour in `endpoint.levels`"
            )
        return codes

    def fit(self) -> BurdenStudy:
        """Fit the binary study, then the ordinal and two-step models on the training cohort."""
        codes = self._burden_codes()
        st = self.study.fit()
        cfg = st.config
        data = st.data_
        levels = self.endpoint["levels"]
        self.codes_ = codes.reindex(data.index)
        self.level_names_ = list(levels)
        train = data[data["cohort"] == cfg.train_cohort]
        y_train = self.codes_.loc[train.index].to_numpy()
        combined = st.model_.combined_model
        self.predictors_ = [str(p) for p in combined.predictors_]
        refs = {p: v for p, v in dict(combined.reference_levels or {}).items()
                if p in self.predictors_}  # fmt: skip
        self.ordinal_ = OrdinalNomogram(self.predictors_, reference_levels=refs or None,
                                        level_names=self.level_names_)  # fmt: skip
        self.ordinal_.fit(train[self.predictors_], y_train)
        self.brant_ = self.ordinal_.brant_test()
        ex = self.ordinal_.exceedance(train).to_numpy()
        self.ordinal_cutoffs_ = [
            float(youden_threshold((y_train >= j).astype(int), ex[:, j - 1]).threshold)
            for j in range(1, len(levels))
        ]
        self.two_step_ = None
        if len(levels) == 3:
            self.two_step_ = TwoStepModel(self.predictors_, level_names=self.level_names_,
                                          reference_levels=refs or None)  # fmt: skip
            self.two_step_.fit(train[self.predictors_], y_train, step1=combined)
        return self

    def fitted_state(self) -> dict[str, Any]:
        """Everything ``fit()`` learned, as plain numbers (the leakage tests compare it)."""
        self._check_fitted()
        state = {
            "binary": self.study.fitted_state(),
            "ordinal": [float(v) for v in self.ordinal_.fit_.coef],
            "ordinal_cutoffs": self.ordinal_cutoffs_,
        }
        if self.two_step_ is not None:
            state["step2"] = [float(v) for v in self.two_step_.step2_.coef_]
            state["step2_cutoff"] = float(self.two_step_.step2_.youden_cutoff_)
        return state

    def _check_fitted(self) -> None:
        if not hasattr(self, "ordinal_"):
            raise InputError("the burden study is not fitted: call fit() first")

    # ------------------------------------------------------------------ predictions
    def _ordinal_codes(self, ex: np.ndarray) -> np.ndarray:
        """Hierarchical decision at the training Youden cutoffs of each split."""
        return cutoff_levels(ex, self.ordinal_cutoffs_)

    def predictions(self) -> pd.DataFrame:
        """Per patient: cohort, true level, each route's exceedance probabilities and
        predicted level."""
        self._check_fitted()
        data = self.study.data_
        ex = self.ordinal_.exceedance(data)
        out = pd.DataFrame({"cohort": data["cohort"], "burden": self.codes_.map(
            dict(enumerate(self.level_names_)))}, index=data.index)  # fmt: skip
        for c in ex.columns:
            out[f"ordinal_{c}"] = ex[c]
        out["ordinal_predicted"] = np.asarray(self.level_names_, dtype=object)[
            self._ordinal_codes(ex.to_numpy())]  # fmt: skip
        if self.two_step_ is not None:
            p = self.two_step_.probabilities(data)
            out[f"two_step_{ex.columns[0]}"] = p["p_step1"]  # P(N+), the binary nomogram's
            out[f"two_step_{ex.columns[-1]}"] = p["p_top"]
            out["two_step_predicted"] = self.two_step_.predict(data)
        return out

    # ------------------------------------------------------------------ evaluate
    def _route_exceedance(self, data: pd.DataFrame) -> dict[str, np.ndarray]:
        routes = {ORDINAL: self.ordinal_.exceedance(data).to_numpy()}
        if self.two_step_ is not None:
            p = self.two_step_.probabilities(data)
            routes[TWO_STEP] = np.column_stack([p["p_step1"], p["p_top"]])
        return routes

    def evaluate(self) -> BurdenStudy:
        """Per cohort: ordinal C, per-split evaluation, decision curves, decision tables."""
        self._check_fitted()
        self.study.evaluate()
        cfg, data = self.study.config, self.study.data_
        labels = self.study.config.cohort_labels
        c_rows, split_rows, dca, dec_rows, surg_rows = [], [], [], [], []
        for cohort in self.study.cohorts_:
            d = data[data["cohort"] == cohort]
            y = self.codes_.loc[d.index].to_numpy()
            label = labels.get(cohort, cohort)
            for route, ex in self._route_exceedance(d).items():
                score = ex.sum(axis=1)  # expected level: sum of exceedance probabilities
                if route == ORDINAL:
                    score = self.ordinal_.linear_predictor(d)
                c = ordinal_c(y, score) if np.unique(y).size > 1 else pd.Series(
                    {"c_index": np.nan, "dxy": np.nan})  # fmt: skip
                c_rows.append({"cohort": label, "model": route, "n": len(d), **c.to_dict()})
                ev = split_evaluation(y, ex, level_names=self.level_names_)
                split_rows.append(ev.assign(cohort=label, model=route))
                codes = (self._ordinal_codes(ex) if route == ORDINAL
                         else self.two_step_.predict_codes(d))  # fmt: skip
                table = decision_table(y, codes, level_names=self.level_names_)
                dec_rows.append(table.summary.assign(cohort=label, model=route))
                surg_rows.append(table.surgery.assign(cohort=label, model=route))
            for j, name in enumerate(self.level_names_[1:], start=1):
                yj = (y >= j).astype(int)
                if 0 < yj.sum() < yj.size:
                    curves = decision_curve(yj, {r: ex[:, j - 1] for r, ex in
                                                 self._route_exceedance(d).items()})  # fmt: skip
                    dca.append(curves.assign(cohort=label, split=f">={name}"))
        lead = ["cohort", "model"]
        self.results_ = {
            "tables": {
                "ordinal_coefficients": self.ordinal_.summary,
                "brant_test": self.brant_,
                "two_step_coefficients": (self.two_step_.summary if self.two_step_ is not None
                                          else pd.DataFrame()),  # fmt: skip
                "ordinal_c": pd.DataFrame(c_rows),
                "split_evaluation": _lead(pd.concat(split_rows, ignore_index=True), lead),
                "decision_tables": _lead(pd.concat(dec_rows, ignore_index=True), lead),
                "surgery_avoided": _lead(pd.concat(surg_rows, ignore_index=True), lead),
                "decision_curves": pd.concat(dca, ignore_index=True) if dca else pd.DataFrame(),
                "ordinal_points": self.ordinal_.points_table(),
                "predictions": self.predictions(),
            },
        }
        self._outcome = cfg.outcome
        return self

    # ------------------------------------------------------------------ outputs
    def methods_text(self) -> list[str]:
        """Paragraphs of the statistical methods of the burden analysis."""
        self._check_fitted()
        lv = ", ".join(f"{n} ({lo}{'' if hi == lo else ('+' if hi is None else f'-{hi}')} "
                       "nodes)" for n, (lo, hi) in self.endpoint["levels"].items())  # fmt: skip
        omni = self.brant_.iloc[0]
        return [
            f"Axillary tumour burden was the ordinal endpoint {lv}, from the number of "
            f"metastatic nodes (`{self.endpoint['column']}`). The radiomics scores were the "
            "LASSO scores of the binary N+ vs N0 analysis, fitted on the training cohort.",
            "A proportional-odds (cumulative logit) model of burden on the predictors of the "
            "binary nomogram (" + ", ".join(self.predictors_) + ") was fitted by maximum "
            "likelihood (as rms::lrm); its nomogram has one points scale and an axis of the "
            "probability of each burden level or higher. The proportional-odds assumption was "
            f"tested with Brant's (1990) test (omnibus chi-square {omni['chi2']:.2f}, "
            f"{int(omni['df'])} df, p = {omni['p_value']:.3g}"
            + ("; rejected at 0.05 for " + ", ".join(
                self.brant_["term"].iloc[1:][self.brant_["p_value"].iloc[1:] < 0.05])
               + ", so the two-step model is the primary analysis)."
               if omni["p_value"] < 0.05 else "; not rejected at 0.05)."),
            "As a fallback that does not assume proportional odds, a two-step model combined "
            "the binary nomogram (step 1, N+ vs N0) with a logistic model of the highest "
            "burden level among N+ training patients (step 2); patients were classified at "
            "the training Youden cutoffs of each step.",
            "In every cohort we report Harrell's generalized C (ordinal C), the AUC with "
            "DeLong's 95% CI, calibration intercept and slope per cumulative split, decision "
            "curves per split, and a decision table of predicted vs true burden with the share "
            "of patients who could be spared axillary surgery or an axillary dissection.",
        ]

    def report_content(self) -> dict[str, Any]:
        """Report content for :func:`radiomics_aln.report.report`."""
        import matplotlib.pyplot as plt

        if not hasattr(self, "results_"):
            raise InputError("the burden study is not evaluated: call evaluate() first")
        t = self.results_["tables"]
        figs = {}
        dd = self.study.config.data_dictionary()  # axis names as the binary study's nomogram
        fig, ax = plt.subplots(figsize=(9, 5.5))
        labels, levels = dd.nomogram_labels(self.ordinal_.points_table())
        self.ordinal_.plot(ax, labels=labels, level_labels=levels)
        figs["Ordinal nomogram: one points scale, probability of each burden level or higher"] = fig
        if self.two_step_ is not None:
            fig1, ax1 = plt.subplots(figsize=(9, 5))
            labels, levels = dd.nomogram_labels(self.two_step_.step1_.points_table())
            self.two_step_.step1_.plot_nomogram(ax1, risk_label="P(N+)", labels=labels,
                                                level_labels=levels)  # fmt: skip
            figs["Two-step model, step 1: the binary nomogram (N+ vs N0)"] = fig1
            fig2, ax2 = plt.subplots(figsize=(9, 5))
            labels, levels = dd.nomogram_labels(self.two_step_.step2_.points_table())
            self.two_step_.plot(ax2, labels=labels, level_labels=levels)
            figs[f"Two-step model, step 2: {self.level_names_[-1]} among N+ patients"] = fig2
        dca = t["decision_curves"]
        if len(dca):
            groups = list(dca.groupby(["cohort", "split"], sort=False))
            cohorts = list(dict.fromkeys(c for (c, _), _ in groups))
            splits = list(dict.fromkeys(s for (_, s), _ in groups))
            fig3, axes = plt.subplots(len(cohorts), len(splits), squeeze=False,
                                      figsize=(3.6 * len(splits), 2.6 * len(cohorts)))  # fmt: skip
            for (cohort, split), g in groups:
                ax3 = axes[cohorts.index(cohort)][splits.index(split)]
                for model, gm in g.groupby("model", sort=False):
                    ax3.plot(gm["threshold"], gm["net_benefit"], label=str(model))
                first = g[g["model"] == g["model"].iloc[0]]
                ax3.plot(first["threshold"], first["treat_all"], color="grey", lw=0.8,
                         label="treat all")  # fmt: skip
                ax3.axhline(0, color="black", lw=0.8)
                ax3.set_ylim(-0.05, max(0.05, float(first["treat_all"].max()) + 0.05))
                ax3.set_title(f"{cohort}, {split}", fontsize=8)
                ax3.set_xlabel("Threshold probability", fontsize=8)
                ax3.set_ylabel("Net benefit", fontsize=8)
            axes[0][0].legend(fontsize=7)
            fig3.tight_layout()
            figs["Decision curves per cohort and cumulative split"] = fig3
        return {
            "title": "Axillary tumour burden: ordinal and two-step nomograms",
            "subtitle": self.study.config.title,
            "methods": {"Burden analysis": self.methods_text()},
            "sections": [
                {"title": "Nomograms", "figures": figs},
                {"title": "Models", "tables": {
                    "Proportional-odds model (rms::lrm parametrisation: logit P(Y >= j) = "
                    "alpha_j + x'beta)": _readable(t["ordinal_coefficients"]),
                    "Brant test of proportional odds (omnibus and per column)":
                        _readable(t["brant_test"]),
                    "Two-step model coefficients": _readable(t["two_step_coefficients"]),
                }},
                {"title": "Discrimination and calibration", "tables": {
                    "Ordinal C (Harrell's generalized C) per cohort": _readable(t["ordinal_c"]),
                    "Per cumulative split: AUC (DeLong 95% CI) and calibration":
                        _readable(t["split_evaluation"]),
                }},
                {"title": "Decisions", "tables": {
                    "Decision table: predicted vs true burden (training Youden cutoffs)":
                        _readable(t["decision_tables"].pivot_table(
                            index=["cohort", "model", "predicted"], columns="truth",
                            values="n", sort=False).reset_index().rename_axis(columns=None)),
                    "Patients who could be spared each surgery": _readable(t["surgery_avoided"]),
                }},
            ],
        }  # fmt: skip

    def save(self, directory: str | os.PathLike, *, report: bool = True) -> Path:
        """Write the binary study to ``directory/binary`` (its model.json is step 1), the
        burden tables as CSV under ``directory/tables``, the ordinal model and the step-2
        nomogram as JSON (``burden_ordinal_model.json``, ``burden_step2_model.json``), the
        endpoint and the ordinal cutoffs (``burden_model.json``) and ``burden_report.html``.
        :meth:`BurdenModel.from_dir <radiomics_aln.burden_model.BurdenModel.from_dir>` loads
        the folder to predict new patients."""
        from radiomics_aln.burden_model import BURDEN_FILE, BurdenModel
        from radiomics_aln.report import report as write_report

        out = Path(directory)
        self.study.save(out / "binary", report=report)
        tables = out / "tables"
        tables.mkdir(parents=True, exist_ok=True)
        for name, table in self.results_["tables"].items():
            table.to_csv(tables / f"burden_{name}.csv", index=name == "predictions")
        self.ordinal_.to_json(out / "burden_ordinal_model.json")
        if self.two_step_ is not None:
            self.two_step_.step2_.to_json(out / "burden_step2_model.json")
        BurdenModel.from_study(self).to_json(out / BURDEN_FILE)
        if report:
            write_report(self, out / "burden_report.html")
        return out


def _lead(table: pd.DataFrame, lead: list[str]) -> pd.DataFrame:
    return table[lead + [c for c in table.columns if c not in lead]]


# the report's text views of the tidy tables: readable headers, one number format (issue 15)
_HEADERS = {
    "term": "Term", "predictor": "Predictor", "level": "Level", "step": "Step",
    "cohort": "Cohort", "model": "Model", "split": "Split", "decision": "Decision",
    "predicted": "Predicted", "n": "n", "n_events": "Events", "estimate": "Estimate",
    "beta": "Coefficient", "se": "SE", "z": "z", "chi2": "Chi-square", "df": "df",
    "c_index": "Ordinal C", "dxy": "Dxy", "share": "Share", "n_wrong": "Wrongly spared (n)",
    "share_wrong": "Wrongly spared (share)", "calibration_intercept": "Calibration intercept",
    "calibration_slope": "Calibration slope", "calibration_in_the_large": "Calibration in the large",
    "brier": "Brier", "eavg": "Eavg", "odds_ratio": "OR",
}  # fmt: skip


def _split_text(split: Any) -> str:
    """``">=N1-2"`` -> ``"N1-2 or higher"``; ``">=N>=3"`` -> ``"N>=3"``."""
    text = str(split)
    rest = text[2:] if text.startswith(">=") else text
    return rest if ">=" in rest else f"{rest} or higher"


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """Text view: estimates with their 95% CI, p-values as journals print them, 3 decimals."""
    out = pd.DataFrame(index=table.index)
    pairs = {"estimate": ("ci_low", "ci_high"), "odds_ratio": ("or_ci_low", "or_ci_high")}
    if "odds_ratio" in table and "ci_low" in table and "or_ci_low" not in table:
        pairs["odds_ratio"] = ("", "")  # the CI belongs to the coefficient
    skip = {c for lo_hi in pairs.values() for c in lo_hi if c in table}
    for col in table.columns:
        if col in skip:
            continue
        values = table[col]
        name = _HEADERS.get(col, col.replace("_", " ").capitalize())
        lo, hi = pairs.get(col, ("", ""))
        if lo in table and hi in table:
            out[f"{name} (95% CI)"] = [format_estimate_ci(e, a, b) for e, a, b
                                       in zip(values, table[lo], table[hi], strict=True)]  # fmt: skip
        elif col == "p_value":
            out["P"] = [format_p_value(v) for v in values]
        elif col == "split":
            out[name] = [_split_text(v) for v in values]
        elif pd.api.types.is_float_dtype(values):
            out[name] = [format_number(v, 3) for v in values]
        else:
            out[name] = values.astype(str)
    return out.reset_index(drop=True)
