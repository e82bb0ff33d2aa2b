"""The saved burden models of a study: :class:`BurdenModel` (a folder of JSON files) predicts
the axillary tumour burden (N0 / N1-2 / N>=3) of new patients.

:meth:`BurdenStudy.save <radiomics_aln.burden_study.BurdenStudy.save>` writes a folder::

    binary/model.json            the binary study's StudyModel: extraction settings, scores
                                 (step 1 of the scores route), the N+ vs N0 nomogram (step 1)
    burden_ordinal_model.json    the proportional-odds nomogram (OrdinalNomogram)
    burden_step2_model.json      step 2 of the two-step model (LogisticNomogram), 3 levels only
    burden_model.json            the endpoint, the level names and the ordinal model's cutoffs

:meth:`BurdenModel.from_dir` reads the four files (JSON only, never a pickle), checks that they
belong together, and :meth:`BurdenModel.predict` takes what
:meth:`StudyModel.predict <radiomics_aln.model.StudyModel.predict>` takes (a manifest, whose
images are extracted with the stored settings, or a feature table with the clinical columns):
the scores, harmonizer and clinical levels are the binary model's own
(:meth:`~radiomics_aln.model.StudyModel.predictor_frame`), then both burden models predict from
the same frame.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiomics_aln._validation import format_items
from radiomics_aln.burden import TwoStepModel, check_endpoint, cutoff_levels
from radiomics_aln.exceptions import InputError
from radiomics_aln.io import (
    ANY,
    NUM_OR_INF,
    STR,
    ListOf,
    MapOf,
    Record,
    dump_model,
    load_model,
    number,
    rebuilding,
)
from radiomics_aln.model import StudyModel, score_column
from radiomics_aln.nomogram import LogisticNomogram
from radiomics_aln.ordinal import OrdinalNomogram

__all__ = ["BurdenModel", "BINARY_FILE", "ORDINAL_FILE", "STEP2_FILE", "BURDEN_FILE"]

#: The files of a saved burden study, relative to its folder.
BINARY_FILE = "binary/model.json"
ORDINAL_FILE = "burden_ordinal_model.json"
STEP2_FILE = "burden_step2_model.json"
BURDEN_FILE = "burden_model.json"


class BurdenModel:
    """The fitted burden models of a study: the ordinal nomogram and the two-step model.

    Parameters
    ----------
    binary : StudyModel
        The binary study's model: its scores and harmonizer make the predictors, its nomogram
        is step 1 of the two-step model.
    ordinal : OrdinalNomogram
        The proportional-odds nomogram.
    step2 : LogisticNomogram or None
        Step 2 of the two-step model (top level vs the middle one among N+); None when the
        endpoint has more than three levels.
    endpoint : mapping
        The ``endpoint`` setting (``column``, ``levels``), checked by
        :func:`~radiomics_aln.burden.check_endpoint`.
    ordinal_cutoffs : sequence of float
        The ordinal model's training Youden cutoff of each cumulative split.

    Attributes
    ----------
    level_names : list of str
        The burden levels, lowest first (as stored in the ordinal model).

    Raises
    ------
    InputError
        Models that do not belong together (named): a predictor of a burden model that the
        binary model does not give (e.g. a score of another ROI), level names or cutoffs that
        differ from the ordinal model's, a step 2 with more than three levels.

    Examples
    --------
    See ``examples/burden_study.py`` and docs/burden.md::

        model = BurdenModel.from_dir("burden_results")
        model.predict("new_patients_manifest.csv")
    """

    def __init__(
        self,
        binary: StudyModel,
        ordinal: OrdinalNomogram,
        step2: LogisticNomogram | None,
        *,
        endpoint: Mapping[str, Any],
        ordinal_cutoffs: Sequence[float],
    ) -> None:
        self.binary = binary
        self.ordinal = ordinal
        self.step2 = step2
        self.endpoint = check_endpoint(dict(endpoint, type="ordinal"))
        self.ordinal_cutoffs = [float(c) for c in ordinal_cutoffs]
        self.level_names = [str(n) for n in ordinal.level_names_]
        self._check_consistent()

    def __repr__(self) -> str:
        routes = "ordinal and two-step" if self.step2 is not None else "ordinal"
        return (f"BurdenModel(levels={self.level_names}, {routes} models, "
                f"predictors: {', '.join(self.predictors)})")  # fmt: skip

    def _repr_html_(self) -> str:
        """The models in a notebook: levels, predictors, cutoffs and each model's coefficients."""
        from radiomics_aln._display import html_block

        cutoffs = ", ".join(f"{c:.3g}" for c in self.ordinal_cutoffs)
        facts = {
            "endpoint": f"{self.endpoint['column']}: {' < '.join(self.level_names)}",
            "ROIs": ", ".join(self.binary.rois),
            "ordinal model": ", ".join(self.predictors),
            "ordinal cutoffs (cumulative splits, Youden on training)": cutoffs,
            "two-step model, step 1 (N+ vs N0)": ", ".join(
                map(str, self.binary.combined_model.predictors_)),
            "two-step model, step 2": ("none (more than three levels)" if self.step2 is None
                                       else ", ".join(map(str, self.step2.predictors_))),
        }  # fmt: skip
        tables = [("Ordinal model", self.ordinal.summary),
                  ("Two-step model, step 1", self.binary.combined_model.summary)]  # fmt: skip
        if self.step2 is not None:
            tables.append(("Two-step model, step 2", self.step2.summary))
        return html_block("BurdenModel", facts=facts, tables=tables)

    @property
    def predictors(self) -> list[str]:
        """The ordinal model's predictors (clinical columns and scores)."""
        return [t.name for t in self.ordinal.terms_]

    def predictor_columns(self) -> list[str]:
        """The columns both burden models read (scores and clinical columns): the ordinal
        model's, step 1's (the binary nomogram) and step 2's. The binary study's clinical-only
        model is not used, so its other columns are not needed."""
        models = [self.predictors, self.binary.combined_model.predictors_]
        if self.step2 is not None:
            models.append(self.step2.predictors_)
        return list(dict.fromkeys(str(c) for m in models for c in m))

    def _check_consistent(self) -> None:
        given = self.binary.predictor_columns()
        scores = [score_column(r) for r in self.binary.rois]
        models = [("ordinal model", self.predictors)]
        if self.step2 is not None:
            models.append(("two-step model's step 2", list(self.step2.predictors_)))
        for what, preds in models:
            alien = [p for p in preds if p not in given]
            if alien:
                raise InputError(
                    f"the {what} uses predictor(s) {format_items(alien)} that the binary model "
                    f"(step 1) does not give: its scores are {format_items(scores)} and its "
                    f"columns {format_items(given)}. The files come from different studies or "
                    "were edited: save the burden study again (BurdenStudy.save)"
                )
        if list(self.endpoint["levels"]) != self.level_names:
            raise InputError(
                f"the endpoint's levels {format_items(self.endpoint['levels'])} differ from the "
                f"ordinal model's {format_items(self.level_names)}"
            )
        k = len(self.level_names)
        if len(self.ordinal_cutoffs) != k - 1:
            raise InputError(f"{len(self.ordinal_cutoffs)} ordinal cutoff(s) for {k} levels; "
                             f"give one per cumulative split ({k - 1})")  # fmt: skip
        if self.step2 is not None and k != 3:
            raise InputError(f"a two-step model needs three levels, the endpoint has {k}")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_study(cls, study: Any) -> BurdenModel:
        """The fitted models of a :class:`~radiomics_aln.burden_study.BurdenStudy`."""
        if not hasattr(study, "ordinal_"):
            raise InputError("the burden study is not fitted: call fit() first")
        two = study.two_step_
        return cls(study.study.model_, study.ordinal_, None if two is None else two.step2_,
                   endpoint=study.endpoint, ordinal_cutoffs=study.ordinal_cutoffs_)  # fmt: skip

    @classmethod
    def from_dir(cls, directory: str | os.PathLike) -> BurdenModel:
        """Load the folder written by ``BurdenStudy.save`` (JSON files only, never a pickle).

        Every file is checked as its class's ``from_json`` does, then the models against each
        other (see the class's Raises).

        Raises
        ------
        InputError
            Not a folder, a file missing (named, with what writes it), a bad file (its key
            path named), or files that do not belong together.
        """
        folder = Path(directory)
        if not folder.is_dir():
            raise InputError(f"{folder} is not a folder; give the folder BurdenStudy.save wrote")
        if not (folder / BURDEN_FILE).is_file():
            hint = (f"; {folder / 'model.json'} is a binary study's model: predict with it "
                    "instead" if (folder / "model.json").is_file() else "")  # fmt: skip
            raise InputError(
                f"{folder} is not a saved burden study: it has no {BURDEN_FILE} (written by "
                f"BurdenStudy.save and `radiomics-aln demo --endpoint burden`){hint}"
            )
        doc = load_model(folder / BURDEN_FILE, "BurdenModel", params=_PARAMS_SCHEMA,
                         state=Record({}))  # fmt: skip
        params = doc["params"]
        with rebuilding(doc):
            cutoffs = [number(c) for c in params["ordinal_cutoffs"]]
            endpoint = {"column": params["column"], "levels": params["levels"]}
        for name in (BINARY_FILE, ORDINAL_FILE):
            if not (folder / name).is_file():
                raise InputError(f"{folder / name} is missing; the burden study's folder needs "
                                 "it (save the study again)")  # fmt: skip
        binary = StudyModel.from_json(folder / BINARY_FILE)
        ordinal = OrdinalNomogram.from_json(folder / ORDINAL_FILE)
        step2 = None
        if len(ordinal.level_names_) == 3:
            if not (folder / STEP2_FILE).is_file():
                raise InputError(f"{folder / STEP2_FILE} (step 2 of the two-step model) is "
                                 "missing; save the burden study again")  # fmt: skip
            step2 = LogisticNomogram.from_json(folder / STEP2_FILE)
        if list(params["level_names"]) != list(ordinal.level_names_):
            raise InputError(
                f"{folder / BURDEN_FILE} names the levels {format_items(params['level_names'])} "
                f"but {ORDINAL_FILE} {format_items(ordinal.level_names_)}; the files come from "
                "different studies or were edited: save the burden study again"
            )
        return cls(binary, ordinal, step2, endpoint=endpoint, ordinal_cutoffs=cutoffs)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text of ``burden_model.json`` (the endpoint, level names and ordinal cutoffs;
        the models have files of their own), also written to ``path``."""
        levels = {n: [lo, hi] for n, (lo, hi) in self.endpoint["levels"].items()}
        params = {"column": self.endpoint["column"], "levels": levels,
                  "level_names": self.level_names,
                  "ordinal_cutoffs": [_inf_text(c) for c in self.ordinal_cutoffs]}  # fmt: skip
        return dump_model("BurdenModel", params, {}, path)

    # ------------------------------------------------------------------ predict
    def predict(
        self,
        data: Any,
        clinical: Any = None,
        *,
        external: Mapping[str, Any] | None = None,
        n_jobs: int = 1,
        cache_dir: str | os.PathLike | None = None,
    ) -> pd.DataFrame:
        """Predict the burden level of new patients with both models.

        Parameters
        ----------
        data, clinical, external, n_jobs, cache_dir
            As :meth:`StudyModel.predict <radiomics_aln.model.StudyModel.predict>`: a
            manifest (path or Manifest; features extracted with the stored settings) or a
            feature table indexed by case id, with the clinical columns or ``clinical``.

        Returns
        -------
        DataFrame
            Indexed by case id, with the levels' names ``N0``, ``N1-2``, ``N>=3`` (those stored):

            - one column per score (``tumor_score``, ...);
            - ``ordinal_P(N0)``, ``ordinal_P(N1-2)``, ``ordinal_P(N>=3)``: the probability of
              each level (summing to 1); ``ordinal_P(N1-2 or higher)``: the exceedance
              probability of every split but the top one (that one is ``ordinal_P(N>=3)``);
            - ``ordinal_most_likely``: the level of highest probability (the lower on a tie);
            - ``ordinal_predicted``: the level at the training Youden cutoff of each split
              (:func:`~radiomics_aln.burden.cutoff_levels`; the burden study's decision tables);
            - ``ordinal_total_points``: total points on the ordinal nomogram;
            - with a two-step model (three levels): ``two_step_P(N0)`` = 1 - P(N+),
              ``two_step_P(N1-2)`` = P(N+) (1 - P(N>=3 | N+)), ``two_step_P(N>=3)`` = P(N+)
              P(N>=3 | N+), ``two_step_P(N1-2 or higher)`` = P(N+) (the binary nomogram's
              probability), ``two_step_P(N>=3 | N1-2 or higher)`` (step 2),
              ``two_step_most_likely`` and ``two_step_predicted`` (N0 below step 1's training
              Youden cutoff, else the top level at or above step 2's, else the middle level).

        Raises
        ------
        InputError
            As ``StudyModel.predict``: missing feature or clinical columns (named), cases
            without clinical rows (named), failed extractions.
        """
        frame = self.binary.predictor_frame(data, clinical, columns=self.predictor_columns(),
                                            external=external, n_jobs=n_jobs,
                                            cache_dir=cache_dir)  # fmt: skip
        names = np.asarray(self.level_names, dtype=object)
        out = frame[[score_column(r) for r in self.binary.scores]].copy()
        ex = self.ordinal.exceedance(frame)
        probs = self.ordinal.predict_proba(frame)
        for k, name in enumerate(self.level_names[:-1]):
            out[f"ordinal_P({name})"] = probs[:, k]
        out[f"ordinal_{ex.columns[-1]}"] = ex.iloc[:, -1]  # P(top) = P(top or higher)
        for col in ex.columns[:-1]:
            out[f"ordinal_{col}"] = ex[col]
        out["ordinal_most_likely"] = names[np.argmax(probs, axis=1)]
        out["ordinal_predicted"] = names[cutoff_levels(ex.to_numpy(), self.ordinal_cutoffs)]
        out["ordinal_total_points"] = self.ordinal.points(frame).to_numpy()
        if self.step2 is not None:
            two = self._two_step()
            p = two.probabilities(frame)
            mid = ex.columns[0]  # "P(<middle level> or higher)"
            two_probs = np.column_stack([1 - p["p_step1"], p["p_step1"] - p["p_top"], p["p_top"]])
            for k, name in enumerate(self.level_names):
                out[f"two_step_P({name})"] = two_probs[:, k]
            out[f"two_step_{mid}"] = p["p_step1"]
            out[f"two_step_P({self.level_names[-1]} | {mid[2:]}"] = p["p_step2"]
            out["two_step_most_likely"] = names[np.argmax(two_probs, axis=1)]
            out["two_step_predicted"] = names[two.predict_codes(frame)]
        return out

    def _two_step(self) -> TwoStepModel:
        """The two-step model from its fitted steps: step 1 the binary nomogram."""
        two = TwoStepModel([str(p) for p in self.step2.predictors_],
                           level_names=self.level_names)  # fmt: skip
        two.step1_ = self.binary.combined_model
        two.step2_ = self.step2
        two.n_step2_ = int(self.step2.n_)
        return two


def _inf_text(value: float) -> float | str:
    return value if np.isfinite(value) else ("inf" if value > 0 else "-inf")


_PARAMS_SCHEMA = Record(
    {
        "column": STR,
        "levels": MapOf(ListOf(ANY, length=2)),
        "level_names": ListOf(STR),
        "ordinal_cutoffs": ListOf(NUM_OR_INF),
    }
)
