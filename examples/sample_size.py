"""How many patients does an ALN nomogram need? The minimum sample size of Riley et al. (2020).

Plans a development cohort for a clinical-radiomics nomogram: 8 clinical-ultrasound candidate
parameters and 3 radiomics scores (11 candidate parameters), an ALN metastasis prevalence of
40%, and an anticipated performance taken from a published model's AUC (0.91). Prints the three
criteria (shrinkage, optimism of the apparent R-squared, precision of the overall risk), then
how the required size grows with the number of candidate parameters and shrinks with a better
anticipated AUC, and saves the bar chart.

Run:   python examples/sample_size.py [--out DIR]
Time:  about 2 s. Writes sample_size.csv, sample_size_grid.csv and sample_size.png to --out
       (default: a new temporary folder, printed at the end).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import radiomics_aln as ra
from radiomics_aln.sample_size import riley_sample_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (created)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="sample_size_"))
    out.mkdir(parents=True, exist_ok=True)

    print(f"radiomics_aln {ra.__version__}")
    plan = riley_sample_size(parameters=11, prevalence=0.40, c_statistic=0.91)
    print(plan.summary.round(3).to_string())
    print(plan.check(300, events=120, what="a cohort of 300 patients"))
    plan.summary.to_csv(out / "sample_size.csv")

    rows = []
    for parameters in (5, 11, 20, 30):
        for auc in (0.75, 0.85, 0.91):
            res = riley_sample_size(parameters=parameters, prevalence=0.40, c_statistic=auc)
            rows.append({"parameters": parameters, "auc": auc, "r2_cs": res.r2_cs,
                         "n_required": res.n_required,
                         "events_required": round(res.events_required, 1)})  # fmt: skip
    grid = pd.DataFrame(rows)
    print(grid.pivot(index="parameters", columns="auc", values="n_required").to_string())
    grid.to_csv(out / "sample_size_grid.csv", index=False)

    fig, ax = plt.subplots(figsize=(5, 2.4))
    plan.plot(ax=ax)
    ax.set_title("11 candidate parameters, prevalence 0.40, AUC 0.91", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "sample_size.png", dpi=120)
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
