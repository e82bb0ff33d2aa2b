"""``python -m radiomics_aln``: the same command line as ``radiomics-aln``."""

from __future__ import annotations

import sys

from radiomics_aln.cli import main

if __name__ == "__main__":
    sys.exit(main())
