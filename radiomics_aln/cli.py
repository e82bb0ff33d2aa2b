"""Command-line interface: ``radiomics-aln`` (also ``python -m radiomics_aln``).

Subcommands::

    radiomics-aln demo                 synthetic cohort -> full study -> report (start here)
    radiomics-aln init                 write a commented study configuration to edit
    radiomics-aln extract MANIFEST     PyRadiomics features of every case (cached, parallel)
    radiomics-aln icc FEATURES ...     ICC of every feature from repeat segmentations
    radiomics-aln fit CONFIG           fit scores and models on the training cohort -> model.json
    radiomics-aln evaluate CONFIG      fit + evaluate every cohort -> tables, figures, report
    radiomics-aln predict MODEL DATA   predict new patients with a saved model.json
    radiomics-aln report CONFIG        fit + evaluate -> the HTML report only
    radiomics-aln manifest-from-folder ROOT   manifest of a <class>/<name>.png + masks folder
    radiomics-aln split MANIFEST       stratified train/test split, grouped by patient and image

Exit statuses (also in ``docs/cli.md``): 0 success; 1 bad input (data, configuration, model
or a missing input file); 2 usage (an option's value, a missing or conflicting option); 3 an output
cannot be written (a file where a folder is expected, no space left, a read-only place); 4 an
internal error (a bug: the traceback is printed); 130 interrupted (Ctrl-C, SIGINT); 143 stopped by
SIGTERM. Statuses 1-3 print one line naming the file, option or case at fault (``--debug`` shows
the traceback instead); outputs are checked before any work starts.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from radiomics_aln import _cli_burden, _cli_readers, _cli_split
from radiomics_aln._cli_external import add_external_option
from radiomics_aln._cli_output import (
    CREATED_FOLDERS as _CREATED_FOLDERS,
)
from radiomics_aln._cli_output import (
    MissingInput as _MissingInput,
)
from radiomics_aln._cli_output import (
    OutputProblem as _OutputProblem,
)
from radiomics_aln._cli_output import (
    Terminated as _Terminated,
)
from radiomics_aln._cli_output import (
    UsageProblem as _UsageProblem,
)
from radiomics_aln._cli_output import (
    check_n_jobs as _check_n_jobs,
)
from radiomics_aln._cli_output import (
    check_positive as _check_positive,
)
from radiomics_aln._cli_output import (
    existing as _existing,
)
from radiomics_aln._cli_output import (
    output_dir as _output_dir,
)
from radiomics_aln._cli_output import (
    output_file as _output_file,
)
from radiomics_aln._cli_output import (
    remove_new_empty_folders as _remove_new_empty_folders,
)
from radiomics_aln._cli_output import (
    remove_stale as _remove_stale,
)
from radiomics_aln._cli_output import (
    write_output as _write_output,
)
from radiomics_aln._cli_output import (
    writing as _writing,
)
from radiomics_aln._cli_predict import predict_to_csv
from radiomics_aln._version import __version__

__all__ = ["main", "build_parser"]

logger = logging.getLogger(__name__)

_EPILOG = """\
Typical session:
  radiomics-aln demo --out demo_study          # see what the workflow produces
  radiomics-aln init --out study.yaml           # then edit: manifest path, outcome, clinical
  radiomics-aln evaluate study.yaml --out results
  radiomics-aln predict results/model.json new_patients.csv --out predictions.csv

Exit status: 0 done, 1 bad input, 2 bad command line, 3 an output cannot be written,
4 internal error (a bug), 130/143 interrupted (SIGINT/SIGTERM).
Documentation: docs/user_guide.md and docs/cli.md.
"""

_CONFIG_TEMPLATE = """\
# radiomics_aln study configuration (every key is optional; defaults shown).
# Paths are relative to this file.
manifest: manifest.csv          # one row per patient: case_id, cohort, outcome, images, masks, ...
outcome: outcome                # 0/1 endpoint column (e.g. ALN metastasis)
train_cohort: train             # the only cohort anything is fitted on
test_cohorts: null              # null = every other cohort in the manifest, in order
cohort_labels: {train: Training, internal: Internal test, external: External test}
rois: [tumor, peritumoral, ln]  # or a variant: intratumoral, peritumoral,
                                # intratumoral+peritumoral, combined_region, intratumoral+ln, all
width_mm: 5.0                   # peritumoral ring width (mm), in (0, 50]
# rings: {widths_mm: [1, 2, 3, 4, 5], shells_mm: [[0, 2], [2, 5]]}  # several, one chosen
spacing_range: [0.005, 2.0]     # plausible mm per pixel; outside = a unit error (null: no check)
mask_combine: union             # masks with several blobs: union, or largest (one component)
min_area_mm2: null              # e.g. 0.5: drop mask specks smaller than this (mm²)
params: ultrasound_2d           # shipped PyRadiomics settings, or a path to your YAML
clinical: [age, size_mm, margin, us_aln]   # clinical-ultrasound candidate predictors
categorical:                    # levels of categorical predictors; the first is the reference
  margin: [circumscribed, not circumscribed]
  us_aln: ["no", "yes"]
nonnormal: [size_mm]            # described as median [IQR] in Table 1
icc: {enabled: true, threshold: 0.80, form: ICC2, source: readers}  # or perturbation, both
score: {}                       # RadScore keyword arguments (cv, rule, ...)
nomogram: {screen_p: 0.05, selection: backward, p_remove: 0.05, criterion: p,
           penalty: null, hl_groups: 10,   # penalty: firth for small or separated data
           n_boot: 0}                      # e.g. 200: rms validate/calibrate on training
validation: {method: null, n_boot: 200}  # bootstrap or cv: validate the WHOLE pipeline (slow)
random_state: 0
n_jobs: 1
errors: collect                 # a failed test-cohort case is excluded (listed); raise: stop
exclude_conflicting_duplicates: true   # same image under two ids with different outcomes
cache_dir: feature_cache        # extraction results are reused across runs
title: ALN metastasis radiomics nomogram
harmonize: {enabled: false, batch: null}   # ComBat across scanners/centres, e.g. batch: scanner
"""


class _Progress:
    """Numbered, timed progress lines on stderr (silent with --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.monotonic()
        self.step = 0

    def __call__(self, message: str) -> None:
        self.step += 1
        self.line(message)

    def line(self, message: str) -> None:
        """One line, unnumbered (the periodic lines of the long loops come here too)."""
        if not self.quiet:
            elapsed = time.monotonic() - self.start
            print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def _spacing_range(text: str) -> tuple[float, float] | None:
    """``--spacing-range LOW,HIGH`` (mm per pixel) or ``none``."""
    if text.strip().lower() in {"none", "off"}:
        return None
    from radiomics_aln._validation import check_spacing_limits
    from radiomics_aln.exceptions import InputError

    try:
        return check_spacing_limits([float(v) for v in text.split(",")])
    except (ValueError, InputError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not LOW,HIGH in mm per pixel with 0 < LOW < HIGH (e.g. 0.005,2) or none"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``radiomics-aln`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="radiomics-aln",
        description=(
            "Ultrasound radiomics for axillary lymph-node (ALN) metastasis: tumour, 5 mm "
            "peritumoral ring and lymph-node ROIs -> PyRadiomics features -> ICC filter -> "
            "LASSO scores -> nomogram -> evaluation on every cohort, with a self-contained "
            "HTML report."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"radiomics_aln {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks and debug logging"
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no progress messages (--progress off)"
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "off"),
        default=None,
        help="progress of feature extraction and bootstrap: a bar, or plain lines (cases done, "
        "failed, ETA) for a log file; auto: a bar when stderr is a terminal, lines otherwise "
        "(default: the environment variable RADIOMICS_ALN_PROGRESS, else auto)",
    )
    parser.add_argument(
        "--progress-seconds",
        type=float,
        default=None,
        metavar="S",
        help="with lines: one at least every S seconds (and at every tenth of the work) "
        "(default: RADIOMICS_ALN_PROGRESS_SECONDS, else 30)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo_parser(sub)
    _add_init_parser(sub)
    _add_extract_parser(sub)
    _add_icc_parser(sub)
    _add_study_parsers(sub)
    _add_predict_parser(sub)
    _add_manifest_from_folder_parser(sub)
    _cli_split.add_parser(sub)
    _cli_readers.add_parser(sub)
    return parser


def _add_demo_parser(sub: Any) -> None:
    """The `demo` subcommand."""
    p = sub.add_parser(
        "demo",
        help="generate the synthetic demo cohort and run the full study on it",
        description=(
            "Generate the synthetic demo cohort (images, masks, repeat segmentations and a "
            "manifest), run the whole study (extraction, ICC, scores, nomogram, evaluation) "
            "and write tables, figures, model.json and report.html."
        ),
    )
    p.add_argument(
        "--out",
        default="radiomics_aln_demo",
        metavar="DIR",
        help="output folder (created if missing): data/ (the generated cohort, reused on a rerun), "
        "cache/, tables/, figures/, model.json, config.yaml, report.html (default: %(default)s)",
    )
    p.add_argument(
        "--n-cases",
        type=int,
        default=None,
        help="patients to generate (default: the demo size, 200; with much fewer, the training "
        "half is too small for the nomogram and the study stops with a separation error)",
    )
    p.add_argument("--n-jobs", type=int, default=2, help="parallel workers (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument(
        "--firth",
        action="store_true",
        help="fit the logistic models by Firth's penalised likelihood (nomogram.penalty: firth), "
        "which has finite estimates when a small training cohort is separated",
    )
    p.add_argument("--endpoint", choices=("binary", "burden"), default="binary", help="binary: "
                   "N+ vs N0; burden: N0 / N1-2 / N>=3 ordinal and two-step nomograms")
    p.add_argument("--validate-pipeline", type=int, default=0, metavar="N", help="also validate "
                   "the whole pipeline with N bootstrap resamples (slow: each refits the study)")
    p.add_argument("--scanners", choices=("single", "mixed", "uniform"), default="single",
                   help="scanner design of the cohort (docs/demo_cohort.md; default: %(default)s)")


def _add_init_parser(sub: Any) -> None:
    """The `init` subcommand."""
    p = sub.add_parser(
        "init",
        help="write a commented study configuration (YAML) to edit",
        description="Write a study configuration template with every setting and its default.",
    )
    p.add_argument(
        "--out",
        default="study.yaml",
        metavar="FILE",
        help="configuration file (YAML) to write (default: %(default)s)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing file")


def _add_extract_parser(sub: Any) -> None:
    """The `extract` subcommand."""
    p = sub.add_parser(
        "extract",
        help="extract PyRadiomics features for every case of a manifest",
        description=(
            "Extract features for every case and ROI of a manifest and write one table "
            "(rows: case_id; columns: '<roi>__<feature>'). With --repeats the re-segmentations "
            "(reader2, repeat) are written next to it for the ICC step; failures are written to "
            "'<out>_failures.csv' and never stop the batch."
        ),
    )
    p.add_argument("manifest", help="cohort manifest CSV")
    p.add_argument(
        "--out",
        default="features.csv",
        metavar="FILE",
        help="features table file to write, .csv or .parquet; the repeats' and failures' tables "
        "are written next to it as <name>_reader2, <name>_repeat, <name>_failures.csv "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--rois",
        default="tumor,peritumoral,ln",
        help="comma-separated ROIs: tumor, peritumoral, tumor_peritumoral, ln, rings and shells of "
        "a stated width such as peritumoral_2mm, shell_2_5mm (default: %(default)s)",
    )
    p.add_argument(
        "--params", default="ultrasound_2d", help="shipped settings name or PyRadiomics YAML"
    )
    p.add_argument(
        "--width-mm", type=float, default=5.0, help="ring width in mm, in (0, 50] (default: 5)"
    )
    p.add_argument(
        "--mask-combine",
        choices=("union", "largest"),
        default="union",
        help="a mask with several connected components becomes their union or only the "
        "largest; the manifest column mask_combine wins per case (default: %(default)s)",
    )
    p.add_argument(
        "--min-area-mm2",
        type=float,
        default=None,
        metavar="MM2",
        help="drop mask components smaller than this (mm²); a mask with none this large is a "
        "failure; the manifest column min_area_mm2 wins per case (default: keep all)",
    )
    p.add_argument(
        "--spacing-range",
        type=_spacing_range,
        default=(0.005, 2.0),
        metavar="LOW,HIGH",
        help="plausible mm per pixel; a spacing outside is refused as a unit error "
        "(default: 0.005,2; 'none' disables the check)",
    )
    p.add_argument("--repeats", action="store_true", help="also extract repeat segmentations")
    p.add_argument("--outcome", default="outcome", help="outcome column of the manifest")
    p.add_argument(
        "--n-jobs", type=int, default=1, metavar="N", help="parallel workers (default: 1)"
    )
    p.add_argument(
        "--cache-dir", default=None, metavar="DIR", help="cache folder (reruns reuse results)"
    )


def _add_icc_parser(sub: Any) -> None:
    """The `icc` subcommand."""
    p = sub.add_parser(
        "icc",
        help="ICC of every feature from repeat segmentations; lists the reproducible ones",
        description=(
            "Compute the ICC of every feature between the first reader (FEATURES) and the "
            "second reader (--reader2, inter-observer) and/or the first reader again "
            "(--repeat, intra-observer); a feature is reproducible when ICC >= threshold in "
            "every comparison. Use the training cases' repeat segmentations only."
        ),
    )
    p.add_argument("features", help="features of the first reader (from `extract`)")
    p.add_argument("--reader2", help="features of the second reader's segmentations")
    p.add_argument("--repeat", help="features of the first reader's repeated segmentations")
    p.add_argument("--threshold", type=float, default=0.80, help="minimum ICC (default: 0.80)")
    p.add_argument("--form", default="ICC2", help="ICC form (default: ICC2 = ICC(A,1))")
    p.add_argument(
        "--out",
        default="icc.csv",
        metavar="FILE",
        help="ICC table file (CSV) to write (default: %(default)s)",
    )


def _add_study_parsers(sub: Any) -> None:
    """The `fit`, `evaluate` and `report` subcommands (one configuration each)."""
    for name, helptext, desc in (
        (
            "fit",
            "fit the scores and models on the training cohort; writes model.json",
            "Run extraction (cached), the ICC filter, one LASSO score per ROI, the univariate "
            "screen and the backward stepwise clinical and clinical-radiomics models on the "
            "training cohort; write model.json, config.yaml and the fitted coefficients.",
        ),
        (
            "evaluate",
            "fit, then evaluate every cohort; writes tables, figures, model and report",
            "Fit as `fit` does, then evaluate on every cohort (Tables 1-3, DeLong, "
            "Hosmer-Lemeshow, calibration, decision and clinical impact curves, NRI/IDI, risk "
            "groups) and write tables/*.csv, figures/*.png|svg, model.json and report.html.",
        ),
        (
            "report",
            "fit and evaluate, writing only the self-contained HTML report",
            "Fit and evaluate as `evaluate` does and write one self-contained HTML report.",
        ),
    ):
        p = sub.add_parser(name, help=helptext, description=desc)
        p.add_argument("config", help="study configuration YAML (see `radiomics-aln init`)")
        if name == "report":
            out_help = "report file (self-contained HTML) to write (default: %(default)s)"
        elif name == "fit":
            out_help = (
                "output folder (created if missing): model.json, config.yaml, tables/ "
                "(default: %(default)s)"
            )
        else:
            out_help = (
                "output folder (created if missing): tables/, figures/, model.json, "
                "config.yaml, report.html (default: %(default)s)"
            )
        p.add_argument(
            "--out",
            default="report.html" if name == "report" else "study_output",
            metavar="FILE" if name == "report" else "DIR",
            help=out_help,
        )
        p.add_argument(
            "--n-jobs", type=int, default=None, metavar="N", help="override the config's n_jobs"
        )


def _add_predict_parser(sub: Any) -> None:
    """The `predict` subcommand."""
    p = sub.add_parser(
        "predict",
        help="predict new patients with a saved model.json",
        description=(
            "Predict new patients with a model written by `fit`/`evaluate`. DATA is a manifest "
            "(features are extracted with the model's stored settings) or a feature table; a "
            "feature table also needs the clinical columns the models use: in the table, or "
            "from --clinical (e.g. the cohort manifest), matched by case_id. Writes one row per "
            "case: scores, clinical probability, probability, nomo_score, risk_group. With the "
            "folder of a saved burden study as MODEL: each level's probability by the ordinal "
            "and the two-step model, their most likely and predicted levels (docs/burden.md)."
        ),
    )
    p.add_argument("model", help="model.json written by `fit` or `evaluate`, or the folder of a "
                   "saved burden study (burden predictions: both models, every level)")
    p.add_argument(
        "data",
        help="manifest CSV, or a feature table (from `extract`) with the clinical columns or "
        "with --clinical",
    )
    p.add_argument(
        "--clinical",
        "--manifest",
        dest="clinical",
        default=None,
        metavar="CSV",
        help="the clinical columns, matched to DATA by case_id: the cohort manifest or any CSV "
        "file with a case_id column and the columns the models use",
    )
    p.add_argument(
        "--out",
        default="predictions.csv",
        metavar="FILE",
        help="predictions file (CSV) to write; /dev/stdout prints it (default: %(default)s)",
    )
    p.add_argument(
        "--n-jobs", type=int, default=1, metavar="N", help="extraction workers (default: 1)"
    )
    add_external_option(p)
    p.add_argument("--cache-dir", default=None, metavar="DIR", help="extraction cache folder")


def _add_manifest_from_folder_parser(sub: Any) -> None:
    """The `manifest-from-folder` subcommand."""
    p = sub.add_parser("manifest-from-folder", help="build a manifest from a folder of "
                       "<class>/<name>.png images with <name>_mask*.png beside them",
                       description="Build a manifest from ROOT/<class>/<name>.png with "
                       "<name>_mask.png (and <name>_mask_1.png, ...: one ROI) beside each image, "
                       "and print what was found. Which class is the outcome 1 is never guessed: "
                       "give --class or --exclude for every class folder.")  # fmt: skip
    p.add_argument("root", help="folder holding one folder per class")
    p.add_argument("--class", dest="classes", action="append", default=[], metavar="NAME=0|1",
                   help="a class folder and its outcome; repeat it (--class benign=0 --class "
                   "malignant=1); required unless the class folders are named 0 and 1")  # fmt: skip
    p.add_argument("--exclude", action="append", default=[], metavar="NAME",
                   help="a class folder to leave out, e.g. BUSI's normal; repeat it")  # fmt: skip
    p.add_argument("--spacing", metavar="MM", help="mm per pixel written for every image (X or "
                   "X,Y), as you assert it; without it the spacing column is empty and must be "
                   "filled before extraction")  # fmt: skip
    p.add_argument("--patient-id", metavar="REGEX", help="regular expression finding the "
                   "patient in an image name (group 'patient' or the first group); default: "
                   "each image is its own patient")  # fmt: skip
    p.add_argument("--outcome", default="outcome", help="outcome column (default: %(default)s)")
    p.add_argument("--out", default="manifest.csv", metavar="FILE", help="manifest CSV file to "
                   "write; the issues go to <FILE stem>_issues.csv beside it (default: "
                   "%(default)s)")  # fmt: skip


# --------------------------------------------------------------------------- commands


def _cmd_demo(args: argparse.Namespace, progress: _Progress) -> int:
    from radiomics_aln.config import DEMO_N_CASES, demo_config
    from radiomics_aln.datasets import (
        check_demo_cohort,
        check_fractions,
        make_demo_cohort,
        min_cases,
    )
    from radiomics_aln.exceptions import SeparationError
    from radiomics_aln.study import Study

    if getattr(args, "endpoint", "binary") == "burden":
        from radiomics_aln._cli_burden import cmd_burden_demo
        return cmd_burden_demo(args, progress)
    n_cases = DEMO_N_CASES if args.n_cases is None else args.n_cases
    need = min_cases(check_fractions(None))
    if n_cases < need:
        raise _UsageProblem(
            f"--n-cases {n_cases} is too few: the demo needs at least {need} patients (2 per "
            f"cohort); the default, {DEMO_N_CASES}, runs the whole study"
        )
    _check_n_jobs(args.n_jobs)
    out = _output_dir(
        args.out,
        files=("model.json", "config.yaml", "report.html"),
        folders=("data", "cache", "tables", "figures"),
    )
    data_dir = out / "data"
    why = check_demo_cohort(data_dir, n_cases=n_cases, random_state=args.seed,
                            scanners=args.scanners)  # fmt: skip
    if why is None:
        progress(
            f"Reusing the synthetic demo cohort ({n_cases} patients) in {data_dir}: same "
            "generator, seed and size, every file unchanged"
        )
    else:
        again = "" if why.startswith("no demo cohort") else f" (not reusable: {why})"
        progress(f"Generating the synthetic demo cohort ({n_cases} patients) in {data_dir}{again}")
    with _writing(data_dir):
        manifest = make_demo_cohort(
            data_dir, n_cases=n_cases, random_state=args.seed, overwrite=True, reuse=True,
            scanners=args.scanners,
        )
    cfg = demo_config(
        manifest_path=str(Path(manifest.path)),
        cache_dir=str(out / "cache"),
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )
    if args.firth:
        cfg.nomogram.penalty = "firth"
    if args.validate_pipeline > 0:
        cfg.validation.method, cfg.validation.n_boot = "bootstrap", args.validate_pipeline
    try:
        study = Study(cfg, progress=False if args.quiet else progress).fit().evaluate()
    except SeparationError as exc:
        # The scores are fitted on the training half: with few patients they predict it
        # perfectly and the nomogram has no finite estimate. Say how to avoid it.
        raise SeparationError(
            f"{exc}. With {n_cases} demo patients the training cohort has only "
            f"{manifest.table['cohort'].eq('train').sum()}; run the demo with --n-cases "
            f"{DEMO_N_CASES} (the default) or more, or with --firth",
            columns=exc.columns,
            predictors=exc.predictors,
        ) from exc
    progress(f"Writing tables, figures, model and report to {out}")
    with _writing(out):
        study.save(out)
    print(_headline(study))
    print(f"Report: {(out / 'report.html').resolve()}")
    return 0


def _headline(study: Any) -> str:
    from radiomics_aln.formatting import format_estimate_ci, format_p_value
    from radiomics_aln.model import CLINICAL_MODEL

    perf = study.results_["tables"]["table3_full"]
    comp = study.results_["tables"]["delong"]
    nomogram = study.model_.combined_name
    if study.model_.clinical_model is None:  # radiomics-only: nothing to compare with
        lines = [f"AUC (95% CI) of the {nomogram.lower()}:"]
        for cohort in perf["cohort"].unique():
            b = perf[(perf["cohort"] == cohort) & (perf["model"] == nomogram)].iloc[0]
            lines.append(f"  {cohort:<16} {format_estimate_ci(b.auc, b.auc_ci_low, b.auc_ci_high)}")
        return "\n".join(lines)
    lines = ["AUC (95% CI), clinical vs clinical-radiomics model, DeLong p:"]
    pair = [CLINICAL_MODEL, nomogram]
    for cohort in perf["cohort"].unique():
        rows = perf[perf["cohort"] == cohort].set_index("model")
        c = comp[
            (comp["cohort"] == cohort)
            & (comp["model_1"].isin(pair))
            & (comp["model_2"].isin(pair))
        ]
        p = c["p_value"].iloc[0] if len(c) else float("nan")
        a, b = rows.loc[CLINICAL_MODEL], rows.loc[nomogram]
        lines.append(
            f"  {cohort:<16} {format_estimate_ci(a.auc, a.auc_ci_low, a.auc_ci_high)}  vs  "
            f"{format_estimate_ci(b.auc, b.auc_ci_low, b.auc_ci_high)}   "
            f"{format_p_value(p, prefix=True, missing='p = NA')}"
        )
    return "\n".join(lines)


def _cmd_init(args: argparse.Namespace, progress: _Progress) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir() and not args.force:
        raise _UsageProblem(f"{out} already exists (use --force to overwrite)")
    out = _output_file(out)
    _write_output(out, lambda path: path.write_text(_CONFIG_TEMPLATE, encoding="utf-8"))
    print(f"Wrote {out}; edit the manifest path, outcome and clinical predictors.")
    return 0


def _cmd_extract(args: argparse.Namespace, progress: _Progress) -> int:
    from radiomics_aln.extraction import extract_features
    from radiomics_aln.features import ROI_NAMES, ring_geometry, write_features
    from radiomics_aln.manifest import read_manifest

    rois = tuple(r.strip() for r in args.rois.split(",") if r.strip())
    if not rois:
        raise _UsageProblem(f"--rois {args.rois!r} names no ROI; use some of {list(ROI_NAMES)}")
    unknown = [r for r in rois if r not in ROI_NAMES and ring_geometry(r) is None]
    if unknown:
        raise _UsageProblem(
            f"--rois: unknown ROI(s) {', '.join(unknown)}; use some of {list(ROI_NAMES)} or "
            "rings and shells of a stated width: peritumoral_2mm, peritumoral_2p5mm, shell_2_5mm"
        )
    _check_positive("--width-mm", args.width_mm)
    _check_n_jobs(args.n_jobs)
    out = _output_file(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise _UsageProblem(f"--out {out} must end in .csv or .parquet")
    stem = out.with_suffix("").name
    repeat_paths = {r: out.with_name(f"{stem}_{r}{out.suffix}") for r in ("reader2", "repeat")}
    failures_path = out.with_name(f"{stem}_failures.csv")
    for path in (*repeat_paths.values(), failures_path):
        _output_file(path)
    cache = None if args.cache_dir is None else _output_dir(args.cache_dir)
    # the outcome column is not needed to extract features
    manifest = read_manifest(
        _existing(args.manifest), outcome=None, spacing_range=args.spacing_range
    )
    progress(f"Extracting {', '.join(rois)} for {len(manifest.cases)} cases")
    res = extract_features(
        manifest,
        rois=rois,
        params=args.params,
        n_jobs=args.n_jobs,
        cache_dir=cache,
        repeats=args.repeats,
        width_mm=args.width_mm,
        mask_combine=args.mask_combine,
        min_area_mm2=args.min_area_mm2,
        spacing_range=args.spacing_range,
    )
    if cache is not None:
        kept = f"; the {res.n_computed + res.n_cached} finished ROIs are kept in the cache {cache}"
    else:
        kept = "; the features are lost (with --cache-dir a rerun would reuse them)"
    _write_output(out, lambda path: write_features(res.features, path), kept)
    written = [out]
    for reader, table in res.repeats.items():
        path = repeat_paths[reader]
        if len(table):
            _write_output(path, lambda p, table=table: write_features(table, p), kept)
            written.append(path)
        else:  # a table from an earlier run must not pass for this run's
            _remove_stale(path)
    if len(res.failures):
        _write_output(failures_path, lambda p: res.failures.to_csv(p, index=False), kept)
        written.append(failures_path)
        print(f"{len(res.failures)} ROI(s) failed; see {failures_path}", file=sys.stderr)
    else:  # a failures table left by an earlier run would list failures this run did not have
        _remove_stale(failures_path)
    n, p = res.features.shape
    print(f"{n} cases x {p} features ({res.n_computed} ROIs computed, {res.n_cached} cached)")
    for path in written:
        print(f"Wrote {path}")
    return 0


def _cmd_icc(args: argparse.Namespace, progress: _Progress) -> int:
    from radiomics_aln.features import read_features
    from radiomics_aln.icc_filter import ICCFilter

    if not args.reader2 and not args.repeat:
        raise _UsageProblem("give --reader2 and/or --repeat (the repeat segmentations' features)")
    if not (0 < args.threshold <= 1):
        raise _UsageProblem(f"--threshold must be an ICC in (0, 1], got {args.threshold:g}")
    out = _output_file(args.out)
    inputs = {"features": _existing(args.features)}
    for name in ("reader2", "repeat"):
        if getattr(args, name):
            inputs[name] = _existing(getattr(args, name))
    X = read_features(inputs.pop("features"))
    repeats = {name: read_features(path) for name, path in inputs.items()}
    progress(f"ICC ({args.form}) of {X.shape[1]} features over {', '.join(repeats)}")
    filt = ICCFilter(threshold=args.threshold, form=args.form).fit(X, repeats=repeats)
    _write_output(out, lambda path: filt.icc_.to_csv(path, index=False))
    kept = len(filt.selected_features_)
    print(
        f"{kept} of {X.shape[1]} features have ICC >= {args.threshold:g} in "
        f"{' and '.join(filt.comparisons_)}; table written to {out}"
    )
    return 0


def _study(args: argparse.Namespace, progress: _Progress):
    from radiomics_aln.config import StudyConfig
    from radiomics_aln.study import Study

    if args.n_jobs is not None:
        _check_n_jobs(args.n_jobs)
    config = _existing(args.config)
    if args.command == "report":
        _output_file(args.out)
    else:
        _output_dir(
            args.out,
            files=("model.json", "config.yaml", "report.html"),
            folders=("tables", "figures"),
        )
    cfg = StudyConfig.from_yaml(config)
    if args.n_jobs is not None:
        cfg.n_jobs = args.n_jobs
    if cfg.cache_dir is not None:
        _output_dir(cfg.cache_dir)
    return Study(cfg, progress=False if args.quiet else progress)


def _cmd_fit(args: argparse.Namespace, progress: _Progress) -> int:
    study = _study(args, progress).fit()
    out = Path(args.out)
    with _writing(out):
        study.save(out, report=False)
        tables = out / "tables"
        tables.mkdir(exist_ok=True)
        study.univariate_.to_csv(tables / "univariate.csv", index=False)
        study.model_.combined_model.summary.to_csv(
            tables / "nomogram_coefficients.csv", index=False
        )
        if study.model_.clinical_model is not None:
            study.model_.clinical_model.summary.to_csv(
                tables / "clinical_coefficients.csv", index=False
            )
        if study.icc_filter_ is not None:
            study.icc_filter_.icc_.to_csv(tables / "icc.csv", index=False)
    print(repr(study.model_))
    print(f"Model: {(out / 'model.json').resolve()}")
    return 0


def _cmd_evaluate(args: argparse.Namespace, progress: _Progress) -> int:
    study = _study(args, progress).fit().evaluate()
    out = Path(args.out)
    progress(f"Writing tables, figures, model and report to {out}")
    with _writing(out):
        study.save(out)
    print(_headline(study))
    print(f"Report: {(out / 'report.html').resolve()}")
    return 0


def _cmd_report(args: argparse.Namespace, progress: _Progress) -> int:
    study = _study(args, progress).fit().evaluate()
    with _writing(args.out):
        path = study.report(args.out)
    print(f"Report: {Path(path).resolve()}")
    return 0


def _cmd_predict(args: argparse.Namespace, progress: _Progress) -> int:
    from radiomics_aln.model import StudyModel

    if Path(args.model).is_dir():  # a burden study's folder (BurdenStudy.save)
        return _cli_burden.cmd_burden_predict(args, progress)
    _, pred, out = predict_to_csv(
        args, progress, lambda: StudyModel.from_json(_existing(args.model))
    )
    n_high = int((pred["risk_group"] == "high").sum())
    print(f"{len(pred)} patients predicted ({n_high} high risk); written to {out}")
    return 0


def _cmd_manifest_from_folder(args: argparse.Namespace, progress: _Progress) -> int:
    from radiomics_aln.folder_dataset import manifest_from_folder

    classes = {}
    for item in args.classes:
        name, sep, value = item.rpartition("=")
        if not sep or not name or value.strip() not in ("0", "1"):
            raise _UsageProblem(f"--class {item!r}: give NAME=0 or NAME=1 (e.g. benign=0)")
        classes[name] = int(value)
    out = _output_file(args.out)
    issues_path = _output_file(out.with_name(f"{out.stem}_issues.csv"))
    if not Path(args.root).is_dir():
        raise _MissingInput(f"{args.root} is not a folder (give the folder of class folders)")
    found = manifest_from_folder(args.root, classes=classes or None, exclude=args.exclude,
                                 spacing=args.spacing, patient_id=args.patient_id,
                                 outcome=args.outcome)  # fmt: skip
    _write_output(out, found.to_csv)
    if len(found.issues):
        _write_output(issues_path, lambda p: found.issues.to_csv(p, index=False))
    else:  # an issues table from an earlier run does not describe this one
        _remove_stale(issues_path)
    print(f"{found.report()}\nWrote {out}" + (f" and {issues_path}" if len(found.issues) else ""))
    return 0


_COMMANDS = {
    "demo": _cmd_demo,
    "init": _cmd_init,
    "extract": _cmd_extract,
    "icc": _cmd_icc,
    "fit": _cmd_fit,
    "evaluate": _cmd_evaluate,
    "report": _cmd_report,
    "predict": _cmd_predict,
    "manifest-from-folder": _cmd_manifest_from_folder,
    "split": _cli_split.run,
    "readers": _cli_readers.run,
}

#: Exit statuses of ``radiomics-aln`` (documented in docs/cli.md).
EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_OUTPUT, EXIT_BUG = 0, 1, 2, 3, 4
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM


def _one_line(exc: BaseException) -> str:
    from radiomics_aln.exceptions import ManifestError, ReaderTableError

    if isinstance(exc, ManifestError | ReaderTableError):
        # every problem matters here: list them (one per line) after the summary
        return str(exc)
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class _NoPyRadiomicsLog(logging.Filter):
    """Drop PyRadiomics' own log records (``radiomics.*``, not ``radiomics_aln``).

    Its warnings ("GLCM is symmetrical", ~20 per image) are informational and would flood the
    terminal; a failing ROI is reported by radiomics_aln itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "radiomics" or record.name.startswith("radiomics."))


def _setup_logging(debug: bool) -> None:
    level = logging.DEBUG if debug else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        # PyRadiomics sets its own logger to INFO; the console shows warnings and up only
        handler.setLevel(level)
        if not any(isinstance(f, _NoPyRadiomicsLog) for f in handler.filters):
            handler.addFilter(_NoPyRadiomicsLog())


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``radiomics-aln``; returns the exit status (0 success; see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    seconds = args.progress_seconds
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        parser.error(f"--progress-seconds must be a positive number, got {seconds:g}")
    _setup_logging(args.debug)
    if not args.debug:
        # one short line per distinct warning instead of Python's two-line format
        seen: set[str] = set()

        def _show(message, category, filename, lineno, file=None, line=None):
            text = f"{category.__name__}: {str(message).splitlines()[0]}"
            if text not in seen and not args.quiet:
                seen.add(text)
                print(f"radiomics-aln: warning: {text}", file=sys.stderr)

        warnings.showwarning = _show
        warnings.simplefilter("default")
        for noisy in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
            warnings.simplefilter("ignore", noisy)
    import matplotlib as mpl

    mpl.use("Agg")
    progress = _Progress(args.quiet)
    prefix = f"radiomics-aln {args.command}"
    # SIGTERM (kill, a batch system's time limit) stops like Ctrl-C: joblib terminates its
    # workers, so none is left running. Only the main thread of the main interpreter may set it.
    previous = None
    if sys.platform != "win32" and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    status = EXIT_BUG
    try:
        from radiomics_aln._progress import progress_settings

        mode = "off" if args.quiet else args.progress
        with progress_settings(mode=mode, seconds=seconds, sink=progress.line):
            status = _run(args, progress, prefix)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if status != EXIT_OK:  # a failed command leaves no empty output folder behind
            _remove_new_empty_folders()
        _CREATED_FOLDERS.clear()
    return status


def _run(args: argparse.Namespace, progress: _Progress, prefix: str) -> int:
    """Run the command; map each kind of failure to its exit status and one-line message."""
    from radiomics_aln.exceptions import ConvergenceError, ExtractionError, InputError

    try:
        return _COMMANDS[args.command](args, progress)
    except KeyboardInterrupt as exc:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_SIGTERM if isinstance(exc, _Terminated) else EXIT_SIGINT
    except (_UsageProblem, _OutputProblem, _MissingInput, InputError, ConvergenceError,
            ExtractionError, OSError) as exc:  # fmt: skip
        if args.debug:
            raise
        print(f"{prefix}: error: {_one_line(exc)}", file=sys.stderr)
        if isinstance(exc, _UsageProblem):
            return EXIT_USAGE
        if isinstance(exc, _MissingInput):
            return EXIT_INPUT
        print("(run with --debug for the full traceback)", file=sys.stderr)
        return EXIT_OUTPUT if isinstance(exc, _OutputProblem) else EXIT_INPUT
    except Exception:
        if args.debug:
            raise
        traceback.print_exc()
        print(
            f"{prefix}: internal error (a bug in radiomics_aln, not a problem with your input): "
            "please report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_BUG
