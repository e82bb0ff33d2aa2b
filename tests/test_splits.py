"""Tests of radiomics_aln.splits: grouped, stratified, seeded train/test splits (issue 15)."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import radiomics_aln as ra
from radiomics_aln.cli import main
from radiomics_aln.exceptions import DataWarning, InputError
from radiomics_aln.manifest import read_manifest
from radiomics_aln.splits import SPLIT_SUMMARY_COLUMNS, split_cohort

N_CONTENTS, N_COPIES = 12, 3


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """N_CONTENTS distinct image contents, each written as N_COPIES files (identical bytes)."""
    folder = tmp_path_factory.mktemp("pool")
    for k in range(N_CONTENTS):
        data = bytes([k]) * 64 + b"image"
        for c in range(N_COPIES):
            (folder / f"img{k}_{c}.png").write_bytes(data)
            (folder / f"img{k}_{c}_mask.png").write_bytes(b"mask")
    return folder


def table(patients, y, images=None) -> pd.DataFrame:
    n = len(y)
    return pd.DataFrame({
        "case_id": [f"c{i:03d}" for i in range(n)],
        "patient_id": [f"p{p}" for p in patients],
        "outcome": list(y),
        "tumor_image": images if images is not None else [f"c{i}.png" for i in range(n)],
    })  # fmt: skip


def expected_too_small(patients, y) -> bool:
    """Whether some stratum has fewer than two patient groups (majority outcome, ties -> 0)."""
    by_patient: dict = {}
    for p, v in zip(patients, y, strict=True):
        by_patient.setdefault(p, []).append(v)
    strata = Counter()
    for values in by_patient.values():
        c = Counter(values)
        strata[min(v for v in c if c[v] == max(c.values()))] += 1
    return any(n < 2 for n in strata.values())


@st.composite
def grouped(draw):
    n = draw(st.integers(6, 60))
    n_patients = draw(st.integers(3, n))
    patients = draw(st.lists(st.integers(0, n_patients - 1), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    test_size = draw(st.floats(0.05, 0.95))
    seed = draw(st.integers(0, 2**31))
    return patients, y, test_size, seed


@settings(max_examples=150, deadline=None)
@given(grouped())
def test_no_patient_straddles_and_every_stratum_is_in_both_cohorts(case):
    patients, y, test_size, seed = case
    data = table(patients, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # patients with mixed outcomes
        if expected_too_small(patients, y):
            with pytest.raises(InputError, match="stratum too small to split"):
                split_cohort(data, test_size=test_size, random_state=seed,
                             group_identical_images=False)  # fmt: skip
            return
        split = split_cohort(data, test_size=test_size, random_state=seed,
                             group_identical_images=False)  # fmt: skip
        again = split_cohort(data, test_size=test_size, random_state=seed,
                             group_identical_images=False)  # fmt: skip
    g = split.groups
    assert (g.groupby("patient")["cohort"].nunique() == 1).all()
    per_stratum = g.drop_duplicates("group").groupby("stratum")["cohort"].nunique()
    assert (per_stratum == 2).all()
    assert split.cohorts.equals(again.cohorts)  # deterministic for a seed
    assert split.manifest["cohort"].tolist() == split.cohorts.tolist()
    assert split.summary["n_cases"].sum() == len(y)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=4, max_size=80), st.floats(0.05, 0.95),
       st.integers(0, 2**31))  # fmt: skip
def test_stratification_within_one_case_per_stratum(y, test_size, seed):
    counts = Counter(y)
    if min(counts[0], counts[1]) < 2:
        return
    split = split_cohort(table(range(len(y)), y), test_size=test_size, random_state=seed,
                         group_identical_images=False)  # fmt: skip
    test = split.groups[split.groups["cohort"] == "test"]
    for value in (0, 1):
        n_test = int((test["stratum"] == value).sum())
        assert abs(n_test - test_size * counts[value]) <= 1
        assert 1 <= n_test <= counts[value] - 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_identical_images_never_straddle(pool, data):
    n = data.draw(st.integers(6, 40))
    files = data.draw(st.lists(st.tuples(st.integers(0, N_CONTENTS - 1),
                                         st.integers(0, N_COPIES - 1)), min_size=n, max_size=n))  # fmt: skip
    patients = data.draw(st.lists(st.integers(0, 2 * n), min_size=n, max_size=n))
    y = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    seed = data.draw(st.integers(0, 2**31))
    images = [str(pool / f"img{k}_{c}.png") for k, c in files]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            split = split_cohort(table(patients, y, images), test_size=0.3, random_state=seed)
        except InputError as exc:
            assert "stratum too small" in str(exc)
            return
    cohort = split.cohorts.to_numpy()
    contents = np.array([k for k, _ in files])
    for k in np.unique(contents):
        assert len(set(cohort[contents == k])) == 1  # same bytes, different files and patients
    pid = np.array(patients)
    for p in np.unique(pid):
        assert len(set(cohort[pid == p])) == 1


def test_identical_bytes_under_two_patients_are_merged(tmp_path):
    n = 40
    for i in range(n):
        (tmp_path / f"c{i}.png").write_bytes(f"image {i}".encode())
    (tmp_path / "c7.png").write_bytes(b"image 3")  # case 7 (patient p7) = case 3 (patient p3)
    data = table(range(n), [i % 2 for i in range(n)])
    data.loc[7, "outcome"] = 1
    cohorts = set()
    for seed in range(30):
        split = split_cohort(data, random_state=seed, base_dir=tmp_path)
        assert split.cohorts["c003"] == split.cohorts["c007"]
        cohorts.add(split.cohorts["c003"])
    assert cohorts == {"train", "test"}  # the pair is placed at random, but together
    assert split.merged.to_dict("records") == [
        {"group": 3, "patients": "p3;p7", "case_ids": "c003;c007"}
    ]
    assert "1 group(s) merged by identical images" in repr(split)
    no_images = split_cohort(data, random_state=0, group_identical_images=False)
    assert no_images.merged.empty


def test_mixed_outcomes_in_a_group_use_the_majority_and_are_reported():
    patients = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    y = [1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    with pytest.warns(DataWarning, match=r"1 group\(s\) hold cases with different `outcome`"):
        split = split_cohort(table(patients, y), group_identical_images=False)
    assert split.mixed.to_dict("records") == [
        {"group": 0, "case_ids": "c000;c001;c002", "values": "1;1;0", "stratum": 1}
    ]
    tie = table([0, 0, 1, 2, 3, 4], [1, 0, 1, 1, 0, 0])
    with pytest.warns(DataWarning):
        assert split_cohort(tie, group_identical_images=False).mixed["stratum"].tolist() == [0]


def test_test_size_is_matched_as_closely_as_the_groups_allow():
    # patient A has 3 cases, B, C, D one each: 2 test cases (0.34 * 6) come from two singletons
    data = table([0, 0, 0, 1, 2, 3], [0] * 6)
    for seed in range(20):
        split = split_cohort(data, test_size=0.34, stratify=None, random_state=seed,
                             group_identical_images=False)  # fmt: skip
        assert (split.cohorts == "test").sum() == 2
        assert (split.cohorts[["c000", "c001", "c002"]] == "train").all()
    # 0.5 * 6 = 3: either A alone or B + C + D
    for seed in range(20):
        split = split_cohort(data, test_size=0.5, stratify=None, random_state=seed,
                             group_identical_images=False)  # fmt: skip
        assert (split.cohorts == "test").sum() == 3


def test_seed_determines_the_split():
    y = [i % 3 == 0 for i in range(100)]
    data = table(range(100), [int(v) for v in y])
    a = split_cohort(data, random_state=0, group_identical_images=False).cohorts
    b = split_cohort(data, random_state=0, group_identical_images=False).cohorts
    c = split_cohort(data, random_state=1, group_identical_images=False).cohorts
    d = split_cohort(data, random_state=np.random.default_rng(0), group_identical_images=False)
    assert a.equals(b) and not a.equals(c) and a.equals(d.cohorts)
    assert (a == "test").sum() == (c == "test").sum() == 30


def test_summary_and_result():
    data = table(range(20), [1] * 8 + [0] * 12)
    split = split_cohort(data, test_size=0.25, train_name="development", test_name="validation",
                         group_identical_images=False)  # fmt: skip
    s = split.summary
    assert list(s.columns) == list(SPLIT_SUMMARY_COLUMNS)
    assert s[["cohort", "stratum", "n_cases", "n_groups"]].values.tolist() == [
        ["development", 0, 9, 9], ["development", 1, 6, 6],
        ["validation", 0, 3, 3], ["validation", 1, 2, 2],
    ]  # fmt: skip
    assert s["share"].tolist() == pytest.approx([9 / 15, 6 / 15, 3 / 5, 2 / 5])
    assert list(split.manifest.columns[:2]) == ["case_id", "cohort"]
    assert list(split.groups.columns) == ["case_id", "group", "patient", "stratum", "cohort"]
    assert repr(split).startswith("CohortSplit(development 15 cases (outcome 0: 9, 1: 6)")
    ax = split.plot()
    assert len(ax.patches) == 4
    none = split_cohort(data, stratify=None, groups=None, group_identical_images=False)
    assert none.summary["stratum"].tolist() == ["all", "all"]
    assert none.groups["patient"].isna().all()


def test_index_named_case_id_and_empty_cohort_column():
    data = table(range(10), [0, 1] * 5).set_index("case_id")
    data["cohort"] = np.nan
    split = split_cohort(data, group_identical_images=False)
    assert split.manifest["cohort"].isin(["train", "test"]).all()
    assert split.cohorts.index.name == "case_id"


@pytest.mark.parametrize("kwargs, match", [
    ({"test_size": 0}, r"test_size=0 must be a fraction .* strictly between 0 and 1"),
    ({"test_size": 1}, "strictly between 0 and 1"),
    ({"test_size": 1.5}, "strictly between 0 and 1"),
    ({"test_size": -0.2}, "strictly between 0 and 1"),
    ({"test_size": math.nan}, "strictly between 0 and 1"),
    ({"test_size": True}, "strictly between 0 and 1"),
    ({"test_size": "0.3"}, "strictly between 0 and 1"),
    ({"stratify": "aln"}, r"stratify='aln' is not a column of the manifest; its columns are "
                          r"case_id, patient_id, outcome, tumor_image"),
    ({"groups": "patient"}, r"groups='patient' is not a column.*\(None: each case is its own"),
    ({"train_name": "test"}, "both 'test'"),
    ({"test_name": " "}, "test_name=' ' must be a non-empty cohort name"),
    ({"random_state": "0"}, "random_state"),
])  # fmt: skip
def test_bad_arguments_are_refused(kwargs, match):
    data = table(range(10), [0, 1] * 5)
    with pytest.raises(InputError, match=match):
        split_cohort(data, group_identical_images=False, **kwargs)


def test_bad_manifests_are_refused(tmp_path):
    good = table(range(10), [0, 1] * 5)
    cases = {
        "no case_id": (good.drop(columns="case_id"), "no `case_id` column"),
        "duplicate": (good.assign(case_id=["a"] * 2 + list("cdefghij")), "duplicate case_id.*a"),
        "empty id": (good.assign(case_id=[""] + list("bcdefghij")), r"empty case_id in row\(s\) 0"),
        "empty patient": (good.assign(patient_id=[None] + ["p"] * 9),
                          r"`patient_id` \(the patients\) is empty for case\(s\) c000"),
        "empty outcome": (good.assign(outcome=[np.nan] + [0, 1] * 4 + [0]),
                          r"`outcome` \(the strata\) is empty for case\(s\) c000"),
        "cohorts": (good.assign(cohort=["train"] * 7 + ["external"] * 3),
                    r"already assigns cohorts \(train 7, external 3\)"),
        "one event": (table(range(10), [1] + [0] * 9),
                      r"stratum too small to split \(outcome = 1: 1 group\(s\) of 1 case\(s\)\)"),
    }
    for data, match in cases.values():
        with pytest.raises(InputError, match=match):
            split_cohort(data, group_identical_images=False)
    with pytest.raises(InputError, match=r"case c000: `tumor_image` c0.png cannot be read"):
        split_cohort(good, base_dir=tmp_path)
    with pytest.raises(InputError, match="needs the `tumor_image` column"):
        split_cohort(good.drop(columns="tumor_image"))
    with pytest.raises(InputError, match="manifest file not found"):
        split_cohort(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="split its file, manifest.path"):
        split_cohort(ra.Manifest([], pd.DataFrame()))


def _manifest_file(folder: Path, n: int = 12) -> Path:
    (folder / "img").mkdir(parents=True)
    rows = ["case_id,cohort,patient_id,outcome,tumor_image,tumor_mask,spacing,age"]
    for i in range(n):
        (folder / "img" / f"{i:03d}.png").write_bytes(f"image {i % (n - 1)}".encode())
        (folder / "img" / f"{i:03d} m.png").write_bytes(b"mask")
        rows.append(f'{i:03d},,P{i // 2},{i % 2},img/{i:03d}.png,img/{i:03d} m.png;img/{i:03d} m.png,'
                    f'"0.1,0.2",0{40 + i}')  # fmt: skip
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_manifest_file_split_written_to_another_folder(tmp_path):
    path = _manifest_file(tmp_path / "data")
    with pytest.warns(DataWarning):  # 000 and 011 have the same bytes and other outcomes
        split = split_cohort(path)
    assert split.cohorts["000"] == split.cohorts["011"] == split.cohorts["001"]  # p0, p5 linked
    out = split.to_csv(tmp_path / "elsewhere" / "split.csv")
    text = out.read_text()
    assert "../data/img/000.png" in text and '"0.1,0.2"' in text and ",040" in text
    manifest = read_manifest(out)
    assert manifest.case_ids[0] == "000" and manifest["000"].tumor_image.is_file()
    assert set(manifest.cohorts) == {"train", "test"}
    assert manifest.table["cohort"].equals(split.cohorts.rename("cohort"))


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def test_cli_split(tmp_path, capsys):
    path = _manifest_file(tmp_path / "data")
    out = tmp_path / "out" / "split.csv"
    assert main(["split", str(path), "--test-size", "0.25", "--seed", "3", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "CohortSplit(train" in captured.out and f"Wrote {out}" in captured.out
    assert "DataWarning" in captured.err
    with pytest.warns(DataWarning):
        expected = split_cohort(path, test_size=0.25, random_state=3)
    assert read_manifest(out).table["cohort"].equals(expected.cohorts.rename("cohort"))
    args = ["split", str(path), "--group-by", "none", "--stratify", "none",
            "--ignore-identical-images", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "0 group(s) merged" in capsys.readouterr().out


def test_cli_split_errors(tmp_path, capsys):
    path = _manifest_file(tmp_path / "data")
    out = str(tmp_path / "s.csv")
    assert main(["split", str(path), "--test-size", "1.5", "--out", out]) == 2
    assert "--test-size must be a fraction in (0, 1), got 1.5" in capsys.readouterr().err
    assert main(["split", str(path), "--group-by", "patient", "--out", out]) == 1
    assert "groups='patient' is not a column" in capsys.readouterr().err
    assert main(["split", str(tmp_path / "nope.csv"), "--out", out]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["split", str(path), "--out", str(tmp_path)]) == 3
    with pytest.raises(SystemExit) as exc:
        main(["split", "--help"])
    assert exc.value.code == 0
    assert "manifest CSV file to write" in capsys.readouterr().out


def test_split_of_a_folder_manifest_table(tmp_path):
    """manifest_from_folder's table (absolute paths, float spacing) splits and writes back."""
    from PIL import Image

    for cls in ("benign", "malignant"):
        for i in range(1, 6):
            folder = tmp_path / "data" / cls
            folder.mkdir(parents=True, exist_ok=True)
            value = 10 * i + (cls == "malignant")
            Image.fromarray(np.full((8, 8), value, np.uint8)).save(folder / f"{cls} ({i}).png")
            Image.fromarray(np.full((8, 8), 255, np.uint8)).save(folder / f"{cls} ({i})_mask.png")
    found = ra.manifest_from_folder(tmp_path / "data", classes={"benign": 0, "malignant": 1},
                                    spacing=0.1)  # fmt: skip
    split = ra.split_cohort(found.manifest, test_size=0.4, random_state=2)
    manifest = read_manifest(split.to_csv(tmp_path / "out" / "split.csv"))
    assert manifest.table["cohort"].value_counts().to_dict() == {"train": 6, "test": 4}
    assert manifest["benign (3)"].spacing == (0.1, 0.1)
    assert manifest.table.groupby("cohort")["outcome"].mean().to_dict() == {"train": 0.5,
                                                                           "test": 0.5}


# --------------------------------------------------------------------------------------------
# keep: cohorts left untouched
# --------------------------------------------------------------------------------------------


def _with_external(n_split: int = 20, n_external: int = 6) -> pd.DataFrame:
    data = table(range(n_split), [0, 1] * (n_split // 2))
    external = table([100 + i for i in range(n_external)], [1, 0] * (n_external // 2))
    external["case_id"] = [f"e{i:03d}" for i in range(n_external)]
    external.loc[0, "outcome"] = np.nan  # a kept case need not have everything filled
    external.loc[1, "patient_id"] = None
    data = pd.concat([external.iloc[:3], data, external.iloc[3:]], ignore_index=True)
    data.insert(1, "cohort", ["external"] * 3 + [""] * n_split + ["prospective"] * 3)
    return data


@pytest.mark.parametrize("seed", [0, 7])
def test_keep_leaves_named_cohorts_and_splits_the_rest_as_alone(seed):
    data = _with_external()
    split = split_cohort(data, keep=("external", "prospective"), test_size=0.3,
                         group_identical_images=False, random_state=seed)  # fmt: skip
    alone = split_cohort(data[data["cohort"] == ""].drop(columns="cohort"), test_size=0.3,
                         group_identical_images=False, random_state=seed)  # fmt: skip
    assert list(split.cohorts.index) == list(data["case_id"])  # every case, in manifest order
    assert list(split.manifest["case_id"]) == list(data["case_id"])
    kept = data.set_index("case_id")["cohort"]
    kept = kept[kept != ""]
    assert split.cohorts[kept.index].equals(kept.rename("cohort"))
    assert split.kept.equals(kept.rename("cohort"))
    rest = split.cohorts.drop(kept.index)
    assert rest.equals(alone.cohorts)  # the remaining cases: exactly the split of them alone
    assert split.summary.equals(alone.summary)
    assert split.manifest["cohort"].tolist() == split.cohorts.tolist()
    assert "external 3 cases kept" in repr(split) and "prospective 3 cases kept" in repr(split)
    again = split_cohort(data, keep=["prospective", "external"], test_size=0.3,
                         group_identical_images=False, random_state=seed)  # fmt: skip
    assert again.cohorts.equals(split.cohorts)


@pytest.mark.parametrize("kwargs, match", [
    ({"keep": ("external",)}, r"cohorts that are not kept \(prospective 3; cases e003, e004"),
    ({"keep": ("external", "Prospective")}, r"no case is in cohort Prospective; the manifest's "
                                            r"`cohort` column has external \(3 cases\), "
                                            r"prospective \(3 cases\)"),
    ({"keep": ("external", "prospective"), "train_name": "prospective"},
     r"prospective is also the name of a cohort the split writes"),
    ({"keep": ("external", "prospective"), "test_name": "external"}, "also the name"),
    ({"keep": ("external", "")}, "no empty one"),
    ({"keep": ()}, "at least one cohort"),
    ({"keep": 3}, "must be a cohort name or a list"),
])  # fmt: skip
def test_keep_refuses_bad_names(kwargs, match):
    with pytest.raises(InputError, match=match):
        split_cohort(_with_external(), group_identical_images=False, **kwargs)


def test_keep_refuses_a_manifest_without_cohorts_or_without_cases_to_split():
    data = table(range(10), [0, 1] * 5)
    with pytest.raises(InputError, match=r"keep=\['external'\] needs a `cohort` column"):
        split_cohort(data, keep="external", group_identical_images=False)
    data["cohort"] = "external"
    with pytest.raises(InputError, match="no case is left to split"):
        split_cohort(data, keep="external", group_identical_images=False)


def test_keep_refuses_a_patient_or_an_image_in_a_kept_and_a_split_case(pool):
    data = _with_external()
    data.loc[data["case_id"] == "e002", "patient_id"] = "p4"  # also case c004's patient
    with pytest.raises(InputError, match=r"c004 and e002 \(external\): patient p4"):
        split_cohort(data, keep=["external", "prospective"], group_identical_images=False)
    split_cohort(data, keep=["external", "prospective"], groups=None,
                 group_identical_images=False)  # fmt: skip
    n = len(data)
    images = [str(pool / f"img{i % N_CONTENTS}_{i // N_CONTENTS}.png") for i in range(n)]
    data = _with_external().assign(tumor_image=images)
    # rows 0-2 (e000..e002) and rows 12-14 (c009..c011) hold copies of contents 0-2
    with pytest.raises(InputError, match=r"c009 and e000 \(external\): identical image file"):
        split_cohort(data, keep=["external", "prospective"])


def test_cli_split_keep(tmp_path, capsys):
    path = _manifest_file(tmp_path / "data", n=16)
    text = path.read_text().splitlines()
    for k in (1, 2, 3, 4):  # cases 000-003 (patients P0, P1) come from another hospital
        text[k] = text[k].replace(f"{k - 1:03d},,", f"{k - 1:03d},external,", 1)
    path.write_text("\n".join(text) + "\n")
    out = tmp_path / "split.csv"
    args = ["split", str(path), "--keep", "external", "--seed", "2", "--out", str(out)]
    assert main(args) == 1  # 000 (external) and 015 have the same image bytes
    assert "015 and 000 (external): identical image file" in capsys.readouterr().err
    args.insert(2, "--ignore-identical-images")
    assert main(args) == 0
    assert "external 4 cases kept" in capsys.readouterr().out
    written = read_manifest(out).table["cohort"]
    assert list(written.iloc[:4]) == ["external"] * 4
    assert set(written.iloc[4:]) == {"train", "test"}
    with pytest.warns(DataWarning):  # patients with a 0 and a 1 lesion
        expected = split_cohort(path, keep=["external"], random_state=2,
                                group_identical_images=False)  # fmt: skip
    assert written.equals(expected.cohorts.rename("cohort"))
    assert main([*args[:4], "external,", *args[5:]]) == 2
    assert "--keep 'external,': give cohort names" in capsys.readouterr().err
    assert main([*args[:4], "external,Prospective", *args[5:]]) == 1
    assert "no case is in cohort Prospective" in capsys.readouterr().err
    assert main(["split", str(path), "--out", str(out)]) == 1  # without --keep: refused as before
    assert "already assigns cohorts (external 4)" in capsys.readouterr().err
