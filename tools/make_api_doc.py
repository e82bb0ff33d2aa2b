"""Write docs/api.md: the top-level names on one page, then every module's public names.

Run ``python tools/make_api_doc.py`` after changing the public API; ``tests/test_docs.py`` fails
while docs/api.md is out of date. Every public module of the package must have a stage below (the
script stops and names a module that has none).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import radiomics_aln as ra

ROOT = Path(__file__).resolve().parents[1]

# (module, section title, docs page) in pipeline order: the data flows from top to bottom.
STAGES = [
    ("features", "Feature names and tables", "extraction.md"),
    ("images", "Images", "roi.md"),
    ("masks", "Masks", "roi.md"),
    ("ring", "The peritumoral ring", "roi.md"),
    ("cases", "Cases and their ROIs", "roi.md"),
    ("ring_widths", "Several ring widths: the choice on training data, DeLong", "ring_width.md"),
    ("manifest", "Cohort manifest", "roi.md"),
    ("folder_dataset", "Manifests from folders of images", "own_data.md"),
    ("splits", "Train/test splits", "own_data.md"),
    ("datasets", "Demo cohort", "demo_cohort.md"),
    ("params", "PyRadiomics settings", "extraction.md"),
    ("cache", "Extraction cache", "extraction.md"),
    ("roi_features", "Features of one image", "extraction.md"),
    ("extraction", "Feature extraction", "extraction.md"),
    ("reliability", "Reproducibility (ICC)", "reliability.md"),
    ("icc_filter", "The ICC filter", "reliability.md"),
    ("harmonization", "Harmonization across scanners (ComBat)", "harmonization.md"),
    ("perturbation", "Robustness by image perturbation", "perturbation.md"),
    ("selection", "Feature selection", "score.md"),
    ("score", "Radiomics scores (LASSO)", "score.md"),
    ("external_features", "External (deep) features", "hybrid_features.md"),
    ("regression", "Logistic regression (the one solver)", "nomogram.md"),
    ("design", "Terms and design matrices", "nomogram.md"),
    ("univariate", "Univariate logistic screen", "nomogram.md"),
    ("nomogram", "Logistic nomogram", "nomogram.md"),
    ("nomogram_plot", "Drawing the nomogram", "nomogram.md"),
    ("lowess", "Lowess (R's clowess)", "calibration.md"),
    ("calibration", "Calibration", "calibration.md"),
    ("validation", "Bootstrap validation", "calibration.md"),
    ("pipeline_validation", "Validation of the whole pipeline", "validation.md"),
    ("metrics", "Discrimination (AUC, DeLong, ROC, Youden)", "metrics.md"),
    ("performance", "Threshold metrics and Table 3", "metrics.md"),
    ("reclassification", "Reclassification (NRI, IDI, risk groups)", "metrics.md"),
    ("decision", "Decision and clinical impact curves", "decision.md"),
    ("sample_size", "Minimum sample size (Riley et al. 2020)", "sample_size.md"),
    ("mrmc", "Reader studies (MRMC, Obuchowski-Rockette)", "mrmc.md"),
    ("ordinal", "Ordinal (proportional-odds) model and nomogram", "burden.md"),
    ("burden", "Tumour burden: levels, two-step model, decision table", "burden.md"),
    ("burden_study", "The tumour burden study", "burden.md"),
    ("burden_model", "The saved burden models: predict new patients", "burden.md"),
    ("agreement", "Agreement (Cohen's and Fleiss' kappa)", "readers.md"),
    ("readers", "Reader studies (unaided vs aided, vs the model)", "readers.md"),
    ("formatting", "Number formats of the tables a reader sees", "user_guide.md"),
    ("tables", "Baseline tables", "user_guide.md"),
    ("config", "Study configuration", "user_guide.md"),
    ("data_dictionary", "Labels, units and levels shown to readers", "user_guide.md"),
    ("model", "The saved study model", "user_guide.md"),
    ("study", "The whole study", "user_guide.md"),
    ("study_outputs", "Study tables, figures and methods text", "user_guide.md"),
    ("study_figures", "The report's figures and their captions", "user_guide.md"),
    ("report", "HTML report", "user_guide.md"),
    ("io", "Model files (JSON)", "design.md"),
    ("exceptions", "Exceptions and warnings", "bad_input.md"),
    ("cli", "Command line", "cli.md"),
]
# Modules that hold no public API of their own.
NOT_API = {"__main__"}


def _public_modules() -> set[str]:
    return {
        m.name
        for m in pkgutil.iter_modules(ra.__path__)
        if not m.name.startswith("_") and m.name not in NOT_API
    }


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    return first.replace("|", "\\|")


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "constant"


def _row(name: str, obj: object, *, first: str) -> str:
    summary = _summary(obj) if _kind(obj) != "constant" else f"`{obj!r}`"[:120]
    return f"| {first} | {_kind(obj)} | {summary} |"


def render() -> str:
    modules = _public_modules()
    unstaged = sorted(modules - {m for m, _, _ in STAGES})
    if unstaged:
        raise SystemExit(f"modules without a stage in tools/make_api_doc.py: {unstaged}")
    # a stage whose module does not exist (yet) is skipped; every existing one is listed
    stages = [(m, t, p) for m, t, p in STAGES if m in modules]
    where = {}
    for module_name, _, _ in stages:
        for n in importlib.import_module(f"radiomics_aln.{module_name}").__all__:
            where.setdefault(n, module_name)

    lines = [
        "# API reference",
        "",
        "This page is generated by `tools/make_api_doc.py` from the package's `__all__` lists.",
        "Full documentation is in each docstring (`help(...)`) and on the stage's page.",
        "",
        "## The top-level namespace",
        "",
        "The names a notebook calls, in pipeline order: `import radiomics_aln as ra; ra.<name>`.",
        "Everything else public is imported from its module (listed below), e.g.",
        "`from radiomics_aln.ring import ring_rois`. Exception and warning classes are in",
        "`radiomics_aln.exceptions` (also `ra.exceptions`).",
        "",
        "| name | kind | module | summary |",
        "|---|---|---|---|",
    ]
    top = [n for n in ra.__all__ if n != "__version__"]
    missing = [n for n in top if n not in where]
    if missing:
        raise SystemExit(f"top-level names in no staged module's __all__: {missing}")
    for n in top:  # in the order of __all__ (pipeline order)
        obj = getattr(ra, n)
        lines.append(f"| `{n}` | {_kind(obj)} | `{where[n]}` | {_summary(obj)} |")
    lines += [
        "",
        "## Every module, by pipeline stage",
        "",
        "Names marked **ra** are also top-level names.",
        "",
    ]
    for module_name, title, page in stages:
        module = importlib.import_module(f"radiomics_aln.{module_name}")
        names = list(module.__all__)
        if not names:
            continue
        lines += [f"### {title}", "", f"`radiomics_aln.{module_name}` — guide: [{page}]({page})"]
        lines += ["", "| name | kind | summary |", "|---|---|---|"]
        for n in names:
            first = f"`{n}` **ra**" if n in top else f"`{n}`"
            lines.append(_row(n, getattr(module, n), first=first))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    out = ROOT / "docs" / "api.md"
    out.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
