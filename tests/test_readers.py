"""The reader study against R (tests/reference/readers.R, outputs readers_R.csv).

Per reader and session of tests/reference/readers_data.csv: AUC with DeLong CI
(``pROC::ci.auc``) from ratings and from calls, Wilson intervals (``prop.test(correct =
FALSE)``), paired DeLong aided vs unaided and model vs reader (``pROC::roc.test(paired = TRUE,
method = "delong")``), exact McNemar (``binom.test`` on the discordant pairs) and the
chi-square McNemar (``mcnemar.test``). Kappas: tests/test_agreement.py. Bad reader tables
raise ReaderTableError naming case, reader, session and column.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from radiomics_aln.exceptions import InputError, ReaderTableError
from radiomics_aln.readers import (
    ReaderStudy,
    mcnemar_test,
    plot_reader_metrics,
    plot_reader_roc,
    read_reader_table,
    reader_study,
)

mpl.use("Agg")
REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "readers_data.csv", dtype={"case_id": str})


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "readers_R.csv", keep_default_na=False, dtype=str)


@pytest.fixture(scope="module")
def truth(data):
    first = data.drop_duplicates("case_id").set_index("case_id")
    return first["y"], first["p"]


def _study(data: pd.DataFrame, truth, *, ratings: bool = True) -> ReaderStudy:
    cols = ["case_id", "reader", "session", "call"] + (["rating"] if ratings else [])
    table = read_reader_table(data[cols])
    return reader_study(table, truth[0], truth[1], n_boot=200)


@pytest.fixture(scope="module")
def study(data, truth) -> ReaderStudy:
    return _study(data, truth)


def _ref(ref: pd.DataFrame, what: str, **keys: str) -> pd.DataFrame:
    rows = ref[ref["what"] == what]
    for k, v in keys.items():
        rows = rows[rows[k] == v]
    return rows


@pytest.mark.parametrize("source", ["rating", "call"])
def test_auc_against_R(data, truth, ref, study, source):
    """R: ci.auc(roc(y, rating_or_call, direction = "<"), method = "delong")."""
    res = study if source == "rating" else _study(data, truth, ratings=False)
    perf = res.performance.query("metric == 'auc'")
    rows = _ref(ref, "auc", source=source)
    assert len(rows) == 6
    for _, r in rows.iterrows():
        got = perf[(perf["reader"] == r["reader"]) & (perf["session"] == r["session"])].iloc[0]
        assert got["source"] == source
        np.testing.assert_allclose([got["estimate"], got["ci_low"], got["ci_high"]],
                                   [float(r["value"]), float(r["low"]), float(r["high"])],
                                   rtol=1e-9)  # fmt: skip
    model = _ref(ref, "auc", reader="model").iloc[0]
    got = study.performance.query("session == 'model'").iloc[0]
    np.testing.assert_allclose(got["estimate"], float(model["value"]), rtol=1e-12)


def test_auc_from_calls_is_the_operating_point(data, truth):
    res = _study(data, truth, ratings=False).performance.query("session != 'model'")
    wide = res.pivot_table(index=["reader", "session"], columns="metric", values="estimate")
    np.testing.assert_allclose(wide["auc"], (wide["sensitivity"] + wide["specificity"]) / 2)


def test_wilson_intervals_against_R(study, ref):
    """R: prop.test(x, n, correct = FALSE)$conf.int for accuracy, sensitivity, ... npv."""
    perf = study.performance
    rows = _ref(ref, "wilson")
    assert len(rows) == 30
    for _, r in rows.iterrows():
        got = perf[(perf["reader"] == r["reader"]) & (perf["session"] == r["session"])
                   & (perf["metric"] == r["key"])].iloc[0]  # fmt: skip
        np.testing.assert_allclose([got["estimate"], got["ci_low"], got["ci_high"]],
                                   [float(r["value"]), float(r["low"]), float(r["high"])],
                                   rtol=1e-9)  # fmt: skip


@pytest.mark.parametrize("source", ["rating", "call"])
def test_session_delong_against_R(data, truth, ref, study, source):
    """R: roc.test(roc(y, aided), roc(y, unaided), method = "delong", paired = TRUE)."""
    res = study if source == "rating" else _study(data, truth, ratings=False)
    comp = res.comparisons.query("metric == 'auc'").set_index("reader")
    for reader in res.readers:
        z = _ref(ref, "delong_session", reader=reader, source=source, key="z").iloc[0]
        p = _ref(ref, "delong_session", reader=reader, source=source, key="p").iloc[0]
        got = comp.loc[reader]
        np.testing.assert_allclose(
            [got["statistic"], got["ci_low"], got["ci_high"], got["p_value"]],
            [float(z["value"]), float(z["low"]), float(z["high"]), float(p["value"])],
            rtol=1e-9,
        )
        assert got["estimate"] == pytest.approx(got["estimate_2"] - got["estimate_1"])


def test_model_vs_reader_delong_against_R(study, ref):
    """R: roc.test(roc(y, p), roc(y, rating), method = "delong", paired = TRUE)."""
    mc = study.model_comparisons
    assert len(mc) == 6
    for _, got in mc.iterrows():
        z = _ref(ref, "delong_model", reader=got["reader"], session=got["session"], key="z")
        p = _ref(ref, "delong_model", reader=got["reader"], session=got["session"], key="p")
        np.testing.assert_allclose(
            [got["statistic"], got["ci_low"], got["ci_high"], got["p_value"]],
            [float(z.iloc[0]["value"]), float(z.iloc[0]["low"]), float(z.iloc[0]["high"]),
             float(p.iloc[0]["value"])],
            rtol=1e-9,
        )  # fmt: skip


def test_mcnemar_in_study_against_R(study, ref):
    """R: binom.test(c, b + c)$p.value on the discordant pairs (correct reads; calls among
    positives; negative calls among negatives)."""
    comp = study.comparisons[study.comparisons["test"] == "McNemar exact"]
    assert len(comp) == 9
    for _, got in comp.iterrows():
        r = _ref(ref, "mcnemar", reader=got["reader"], key=got["metric"]).iloc[0]
        assert (got["b"], got["c"]) == (int(float(r["low"])), int(float(r["high"])))
        np.testing.assert_allclose(got["p_value"], float(r["value"]), rtol=1e-10)


@pytest.mark.parametrize("correct", [True, False])
def test_mcnemar_chisquare_against_R(data, truth, ref, correct):
    """R: mcnemar.test(table(x1, x2), correct = TRUE / FALSE) on correct reads etc."""
    y = truth[0]
    what = "mcnemar_chisq" if correct else "mcnemar_chisq_uncorrected"
    for reader in data["reader"].unique():
        u = data[(data.reader == reader) & (data.session == "unaided")].set_index("case_id")
        a = data[(data.reader == reader) & (data.session == "aided")].set_index("case_id")
        yy = y.loc[u.index]
        x1, x2 = (u["call"] == yy).astype(int), (a.loc[u.index, "call"] == yy).astype(int)
        r = _ref(ref, what, reader=reader, key="accuracy").iloc[0]
        got = mcnemar_test(x1, x2, exact=False, correct=correct).iloc[0]
        if r["value"] == "NaN":
            assert got["b"] + got["c"] == 0
            continue
        np.testing.assert_allclose([got["statistic"], got["p_value"]],
                                   [float(r["low"]), float(r["value"])], rtol=1e-10)  # fmt: skip


def test_mcnemar_no_discordant_pairs():
    res = mcnemar_test([1, 0, 1], [1, 0, 1]).iloc[0]
    assert (res["b"], res["c"], res["p_value"], res["estimate"]) == (0, 0, 1.0, 0.0)


def test_agreement_table(study):
    ag = study.agreement
    # 3 pairs x (call + rating) + 3 readers vs truth + Fleiss, per session
    assert len(ag) == 2 * (3 * 2 + 3 + 1)
    fleiss = ag[ag["statistic"] == "fleiss_kappa"]
    assert list(fleiss["rater_1"]) == ["all readers"] * 2
    assert fleiss["p_value"].notna().all()
    weighted = ag[ag["statistic"] == "weighted_kappa"]
    assert set(weighted["weights"]) == {"quadratic"}


def test_formatted_and_methods(study):
    tab = study.formatted()
    assert {"Reader", "Session", "AUC", "Accuracy", "Sensitivity", "Specificity"} <= set(tab)
    assert "P (AUC vs unaided)" in tab.columns and "P (AUC vs model)" in tab.columns
    assert tab["Reader"].iloc[-1] == "Model"
    text = study.methods_text()
    assert "DeLong" in text and "McNemar" in text and "Fleiss" in text
    assert "Obuchowski-Rockette" in text and "Hillis" in text


def test_reader_study_includes_the_mrmc_analysis_of_the_ratings(study, data, truth):
    # the same numbers as or_mrmc itself (which equals the published VanDyke outputs,
    # tests/test_mrmc.py) on the same ratings
    from radiomics_aln.mrmc import or_mrmc

    direct = or_mrmc(data[["case_id", "reader", "session", "rating"]],
                     y=truth[0].to_dict(), rating="rating")  # fmt: skip
    pd.testing.assert_frame_equal(study.mrmc.summary, direct.summary)
    rrrc = study.mrmc.summary.iloc[0]
    assert rrrc["analysis"] == "random readers, random cases" and rrrc["test"] == "t"
    calls = _study(data, truth, ratings=False)
    assert calls.mrmc is not None and not calls.mrmc.summary.equals(study.mrmc.summary)


def test_figures(study):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    ax = plot_reader_roc(study, ax=axes[0])
    # one arrow per reader, from unaided to aided
    assert len(ax.texts) == 3
    perf = study.performance.set_index(["reader", "session", "metric"])
    arrow = ax.texts[0]
    sens = perf.loc[("junior", "aided", "sensitivity"), "estimate"]
    spec = perf.loc[("junior", "aided", "specificity"), "estimate"]
    np.testing.assert_allclose(arrow.xy, (1 - spec, sens))
    ax2 = plot_reader_metrics(study, ax=axes[1])
    assert len(ax2.patches) == 3 * 3 * 2
    assert study.plot(kind="metrics", ax=axes[1]) is axes[1]
    with pytest.raises(InputError, match="kind"):
        study.plot(kind="bars")
    plt.close(fig)


def test_reader_study_is_deterministic(study, data, truth):
    again = _study(data, truth)
    pd.testing.assert_frame_equal(study.agreement, again.agreement)


# --------------------------------------------------------------------------- bad input


def _table() -> pd.DataFrame:
    rows = []
    for reader in ("A", "B"):
        for session in ("unaided", "aided"):
            for i, case in enumerate(("c1", "c2", "c3", "c4")):
                rows.append({"case_id": case, "reader": reader, "session": session,
                             "call": i % 2, "rating": i + 1})  # fmt: skip
    return pd.DataFrame(rows)


def _problems(frame: pd.DataFrame, **kwargs) -> list[str]:
    with pytest.raises(ReaderTableError) as info:
        read_reader_table(frame, **kwargs)
    return info.value.problems


def test_bad_reader_tables():
    t = _table()
    assert "missing column(s) reader" in _problems(t.drop(columns="reader"))[0]
    assert "`call` (0/1) or a `rating`" in _problems(t.drop(columns=["call", "rating"]))[0]
    bad = t.copy()
    bad.loc[2, "call"] = 2
    assert "line(s) 4 have 2" in _problems(bad)[0]
    bad = t.astype({"rating": object})
    bad.loc[0, "rating"] = "high"
    assert "`rating` must be a number" in _problems(bad)[0]
    bad = t.copy()
    bad.loc[1, "case_id"] = None
    assert "`case_id` is empty on line(s) 3" in _problems(bad)[0]
    dup = pd.concat([t, t.iloc[[0]]])
    assert "repeat a case/reader/session (c1/A/unaided)" in _problems(dup)[0]
    missing = t.drop(index=t.index[(t.reader == "B") & (t.session == "aided") & (t.case_id == "c2")])
    assert _problems(missing) == ["reader 'B', session 'aided': no reading of case(s) c2"]
    no_session = t[~((t.reader == "A") & (t.session == "aided"))]
    assert "reader 'A' has no reading in session 'aided'" in _problems(no_session)[0]
    assert "case(s) c3, c4 are not in the cohort" in _problems(t, cases=["c1", "c2"])[0]
    other = t.replace({"unaided": "without", "aided": "with"})
    assert "pass `sessions=`" in _problems(other)[0]
    assert read_reader_table(other, sessions=["without", "with"]).sessions == ["without", "with"]
    assert "do not match" in _problems(other, sessions=["without"])[0]
    exp = t.assign(experience=[1] * 15 + [2])
    assert "reader(s) B have several" in _problems(exp)[0]


def test_reader_table_file_and_rating_threshold(tmp_path):
    t = _table()
    path = tmp_path / "readers.csv"
    t.drop(columns="call").to_csv(path, index=False)
    with pytest.raises(ReaderTableError, match="rating_threshold") as info:
        read_reader_table(path)
    assert str(path) in str(info.value)
    table = read_reader_table(path, rating_threshold=2)
    assert table.data["call"].tolist()[:4] == [0, 1, 1, 1]
    assert table.calls_from_rating == 2.0
    with pytest.raises(InputError, match="does not exist"):
        read_reader_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="only for a table without"):
        read_reader_table(t, rating_threshold=3)
    pytest.importorskip("pyarrow")
    t.to_parquet(tmp_path / "readers.parquet")
    assert read_reader_table(tmp_path / "readers.parquet").cases == ["c1", "c2", "c3", "c4"]


def test_reader_study_bad_outcomes():
    table = read_reader_table(_table())
    with pytest.raises(InputError, match="no value for reader-table case"):
        reader_study(table, pd.Series([0, 1], index=["c1", "c2"]))
    cases = ["c1", "c2", "c3", "c4"]
    with pytest.raises(InputError, match="0/1"):
        reader_study(table, pd.Series([0, 1, 2, 1], index=cases))
    with pytest.raises(InputError, match="ReaderTable"):
        reader_study(_table(), pd.Series([0, 1, 1, 0], index=cases))
    y = pd.Series([0, 1, 1, 0], index=cases)
    with pytest.raises(InputError, match="`p` is missing for case"):
        reader_study(table, y, pd.Series([0.1, None, 0.3, 0.2], index=cases))
    with pytest.raises(InputError, match="kappa_weights"):
        reader_study(table, y, kappa_weights="cubic")
    twice = pd.Series([0, 1, 1, 0, 1], index=cases + ["c1"])
    with pytest.raises(InputError, match="several values for case\\(s\\) c1"):
        reader_study(table, twice)
    # case ids given as numbers match the table's text ids
    numbered = _table().replace({"c1": "1", "c2": "2", "c3": "3", "c4": "4"})
    assert read_reader_table(numbered, cases=[4, 3, 2, 1]).cases == ["4", "3", "2", "1"]


# --------------------------------------------------------------------------- in a Study


def _study_data(seed: int = 3, n: int = 180):
    """A small cohort (train / internal / prospective) with features carrying the signal."""
    from radiomics_aln._demo_readers import readers_table

    rng = np.random.default_rng(seed)
    ids = pd.Index([f"P{i:04d}" for i in range(n)], name="case_id")
    cohort = np.array(["train"] * 100 + ["internal"] * 40 + ["prospective"] * (n - 140))
    latent = {roi: rng.normal(size=n) for roi in ("tumor", "ln")}
    age = rng.normal(55, 10, n).round(0)
    lp = -0.4 + 1.5 * latent["tumor"] + 1.5 * latent["ln"] + 0.03 * (age - 55)
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    table = pd.DataFrame({"cohort": cohort, "aln": y, "age": age}, index=ids)
    cols, blocks = [], []
    for roi, h in latent.items():
        for j in range(8):
            cols.append(f"{roi}__original_firstorder_F{j:02d}")
            blocks.append((h if j < 2 else 0.0) + rng.normal(scale=0.7, size=n))
    features = pd.DataFrame(np.column_stack(blocks), index=ids, columns=cols)
    prosp = cohort == "prospective"
    reads = readers_table(list(ids[prosp]), y[prosp], lp[prosp] * 1.2 - 0.5, rng)
    return table, features, reads


STUDY_CONFIG = {
    "outcome": "aln", "train_cohort": "train", "rois": ["tumor", "ln"],
    "clinical": ["age"], "icc": {"enabled": False}, "score": {"params": {"cv": 5}},
    "cohort_labels": {"prospective": "Prospective"},
}  # fmt: skip


@pytest.fixture(scope="module")
def reader_fitted(tmp_path_factory):

    table, features, reads = _study_data()
    folder = tmp_path_factory.mktemp("readers_study")
    reads.to_csv(folder / "readers.csv", index=False)
    cfg = STUDY_CONFIG | {"readers": {"path": str(folder / "readers.csv")}}
    study = _fit(cfg, table, features)
    return study, folder


def _fit(cfg, table, features):
    """Fit and evaluate; the small cohort's statistical warnings (ties in Hosmer-Lemeshow
    groups, events per variable) are not what these tests are about."""
    import warnings

    from radiomics_aln.exceptions import StatisticalWarning
    from radiomics_aln.study import Study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return Study(cfg, table=table, features=features, progress=False).fit().evaluate()


def test_study_reader_section(reader_fitted, tmp_path):
    study, _ = reader_fitted
    tables, figures = study.results_["tables"], study.results_["figures"]
    for name in ("readers_performance", "readers_comparisons", "readers_model",
                 "readers_agreement"):  # fmt: skip
        assert name in tables and len(tables[name])
    assert {"readers_roc", "readers_metrics"} <= set(figures)
    result = study.results_["summary"]["reader_study"]
    # the model's predictions of the prospective cohort are the ones compared with the readers
    frame = study.data_[study.data_["cohort"] == "prospective"]
    model_auc = tables["readers_performance"].query("session == 'model'")["estimate"].iloc[0]
    from radiomics_aln.metrics import c_statistic

    assert model_auc == pytest.approx(c_statistic(frame["aln"], frame["probability"]))
    assert result.readers == ["junior", "senior"]
    content = study.report_content()
    titles = [s["title"] for s in content["sections"]]
    assert "Reader study" in titles
    section = content["sections"][titles.index("Reader study")]
    assert len(section["figures"]) == 2 and len(section["tables"]) == 4
    mrmc = section["tables"]["Multi-reader multi-case analysis (Obuchowski-Rockette)"]
    assert mrmc["Analysis"].iloc[0] == "Random readers and cases (Hillis df)"
    assert "readers_mrmc" in tables and len(tables["readers_mrmc"]) == 3
    assert any(cap.startswith("Figure") and "operating point" in cap for cap in section["figures"])
    assert "Reader study" in study.methods_text()
    out = study.save(tmp_path / "out", report=False)
    assert (out / "tables" / "readers_agreement.csv").is_file()
    assert (out / "figures" / "readers_roc.png").is_file()


def test_study_reader_cases_must_match_the_cohort(reader_fitted, tmp_path):
    """The reader table's cases are the reader cohort's cases (named when they differ)."""
    import dataclasses

    from radiomics_aln import _study_readers

    study, folder = reader_fitted
    reads = pd.read_csv(folder / "readers.csv", dtype={"case_id": str})
    arrays = study._cohort_arrays()
    labels = {c: study.config.label(c) for c in study.cohorts_}

    def run(**changes):
        cfg = dataclasses.replace(study.config.readers, **changes)
        study.config.readers, saved = cfg, study.config.readers
        try:
            _study_readers.add_to_study(study, arrays, labels, {}, {}, {})
        finally:
            study.config.readers = saved

    first = reads["case_id"].iloc[0]
    reads[reads["case_id"] != first].to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(InputError, match=f"did not read case\\(s\\) {first}"):
        run(path=str(tmp_path / "r.csv"))
    extra = reads.copy()
    extra.loc[extra["case_id"] == first, "case_id"] = "P0000"  # a training case
    extra.to_csv(tmp_path / "r2.csv", index=False)
    with pytest.raises(ReaderTableError, match="case\\(s\\) P0000 are not in the cohort"):
        run(path=str(tmp_path / "r2.csv"))
    with pytest.raises(InputError, match="not the training cohort"):
        run(cohort="train")
    with pytest.raises(InputError, match="'elsewhere' is not a cohort"):
        run(cohort="elsewhere")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_config_readers_section(tmp_path):
    from radiomics_aln.config import ReadersSettings, StudyConfig

    (tmp_path / "data").mkdir()
    (tmp_path / "study.yaml").write_text(
        "outcome: aln\nreaders:\n  path: data/readers.csv\n  sessions: [without, with]\n"
    )
    cfg = StudyConfig.from_yaml(tmp_path / "study.yaml")
    assert isinstance(cfg.readers, ReadersSettings)
    assert Path(cfg.readers.path) == tmp_path / "data" / "readers.csv"
    assert cfg.readers.sessions == ["without", "with"]
    text = cfg.to_yaml(tmp_path / "out.yaml")
    assert "path: data/readers.csv" in text
    assert StudyConfig().readers is None
    for bad, match in (({"path": 3}, "readers.path"), ({"path": "r.csv", "sessions": "a"},
                       "readers.sessions"), ({"path": "r.csv", "rating_threshold": "4"},
                       "readers.rating_threshold"), ({"path": "r.csv", "colour": 1},
                       "unknown key\\(s\\) in `readers`: colour")):  # fmt: skip
        with pytest.raises(InputError, match=match):
            StudyConfig.from_dict({"readers": bad})


# --------------------------------------------------------------------------- CLI


def test_cli_readers(tmp_path, data, capsys):
    from radiomics_aln.cli import main

    data[["case_id", "reader", "session", "call", "rating"]].to_csv(tmp_path / "r.csv", index=False)
    first = data.drop_duplicates("case_id")
    first[["case_id", "p", "y"]].rename(columns={"y": "outcome"}).to_csv(
        tmp_path / "pred.csv", index=False
    )
    out = tmp_path / "out"
    assert main(["-q", "readers", str(tmp_path / "r.csv"), str(tmp_path / "pred.csv"),
                 "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "junior unaided: AUC" in text and "Model: AUC" in text
    table = read_reader_table(tmp_path / "r.csv")
    expected = reader_study(table, first.set_index("case_id")["y"],
                            first.set_index("case_id")["p"], random_state=0)  # fmt: skip
    got = pd.read_csv(out / "tables" / "readers_comparisons.csv")
    np.testing.assert_allclose(got["p_value"], expected.comparisons["p_value"], rtol=1e-12)
    for name in ("readers_roc", "readers_metrics"):
        assert (out / "figures" / f"{name}.png").is_file()
    html = (out / "readers_report.html").read_text()
    assert "Reader study" in html and "Figure 2." in html and "<script" not in html
    # bad input: exit 1 with one line naming the problem; a usage problem exits 2
    assert main(["-q", "readers", str(tmp_path / "r.csv"), str(tmp_path / "pred.csv"),
                 "--out", str(out), "--outcome", "nope"]) == 1  # fmt: skip
    assert "has no outcome (--outcome; or give --manifest) column (nope)" in capsys.readouterr().err
    (tmp_path / "model.json").write_text("{}")
    assert main(["-q", "readers", str(tmp_path / "r.csv"), str(tmp_path / "model.json"),
                 "--out", str(out)]) == 2  # fmt: skip
    assert "give --manifest" in capsys.readouterr().err
    bad = data[["case_id", "reader", "session", "call"]].iloc[1:]
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["-q", "readers", str(tmp_path / "bad.csv"), str(tmp_path / "pred.csv"),
                 "--out", str(out)]) == 1  # fmt: skip
    assert "no reading of case(s) R001" in capsys.readouterr().err
    import matplotlib.pyplot as plt

    plt.close("all")


def test_cli_readers_help(capsys):
    from radiomics_aln.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["readers", "--help"])
    assert exc.value.code == 0
    assert "usage: radiomics-aln readers" in capsys.readouterr().out


def test_example_runs(tmp_path, capsys):
    """examples/reader_study.py (also run as a script by tests/test_examples.py's checks)."""
    import runpy

    ns = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "reader_study.py"))
    out = ns["main"](["--out", str(tmp_path)])
    for name in ("readers.csv", "reader_performance.csv", "reader_comparisons.csv",
                 "reader_agreement.csv", "reader_roc.png", "reader_metrics.png"):  # fmt: skip
        assert (out / name).is_file()
    perf = pd.read_csv(out / "reader_performance.csv")
    auc = perf[perf["metric"] == "auc"].set_index(["reader", "session"])["estimate"]
    # the simulated readers improve with the model
    assert auc[("junior", "aided")] > auc[("junior", "unaided")]
    assert auc[("senior", "aided")] > auc[("senior", "unaided")]


# --------------------------------------------------------------------------- the demo cohort


def test_demo_cohort_reader_table(tmp_path):
    """readers.csv of the prospective cohort: complete, valid, covered by the stamp, and read by
    demo_config; the generator's other files are pinned in tests/test_datasets.py."""
    from radiomics_aln import datasets
    from radiomics_aln.config import demo_config

    fractions = {"train": 0.5, "prospective": 0.5}
    manifest = datasets.make_demo_cohort(tmp_path / "d", n_cases=24, random_state=3,
                                         cohort_fractions=fractions)  # fmt: skip
    path = tmp_path / "d" / "readers.csv"
    prospective = manifest.table.index[manifest.table["cohort"] == "prospective"]
    table = read_reader_table(path, cases=list(prospective))
    assert sorted(table.cases) == sorted(prospective)
    assert table.readers == ["junior", "senior"] and table.sessions == ["unaided", "aided"]
    assert table.experience == {"junior": 3, "senior": 12}
    stamp = json.loads((tmp_path / "d" / ".radiomics_aln_demo").read_text())
    assert "readers.csv" in stamp["files"]
    assert datasets.check_demo_cohort(tmp_path / "d", n_cases=24, random_state=3,
                                      cohort_fractions=fractions) is None  # fmt: skip
    cfg = demo_config(manifest.path)
    assert cfg.readers is not None and Path(cfg.readers.path) == path
    assert demo_config(manifest.path, readers=None).readers is None
    # deterministic: the same seed writes the same file
    datasets.make_demo_cohort(tmp_path / "e", n_cases=24, random_state=3,
                              cohort_fractions=fractions)  # fmt: skip
    assert (tmp_path / "e" / "readers.csv").read_bytes() == path.read_bytes()


def test_demo_reader_file_needs_enough_prospective_cases(tmp_path):
    from radiomics_aln._demo_readers import write_readers

    ids = [f"c{i}" for i in range(12)]
    y = [0, 1] * 6
    assert not write_readers(tmp_path, ids, ["train"] * 12, y, [0.0] * 12, 1)
    assert not write_readers(tmp_path, ids, ["prospective"] * 12, [0] * 10 + [1, 1],
                             [0.0] * 12, 1)  # fmt: skip
    assert write_readers(tmp_path, ids, ["prospective"] * 12, y, [0.0] * 12, 1)
    assert len(pd.read_csv(tmp_path / "readers.csv")) == 12 * 2 * 2


def test_cli_readers_with_model_json(tmp_path, monkeypatch, capsys):
    """model.json + --manifest: the reader cases are predicted (here by a stand-in for the
    fitted model, whose predict() is tested elsewhere) and the outcome read from the manifest."""
    from radiomics_aln import datasets, model
    from radiomics_aln._demo_readers import readers_table
    from radiomics_aln.cli import main

    manifest = datasets.make_demo_cohort(tmp_path / "d", n_cases=8, random_state=1)
    y = manifest.table["aln_metastasis"]
    reads = readers_table(list(y.index), y.to_numpy(), np.zeros(len(y)), np.random.default_rng(0))
    reads.to_csv(tmp_path / "r.csv", index=False)
    risk = pd.Series(np.linspace(0.1, 0.9, len(y)), index=y.index)
    seen = {}

    class FakeModel:
        settings = {"outcome": "aln_metastasis"}

        def predict(self, data, **kwargs):
            seen["cases"] = list(data.case_ids)
            return pd.DataFrame({"probability": risk.loc[data.case_ids]})

    monkeypatch.setattr(model.StudyModel, "from_json", classmethod(lambda cls, path: FakeModel()))
    (tmp_path / "model.json").write_text("{}")
    assert main(["-q", "readers", str(tmp_path / "r.csv"), str(tmp_path / "model.json"),
                 "--manifest", str(manifest.path), "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    assert sorted(seen["cases"]) == sorted(y.index)
    perf = pd.read_csv(tmp_path / "out" / "tables" / "readers_performance.csv")
    model_auc = perf[perf["session"] == "model"]["estimate"].iloc[0]
    from radiomics_aln.metrics import c_statistic

    assert model_auc == pytest.approx(c_statistic(y.to_numpy(), risk.to_numpy()))
    import matplotlib.pyplot as plt

    plt.close("all")
