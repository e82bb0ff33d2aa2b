"""The package namespace: every public name resolves, and importing a stage stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import radiomics_aln as ra

INIT = Path(ra.__file__)
HEAVY = ("sklearn", "statsmodels", "pingouin", "matplotlib", "scipy.stats")


def _type_checking_imports() -> dict[str, str]:
    """name -> module, from the ``if TYPE_CHECKING:`` block of ``__init__.py``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(
        n
        for n in tree.body
        if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    out = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            out[alias.asname or alias.name] = node.module.rsplit(".", 1)[-1]
    return out


EAGER = {"report": "report"}


def test_type_checking_imports_match_all():
    """What type checkers and IDEs see (the TYPE_CHECKING block) is every public name."""
    public = set(ra.__all__) - {"__version__"}
    lazy = _type_checking_imports()
    assert set(lazy) | set(EAGER) == public
    assert not set(lazy) & set(EAGER)
    assert len(ra.__all__) == len(set(ra.__all__))


@pytest.mark.parametrize("name", sorted(set(ra.__all__) - {"__version__"}))
def test_every_public_name_is_its_modules_object(name):
    """At run time each public name is the object of the module the TYPE_CHECKING block names."""
    where = {**_type_checking_imports(), **EAGER}[name]
    module = importlib.import_module(f"radiomics_aln.{where}")
    assert getattr(ra, name) is getattr(module, name)
    assert name in dir(ra)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'extract_feature'"):
        ra.extract_feature  # noqa: B018
    assert not hasattr(ra, "nonexistent")


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_package_is_light():
    loaded = _modules_after("import radiomics_aln")
    assert not {m for m in (*HEAVY, "SimpleITK", "radiomics") if m in loaded}


def test_report_stays_the_function_after_its_module_is_imported():
    # radiomics_aln.report is both a module and a public function (see __init__.py)
    out = subprocess.run(
        [sys.executable, "-c", "import radiomics_aln.report, radiomics_aln as ra; "
         "ra.Study; print(callable(ra.report), type(ra.report).__name__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["True", "function"]


def test_extraction_workers_do_not_import_the_statistics_stack():
    # A joblib worker unpickles radiomics_aln.extraction's task function: it must not pay for
    # scikit-learn, statsmodels, pingouin or matplotlib (about a second per worker start).
    loaded = _modules_after("import radiomics_aln.extraction")
    assert not {m for m in HEAVY if m in loaded}


def test_star_import_gives_every_public_name():
    namespace: dict = {}
    exec("from radiomics_aln import *", namespace)
    assert set(ra.__all__) <= set(namespace)


def test_top_level_fits_on_one_page():
    # issue 14: the notebook names only (~40); everything else is imported from its module
    assert 30 <= len(ra.__all__) <= 45
    assert "ring_rois" not in ra.__all__ and "youden_threshold" not in ra.__all__


def test_exceptions_module_is_reachable_from_the_package():
    out = subprocess.run(
        [sys.executable, "-c", "import radiomics_aln as ra; print(ra.exceptions.InputError.__name__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.split() == ["InputError"]
