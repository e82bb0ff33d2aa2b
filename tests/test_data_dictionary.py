"""Tests of radiomics_aln.data_dictionary: labels, units, level labels and odds-ratio units."""

from __future__ import annotations

import pytest

from radiomics_aln.config import StudyConfig
from radiomics_aln.data_dictionary import DataDictionary, Variable, default_label
from radiomics_aln.exceptions import InputError


@pytest.mark.parametrize(
    ("column", "label", "unit"),
    [
        ("size_mm", "Size", "mm"),
        ("tumor_size_cm", "Tumor size", "cm"),
        ("age", "Age", None),
        ("age_years", "Age", "years"),
        ("aln_metastasis", "ALN metastasis", None),
        ("ki67_pct", "Ki-67", "%"),
        ("birads", "BI-RADS", None),
        ("ln_cortex_thickness_mm", "LN cortex thickness", "mm"),
        ("mm", "Mm", None),  # a lone unit word is a name, not a unit
        ("Margin", "Margin", None),
    ],
)
def test_default_label(column, label, unit):
    assert default_label(column) == (label, unit)


def test_declared_entries_override_defaults():
    dd = DataDictionary(
        {
            "age": {"label": "Age at diagnosis", "unit": "years", "per": 10},
            "size_mm": "Tumour size",  # shorthand: the label only; the unit stays generated
            "aln": {"label": "ALN status", "levels": {0: "N0", 1: "N+"}},
        }
    )
    assert dd.axis_label("age") == "Age at diagnosis (years)"
    assert dd.per("age") == 10.0 and dd.per_text("age") == "per 10 years"
    assert dd.axis_label("size_mm") == "Tumour size (mm)"
    # level keys match whatever type the data holds
    assert dd.level("aln", 1) == dd.level("aln", 1.0) == dd.level("aln", "1") == "N+"
    assert dd.level("aln", True) == "N+"
    assert dd.level("other", 0) == "No" and dd.level("other", "lobular") == "lobular"
    # with the column's levels known, No/Yes is for 0/1 columns only (grade 1/2/3 stays "1")
    assert dd.level("grade", 1, levels=[1, 2, 3]) == "1"
    assert dd.level("grade", "1", levels=["1", "2", "3"]) == "1"
    assert dd.level("other", 1, levels=[0, 1]) == "Yes" and dd.level("aln", 1, levels=[1, 2]) == "N+"
    assert "age" in dd and "other" not in dd
    table = dd.table(["age", "aln", "other_mm"])
    assert table["declared"].tolist() == [True, True, False]
    assert table.loc[2, "unit"] == "mm"
    assert DataDictionary(dd.to_dict()).to_dict() == dd.to_dict()


def test_with_defaults_declared_entries_win():
    dd = DataDictionary({"ln_score": "Node score"}).with_defaults(
        {"ln_score": "LN radiomics score", "tumor_score": "Tumor radiomics score"}
    )
    assert dd.label("ln_score") == "Node score"
    assert dd.label("tumor_score") == "Tumor radiomics score"


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"label": ""}, "non-empty"),
        ({"label": "Age", "per": 0}, "positive number"),
        ({"label": "Age", "per": float("nan")}, "positive number"),
        ({"label": "Age", "per": True}, "positive number"),
        ({"label": "Age", "units": "years"}, "unknown key.*units"),
        ({"label": "Age", "levels": ["a", "b"]}, "levels of 'Age' must be a mapping"),
        (3, "must be a mapping"),
    ],
)
def test_bad_entries_name_the_column(entry, match):
    with pytest.raises(InputError, match=match) as err:
        DataDictionary({"age": entry})
    assert "'age'" in str(err.value)


def test_study_config_variables():
    cfg = StudyConfig.from_dict({"variables": {"age": {"label": "Age", "per": 10}}})
    dd = cfg.data_dictionary()
    assert dd.per_text("age") == "per 10 units"
    assert dd.label("tumor_score") == "Tumor radiomics score"
    assert cfg.to_dict()["variables"] == {"age": {"label": "Age", "per": 10}}
    with pytest.raises(InputError, match="variables: .*'age'.*positive"):
        StudyConfig.from_dict({"variables": {"age": {"label": "Age", "per": -1}}})
    with pytest.raises(InputError, match="variables must be a mapping"):
        StudyConfig.from_dict({"variables": ["age"]})


def test_yaml_round_trip(tmp_path):
    cfg = StudyConfig(variables={"aln": {"label": "ALN", "levels": {0: "No", 1: "Yes"}}})
    path = tmp_path / "study.yaml"
    cfg.to_yaml(path)
    back = StudyConfig.from_yaml(path).data_dictionary()
    assert back.level("aln", 1) == "Yes"
    assert isinstance(back.variable("aln"), Variable)
