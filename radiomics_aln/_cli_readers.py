"""``radiomics-aln readers``: the reader study of a reader table against a model's predictions.

``radiomics-aln readers READERS PREDICTIONS --out DIR`` reads the reader table (CSV/Parquet,
see :mod:`radiomics_aln.readers`) and the model's predictions of the same cases, either

- a predictions CSV: ``case_id`` and ``p`` (or ``probability``, as ``radiomics-aln predict``
  writes it), with the outcome column (``--outcome``, default ``outcome``) or the outcome
  taken from ``--manifest``; or
- a ``model.json`` with ``--manifest``: the reader cases are predicted from their images and
  the outcome is the manifest's column the model was fitted on (or ``--outcome``);

and writes ``tables/readers_*.csv``, ``figures/readers_roc.png|svg`` and
``figures/readers_metrics.png|svg`` and ``readers_report.html`` in ``DIR``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radiomics_aln._cli_output import (
    UsageProblem,
    check_n_jobs,
    existing,
    output_dir,
    write_output,
    writing,
)
from radiomics_aln._validation import format_items
from radiomics_aln.exceptions import InputError

if TYPE_CHECKING:  # the command's modules are imported when it runs (the CLI starts fast)
    import pandas as pd

#: what the command writes in --out
_FILES = ("readers_report.html",)
_FOLDERS = ("tables", "figures")


def add_parser(sub: Any) -> None:
    """Register the ``readers`` subcommand."""
    p = sub.add_parser(
        "readers",
        help="reader study: readers unaided vs aided, against the model, and their agreement",
        description=(
            "Compare the readers of a reader table (case_id, reader, session, call and/or "
            "rating) without and with the model, against the model (DeLong, exact McNemar) "
            "and with each other (Cohen's and Fleiss' kappa); write tables, the two figures "
            "and a report."
        ),
    )
    p.add_argument("readers", metavar="READERS", help="the reader table (CSV or Parquet)")
    p.add_argument(
        "predictions",
        metavar="PREDICTIONS",
        help="the model's predictions of the reader cases: a CSV (case_id and p or probability) "
        "or a model.json (then --manifest is needed to predict the cases from their images)",
    )
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: tables/, figures/, readers_report.html")  # fmt: skip
    p.add_argument("--manifest", metavar="FILE", default=None,
                   help="the cohort manifest: images to predict (with model.json) and the outcome")  # fmt: skip
    p.add_argument("--outcome", default=None, metavar="COLUMN",
                   help="outcome column (0/1) of the predictions CSV or the manifest (default: "
                   "the model's outcome with model.json, else 'outcome')")  # fmt: skip
    p.add_argument("--sessions", default=None, metavar="A,B",
                   help="the sessions in reading order, reference first (default unaided,aided)")  # fmt: skip
    p.add_argument("--rating-threshold", type=float, default=None, metavar="T",
                   help="without a call column: positive when rating >= T")  # fmt: skip
    p.add_argument("--kappa-weights", choices=("quadratic", "linear", "none"),
                   default="quadratic", help="weights of the kappa between readers' ratings "
                   "(default: %(default)s)")  # fmt: skip
    p.add_argument("--model-name", default="Model", help="the model's name (default: %(default)s)")
    p.add_argument("--n-jobs", type=int, default=1, help="extraction workers (model.json)")
    p.add_argument("--cache-dir", default=None, metavar="DIR", help="feature cache (model.json)")
    p.add_argument("--seed", type=int, default=0, help="seed of Fleiss' kappa bootstrap")


def _column(frame: pd.DataFrame, names: tuple[str, ...], what: str, source: Path) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    raise InputError(
        f"{source} has no {what} column ({' or '.join(names)}); its columns: "
        f"{format_items(list(frame.columns))}"
    )


def _predictions(args: argparse.Namespace, cases: list[str]) -> tuple[pd.Series, pd.Series]:
    """The model's probabilities and the outcome of the reader cases."""
    import pandas as pd

    from radiomics_aln.manifest import read_manifest

    source = existing(args.predictions)
    manifest = None
    if source.suffix.lower() == ".json":
        from radiomics_aln.model import StudyModel

        if args.manifest is None:
            raise UsageProblem("with a model.json, give --manifest (the images of the cases)")
        model = StudyModel.from_json(source)
        outcome = args.outcome or model.settings.get("outcome", "outcome")
        manifest = read_manifest(existing(args.manifest), outcome=outcome)
        unknown = [c for c in cases if c not in set(manifest.case_ids)]
        if unknown:
            raise InputError(f"reader case(s) {format_items(unknown)} are not in {args.manifest}")
        pred = model.predict(manifest.subset(case_ids=cases), n_jobs=args.n_jobs,
                             cache_dir=args.cache_dir)  # fmt: skip
        return pred["probability"], manifest.table[outcome]
    frame = pd.read_csv(source, dtype={"case_id": str})
    if "case_id" not in frame.columns:
        raise InputError(f"{source} has no `case_id` column")
    frame = frame.set_index("case_id")
    p = _column(frame, ("p", "probability"), "probability", source)
    outcome = args.outcome or "outcome"
    if args.manifest is not None:
        manifest = read_manifest(existing(args.manifest), outcome=outcome)
        return p, manifest.table[outcome]
    return p, _column(frame, (outcome,), "outcome (--outcome; or give --manifest)", source)


def run(args: argparse.Namespace, progress: Any) -> int:
    """Run ``radiomics-aln readers``."""
    from radiomics_aln import _study_readers
    from radiomics_aln.readers import read_reader_table, reader_study

    check_n_jobs(args.n_jobs)
    out = output_dir(args.out, files=_FILES, folders=_FOLDERS)
    sessions = None if args.sessions is None else [s.strip() for s in args.sessions.split(",")]
    table = read_reader_table(existing(args.readers), sessions=sessions,
                              rating_threshold=args.rating_threshold)  # fmt: skip
    progress(f"Reader table: {len(table.readers)} readers, {len(table.cases)} cases, "
             f"sessions {', '.join(table.sessions)}")  # fmt: skip
    p, y = _predictions(args, table.cases)
    weights = None if args.kappa_weights == "none" else args.kappa_weights
    result = reader_study(table, y, p, model_name=args.model_name, kappa_weights=weights,
                          random_state=args.seed)  # fmt: skip
    figures = _study_readers.figures(result, "")
    with writing(out):
        (out / "tables").mkdir(exist_ok=True)
        (out / "figures").mkdir(exist_ok=True)
        for name, frame in _study_readers.tables(result).items():
            frame.to_csv(out / "tables" / f"{name}.csv", index=False)
        for name, fig in figures.items():
            fig.savefig(out / "figures" / f"{name}.png", dpi=150, bbox_inches="tight")
            fig.savefig(out / "figures" / f"{name}.svg", bbox_inches="tight")
    from radiomics_aln.report import render_html
    from radiomics_aln.study_figures import numbered

    captions = numbered((k, fig.get_label()) for k, fig in figures.items())
    section = _study_readers.report_section(
        result, {captions[k]: f for k, f in figures.items()}, ""
    )
    html = render_html({"title": "Reader study", "methods": result.methods_text(),
                        "sections": [section]})  # fmt: skip
    write_output(out / "readers_report.html",
                 lambda path: Path(path).write_text(html, encoding="utf-8"))  # fmt: skip
    auc = result.performance.query("metric == 'auc'")
    for _, r in auc.iterrows():
        who = r["reader"] if r["session"] == "model" else f"{r['reader']} {r['session']}"
        sys.stdout.write(f"{who}: AUC {r['estimate']:.3f} "
                         f"({r['ci_low']:.3f}-{r['ci_high']:.3f})\n")  # fmt: skip
    sys.stdout.write(f"Report: {(out / 'readers_report.html').resolve()}\n")
    return 0
