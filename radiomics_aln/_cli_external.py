"""The ``--external ROI=PATH`` option of ``radiomics-aln predict`` (external, e.g. deep,
feature tables of the new patients; see :mod:`radiomics_aln.external_features`).

Kept apart from :mod:`radiomics_aln.cli`; everything here is private to the package.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from radiomics_aln._cli_output import UsageProblem, existing


def add_external_option(parser: Any) -> None:
    """Register ``--external ROI=PATH`` (repeatable) on a subcommand's parser."""
    parser.add_argument(
        "--external",
        action="append",
        default=None,
        metavar="ROI=PATH",
        help="an external (e.g. deep) feature table of the patients, for a model whose scores "
        "use external features: CSV/Parquet with case_id and the feature columns, one option "
        "per ROI (e.g. --external tumor=deep_tumor.csv)",
    )


def external_tables(args: argparse.Namespace) -> dict[str, Path] | None:
    """``{roi: path}`` of the ``--external`` options (None when there are none)."""
    if not args.external:
        return None
    out: dict[str, Path] = {}
    for item in args.external:
        roi, sep, path = item.partition("=")
        if not sep or not roi.strip() or not path.strip():
            raise UsageProblem(
                f"--external needs ROI=PATH (e.g. tumor=deep_tumor.csv), got {item!r}"
            )
        if roi.strip() in out:
            raise UsageProblem(f"--external gives ROI {roi.strip()!r} twice")
        out[roi.strip()] = existing(path.strip())
    return out
