"""The DATA argument of ``radiomics-aln predict``: a manifest or a feature table (private; the
command line is :mod:`radiomics_aln.cli`, the burden models' route :mod:`radiomics_aln._cli_burden`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def is_manifest(path: Path) -> bool:
    """True when ``path`` is a manifest CSV (a ``tumor_image`` column in its header)."""
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline()
    return "tumor_image" in header.split(",") or "tumor_image" in header


def prediction_data(path: Path) -> Any:
    """``path`` itself when it is a manifest (features are extracted from its images), else
    the feature table it holds (a DataFrame indexed by case id)."""
    import pandas as pd

    from radiomics_aln.exceptions import InputError
    from radiomics_aln.features import CSV_EXACT_FLOATS, read_features

    if is_manifest(path):
        return path
    try:
        return read_features(path)
    except InputError:  # no `case_id` column: the first column holds the case ids
        table = pd.read_csv(path, index_col=0, **CSV_EXACT_FLOATS)
        table.index = table.index.astype(str)
        return table


def predict_to_csv(args: Any, progress: Callable[[str], None], load: Callable[[], Any]):
    """The body of ``predict`` for any saved model: check the options, ``load()`` the model,
    read DATA (and --clinical, --external), predict and write the CSV to --out.

    Returns ``(model, predictions, out)`` for the caller's summary line."""
    from radiomics_aln._cli_external import external_tables
    from radiomics_aln._cli_output import (
        check_n_jobs,
        existing,
        output_dir,
        output_file,
        write_output,
    )

    check_n_jobs(args.n_jobs)
    out = output_file(args.out)
    cache = None if args.cache_dir is None else output_dir(args.cache_dir)
    data_path = existing(args.data)
    clinical = None if args.clinical is None else existing(args.clinical)
    external = external_tables(args)
    model = load()
    data = prediction_data(data_path)
    if isinstance(data, Path):
        progress(f"Extracting features for the cases of {data_path}")
    pred = model.predict(data, clinical=clinical, external=external, n_jobs=args.n_jobs,
                         cache_dir=cache)  # fmt: skip
    write_output(out, pred.to_csv)
    return model, pred, out
