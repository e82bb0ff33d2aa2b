"""A reader study: do radiologists detect ALN metastasis better with the nomogram than without?

Simulates the tidy reader table of a multi-reader multi-case (MRMC) study — 6 radiologists rate
120 patients (45 with ALN metastasis) on a 1-5 scale, once from the ultrasound alone ("US") and
once with the nomogram's risk beside it ("US + nomogram") — and compares the two sessions'
reader-averaged AUCs with the Obuchowski-Rockette analysis and Hillis' degrees of freedom
(random readers and random cases; also fixed readers, fixed cases), as OR-DBM MRMC, RJafroc and
MRMCaov do. The analysis equals their published outputs on the VanDyke data (tests/test_mrmc.py).

Run:   python examples/mrmc_reader_study.py [--out DIR]
Time:  about 5 s. Writes mrmc_summary.csv, mrmc_reader_auc.csv and mrmc.png to --out
       (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import radiomics_aln as ra  # noqa: F401  (the package; the MRMC analysis is in its module)
from radiomics_aln.mrmc import or_mrmc

SESSIONS = ("US", "US + nomogram")


def simulate(rng: np.random.Generator, n_cases: int = 120, n_readers: int = 6) -> pd.DataFrame:
    """One row per case x reader x session: case_id, reader, session, y (0/1) and rating (1-5).

    Each case has a latent suspiciousness (higher with metastasis) and a look in each session
    that all readers share; each reader has a skill, a view of each case and thresholds; the
    nomogram adds signal in the second session. Ratings are the latent score
    cut at the reader's thresholds, as a radiologist's 5-point scale is.
    """
    y = (np.arange(n_cases) < 45).astype(int)
    case_signal = 1.3 * y + rng.normal(size=n_cases)
    case_session = rng.normal(scale=0.6, size=(len(SESSIONS), n_cases))  # how a case looks
    rows = []
    for r in range(n_readers):
        skill = rng.normal(1.0, 0.2)
        own_view = rng.normal(scale=0.4, size=n_cases)  # this reader's view of each case
        cuts = np.sort(rng.normal(0.0, 0.3, size=4)) + np.array([-0.5, 0.2, 0.8, 1.4])
        for k, session in enumerate(SESSIONS):
            latent = (skill * case_signal + case_session[k] + own_view + 0.45 * k * y
                      + rng.normal(scale=0.5, size=n_cases))
            rating = 1 + np.searchsorted(cuts, latent)
            rows.append(pd.DataFrame({"case_id": [f"P{c:03d}" for c in range(n_cases)],
                                      "reader": f"R{r + 1}", "session": session, "y": y,
                                      "rating": rating}))
    return pd.concat(rows, ignore_index=True)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aln_mrmc_"))
    out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 140)

    reads = simulate(np.random.default_rng(2026))
    print(f"Reader table: {len(reads)} rows = {reads['case_id'].nunique()} cases x "
          f"{reads['reader'].nunique()} readers x {reads['session'].nunique()} sessions")

    res = or_mrmc(reads, y="y", cov="jackknife")
    print("\nReader-averaged AUC per session (random readers, random cases):")
    avg = res.session_auc[res.session_auc["analysis"] == "random readers, random cases"]
    print(avg[["session", "estimate", "ci_low", "ci_high", "df"]].round(4).to_string(index=False))
    print("\nDifference between the sessions:")
    print(res.summary[["analysis", "comparison", "estimate", "ci_low", "ci_high", "df",
                       "p_value"]].round(4).to_string(index=False))
    print("\nObuchowski-Rockette variance components:")
    print(res.variance_components.round(6).to_string())

    res.summary.to_csv(out / "mrmc_summary.csv", index=False)
    res.reader_auc.to_csv(out / "mrmc_reader_auc.csv", index=False)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    res.plot(ax=ax)
    ax.set_title("AUC per reader and session")
    fig.tight_layout()
    fig.savefig(out / "mrmc.png", dpi=110)
    plt.close(fig)
    print(f"\nWrote mrmc_summary.csv, mrmc_reader_auc.csv and mrmc.png to {out}")
    return out


if __name__ == "__main__":
    main()
