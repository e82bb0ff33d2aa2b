"""``radiomics-aln demo --endpoint burden``: the burden study on the synthetic demo cohort
(private; the command line is :mod:`radiomics_aln.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from radiomics_aln._cli_output import UsageProblem, check_n_jobs, output_dir, writing

#: The endpoint of the demo's burden study: N0 / 1-2 / >= 3 metastatic nodes.
DEMO_ENDPOINT = {
    "type": "ordinal",
    "column": "n_positive_nodes",
    "levels": {"N0": [0, 0], "N1-2": [1, 2], "N>=3": [3, None]},
}


def cmd_burden_demo(args: Any, progress: Any) -> int:
    """Generate (or reuse) the demo cohort, run :class:`BurdenStudy` and write its outputs."""
    from radiomics_aln.burden_study import BurdenStudy
    from radiomics_aln.config import DEMO_N_CASES, demo_config
    from radiomics_aln.datasets import check_fractions, make_demo_cohort, min_cases
    from radiomics_aln.exceptions import SeparationError
    from radiomics_aln.formatting import format_estimate_ci

    n_cases = DEMO_N_CASES if args.n_cases is None else args.n_cases
    if n_cases < min_cases(check_fractions(None)):
        raise UsageProblem(f"--n-cases {n_cases} is too few for the demo")
    check_n_jobs(args.n_jobs)
    out = output_dir(args.out, files=("burden_report.html", "burden_model.json"),
                     folders=("data", "cache", "tables", "binary"))  # fmt: skip
    progress(f"Synthetic demo cohort ({n_cases} patients) in {out / 'data'}")
    with writing(out / "data"):
        manifest = make_demo_cohort(out / "data", n_cases=n_cases, random_state=args.seed,
                                    overwrite=True, reuse=True,
                                    scanners=getattr(args, "scanners", "single"))  # fmt: skip
    cfg = demo_config(manifest_path=str(Path(manifest.path)), cache_dir=str(out / "cache"),
                      n_jobs=args.n_jobs, random_state=args.seed,
                      endpoint=DEMO_ENDPOINT, title="ALN tumour burden (demo)")  # fmt: skip
    if args.firth:
        cfg.nomogram.penalty = "firth"
    try:
        study = BurdenStudy(cfg, progress=False if args.quiet else progress).fit().evaluate()
    except SeparationError as exc:
        raise SeparationError(
            f"{exc}. With {n_cases} demo patients the training cohort is small; run the demo "
            f"with --n-cases {DEMO_N_CASES} (the default) or more, or with --firth",
            columns=exc.columns, predictors=exc.predictors,
        ) from exc
    progress(f"Writing tables, figures and reports to {out}")
    with writing(out):
        study.save(out)
    c = study.results_["tables"]["ordinal_c"]
    lines = ["Ordinal C (ordinal model / two-step model):"]
    for cohort, g in c.groupby("cohort", sort=False):
        v = g.set_index("model")["c_index"]
        lines.append(f"  {cohort:<18} " + " / ".join(f"{x:.3f}" for x in v))
    ev = study.results_["tables"]["split_evaluation"]
    lines.append("AUC of P(N>=3), ordinal model:")
    for _, r in ev[(ev["model"] == "Ordinal model") & (ev["split"] == ">=N>=3")].iterrows():
        lines.append(f"  {r['cohort']:<18} {format_estimate_ci(r.estimate, r.ci_low, r.ci_high)}")
    print("\n".join(lines))  # noqa: T201 - the command's summary
    print(f"Report: {(out / 'burden_report.html').resolve()}")  # noqa: T201
    return 0


def cmd_burden_predict(args: Any, progress: Any) -> int:
    """``radiomics-aln predict BURDEN_FOLDER DATA``: both burden models' predictions."""
    from radiomics_aln._cli_predict import predict_to_csv
    from radiomics_aln.burden_model import BurdenModel

    model, pred, out = predict_to_csv(args, progress, lambda: BurdenModel.from_dir(args.model))
    counts = ", ".join(f"{n} {level}" for level, n in pred["ordinal_predicted"].value_counts()
                       .reindex(model.level_names, fill_value=0).items())  # fmt: skip
    print(f"{len(pred)} patients predicted (ordinal model: {counts}); written to {out}")  # noqa: T201
    return 0
