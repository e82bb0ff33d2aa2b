"""The demo cohort's reader study: two simulated radiologists read the prospective cohort.

:func:`write_readers` writes ``readers.csv`` (``case_id``, ``reader``, ``session``, ``call``,
``rating``, ``experience``): a junior and a senior reader read every prospective case without
the model (``unaided``) and again with it (``aided``). A reader perceives
``z = d * y + e`` (``e`` standard normal, ``d`` the reader's skill: 0.8 junior, 1.15 senior);
aided, the perception moves toward the model's signal, ``z' = (1 - w) z + w m + 0.35 e'``
(``w`` = 0.55 junior, 0.45 senior), where ``m = (lp + 2.87) / 2.47`` is the true linear
predictor scaled so that negatives are about standard normal (a well-fitted model
approximates it). Ratings 1-5 cut ``z`` at -0.6, 0.1, 0.7, 1.3; a call is positive at rating
4 or 5. The draws come from their own stream of the cohort's seed, so the other files of the
cohort do not change. See ``docs/demo_cohort.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: file name of the demo reader table
READERS_FILE = "readers.csv"
#: the simulated readers: name, skill d, pull toward the model w, experience (years)
READERS = (("junior", 0.8, 0.55, 3), ("senior", 1.15, 0.45, 12))
_CUTS = np.array([-0.6, 0.1, 0.7, 1.3])
_MIN_CASES, _MIN_EACH = 10, 3
_STREAM = 2**32 + 16  # spawn key of the readers' random stream


def readers_table(
    case_ids: Sequence[str], y: np.ndarray, lp: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The simulated reads of the given cases (see the module docstring)."""
    y = np.asarray(y, dtype=float)
    m = (np.asarray(lp, dtype=float) + 2.87) / 2.47
    rows = []
    for name, skill, pull, years in READERS:
        z = skill * y + rng.standard_normal(y.size)
        aided = (1 - pull) * z + pull * m + 0.35 * rng.standard_normal(y.size)
        for session, values in (("unaided", z), ("aided", aided)):
            rating = 1 + np.searchsorted(_CUTS, values, side="right")
            for case, r in zip(case_ids, rating, strict=True):
                rows.append({"case_id": case, "reader": name, "session": session,
                             "call": int(r >= 4), "rating": int(r), "experience": years})  # fmt: skip
    return pd.DataFrame(rows)


def write_readers(
    root: Path, case_ids: Sequence[str], cohorts: Sequence[str], y: Sequence[int],
    lp: Sequence[float], entropy: int,
) -> bool:  # fmt: skip
    """Write ``readers.csv`` for the prospective cohort when it has at least 10 patients with at
    least 3 of each outcome (else nothing); returns whether it was written."""
    cohorts = np.asarray(cohorts)
    keep = np.flatnonzero(cohorts == "prospective")
    yy = np.asarray(y)[keep]
    if keep.size < _MIN_CASES or min(int(yy.sum()), int(keep.size - yy.sum())) < _MIN_EACH:
        return False
    rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(_STREAM,)))
    table = readers_table([case_ids[i] for i in keep], yy, np.asarray(lp)[keep], rng)
    table.to_csv(root / READERS_FILE, index=False, lineterminator="\n")
    return True
