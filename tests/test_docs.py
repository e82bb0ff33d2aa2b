"""Documentation stays in step with the code: API page, links between pages, README commands."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import radiomics_aln as ra

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_api_page_is_up_to_date():
    render = runpy.run_path(str(ROOT / "tools" / "make_api_doc.py"))["render"]
    committed = (DOCS / "api.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/api.md is stale: run `python tools/make_api_doc.py`"


def test_every_public_name_is_documented_on_the_api_page():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [n for n in ra.__all__ if n != "__version__" and f"`{n}`" not in text]
    assert not missing


def test_relative_links_in_docs_and_readme_resolve():
    broken = []
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2, commands
    main_cmd, test_cmd = commands
    assert "radiomics-aln demo" in main_cmd
    assert "pytest" in test_cmd
    assert test_cmd in ci.splitlines()
