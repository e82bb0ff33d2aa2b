"""A reader study: two radiologists without and with the model, against the model, agreement.

Simulates a prospective cohort (outcome and the model's predicted risk) and two radiologists of
different skill who read every case twice: without the model (``unaided``) and, two weeks
later, with its prediction (``aided``), rating each case 1-5 (BI-RADS-like) and calling it
positive at 4 or 5. Writes the tidy reader table, reads it back with its checks, and reports
per reader and session the AUC (DeLong CI), accuracy, sensitivity, specificity, PPV and NPV
(Wilson CIs); aided vs unaided (paired DeLong, exact McNemar); each reader vs the model
(paired DeLong); Cohen's kappa between the readers and with the truth; the ROC figure with the
readers' operating points and the bars of accuracy, sensitivity and specificity.

Run:   python examples/reader_study.py [--out DIR]
Time:  about 5 s. Writes readers.csv, reader_performance.csv, reader_comparisons.csv,
       reader_agreement.csv, reader_roc.png and reader_metrics.png to --out (default: a new
       temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra
from radiomics_aln.agreement import cohen_kappa
from radiomics_aln.readers import read_reader_table, reader_study


def simulate(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Reader table, outcome and model risk of ``n`` cases (see the module docstring)."""
    cases = [f"P{i + 1:03d}" for i in range(n)]
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 2.5 * signal)))).astype(int)
    p_model = 1 / (1 + np.exp(-(-0.5 + 2.2 * signal)))
    rows = []
    for reader, skill, pull in (("junior", 0.8, 0.55), ("senior", 1.2, 0.45)):
        unaided = skill * y + rng.normal(size=n)
        aided = (1 - pull) * unaided + pull * (1.3 * signal + 0.6) + 0.3 * rng.normal(size=n)
        for session, z in (("unaided", unaided), ("aided", aided)):
            rating = 1 + np.searchsorted([-0.6, 0.1, 0.7, 1.3], z, side="right")
            rows += [{"case_id": c, "reader": reader, "session": session, "call": int(r >= 4),
                      "rating": int(r)} for c, r in zip(cases, rating, strict=True)]  # fmt: skip
    return pd.DataFrame(rows), pd.Series(y, index=cases), pd.Series(p_model, index=cases)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_readers_"))
    out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)

    reads, y, p_model = simulate(120, np.random.default_rng(16))
    reads.to_csv(out / "readers.csv", index=False)
    # the checks: unknown cases, missing readings, a reader missing a session raise, named
    table = read_reader_table(out / "readers.csv", cases=list(y.index))
    print(f"{len(table.readers)} readers x {len(table.sessions)} sessions x {len(table.cases)} "
          f"cases")  # fmt: skip

    result = reader_study(table, y, p_model, model_name="Nomogram", random_state=0)
    print("\nPer reader and session (95% CIs):")
    print(result.formatted().to_string(index=False))
    print("\nAided vs unaided:")
    print(result.comparisons[["reader", "metric", "estimate_1", "estimate_2", "p_value",
                              "test"]].round(4).to_string(index=False))  # fmt: skip
    print("\nAgreement:")
    print(result.agreement[["session", "rater_1", "rater_2", "scale", "statistic", "estimate",
                            "ci_low", "ci_high"]].round(3).to_string(index=False))  # fmt: skip
    # the kappa functions on their own, e.g. quadratic-weighted kappa of the unaided ratings
    wide = table.wide("rating", "unaided")
    print("\n", cohen_kappa(wide["junior"], wide["senior"], weights="quadratic",
                            levels=[1, 2, 3, 4, 5]).round(3))  # fmt: skip

    result.performance.to_csv(out / "reader_performance.csv", index=False)
    result.comparisons.to_csv(out / "reader_comparisons.csv", index=False)
    result.agreement.to_csv(out / "reader_agreement.csv", index=False)
    for kind, size in (("roc", (5.4, 6.2)), ("metrics", (7.5, 4.6))):
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        result.plot(ax=ax, kind=kind)
        fig.savefig(out / f"reader_{kind}.png", dpi=120)
        plt.close(fig)
    print(f"\nradiomics_aln {ra.__version__}; written to {out}")
    return out


if __name__ == "__main__":
    main()
