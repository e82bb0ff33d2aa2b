"""``radiomics-aln split``: a stratified, seeded train/test split of a manifest (private; the
command line is :mod:`radiomics_aln.cli`, the split :func:`radiomics_aln.splits.split_cohort`).

``radiomics-aln split MANIFEST --out FILE`` writes the manifest with its ``cohort`` column set;
``--keep external[,prospective]`` leaves the cases of those cohorts where they are and splits
only the cases whose ``cohort`` is empty.
"""

from __future__ import annotations

import argparse
from typing import Any

from radiomics_aln._cli_output import UsageProblem, existing, output_file, write_output


def add_parser(sub: Any) -> None:
    """The `split` subcommand."""
    p = sub.add_parser("split", help="stratified, seeded train/test split of a manifest, "
                       "grouped by patient and identical image", description="Set the cohort "
                       "column of a manifest to train/test, stratified and seeded, with every "
                       "patient (--group-by) and every set of byte-identical image files in one "
                       "cohort, so that duplicates never straddle the split.")  # fmt: skip
    p.add_argument("manifest", help="manifest CSV file (its cohort column, if any, empty except "
                   "for the cohorts named by --keep)")  # fmt: skip
    p.add_argument("--test-size", type=float, default=0.3, metavar="FRACTION",
                   help="fraction of the cases in the test cohort, in (0, 1) (default: 0.3)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--stratify", default="outcome", metavar="COLUMN",
                   help="column to stratify by, or none (default: %(default)s)")  # fmt: skip
    p.add_argument("--group-by", default="patient_id", metavar="COLUMN", help="column naming "
                   "the patients, or none: each case its own patient (default: %(default)s)")  # fmt: skip
    p.add_argument("--ignore-identical-images", dest="group_identical_images",
                   action="store_false", help="do not read the image files to keep identical "
                   "images together")  # fmt: skip
    p.add_argument("--keep", default=None, metavar="COHORT[,COHORT]", help="cohorts of the "
                   "manifest's cohort column to leave untouched, e.g. external: only the cases "
                   "with an empty cohort are split")  # fmt: skip
    p.add_argument("--out", default="split_manifest.csv", metavar="FILE", help="manifest CSV "
                   "file to write: the input's rows with cohort set (default: %(default)s)")  # fmt: skip


def run(args: argparse.Namespace, progress: Any) -> int:
    """Split the manifest and write it; prints the split's summary line."""
    from radiomics_aln.splits import split_cohort

    if not 0 < args.test_size < 1:
        raise UsageProblem(f"--test-size must be a fraction in (0, 1), got {args.test_size:g}")
    keep = None
    if args.keep is not None:
        keep = [k.strip() for k in args.keep.split(",")]
        if not any(keep) or "" in keep:
            raise UsageProblem(f"--keep {args.keep!r}: give cohort names separated by commas, "
                               "e.g. --keep external,prospective")  # fmt: skip
    out = output_file(args.out)
    split = split_cohort(
        existing(args.manifest), test_size=args.test_size, random_state=args.seed,
        stratify=None if args.stratify.lower() == "none" else args.stratify,
        groups=None if args.group_by.lower() == "none" else args.group_by,
        group_identical_images=args.group_identical_images, keep=keep,
    )  # fmt: skip
    write_output(out, split.to_csv)
    print(f"{split!r}\nWrote {out}")  # noqa: T201 - the command's summary
    return 0
