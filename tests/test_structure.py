"""The package's shape, read from its source with ``ast`` (nothing is imported or run).

- no import cycles between our modules (module-level and function-level imports count; imports
  under ``if TYPE_CHECKING:`` do not);
- no module imports another module's private name (``from radiomics_aln.x import _y``, or
  ``x._y`` on an imported module). Shared private *modules* (``_validation``, ``_collation``,
  ``_plotting``, ...) may be imported; their underscore names may not;
- no module over 1 000 lines and no function over 100 code lines (docstrings, blank and comment
  lines excluded) unless ``ALLOWED`` names it with the reason;
- no import of scikit-learn's private modules or names (``sklearn.utils._param_validation``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "radiomics_aln"
ROOT_NAME = "radiomics_aln"
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 100

#: "module.py" or "module.py:function" -> why it may exceed the limit.
ALLOWED: dict[str, str] = {}



@dataclass
class Module:
    name: str  # dotted, e.g. radiomics_aln.roi
    path: Path
    source: str
    tree: ast.Module
    imports: list[tuple[str, list[str], int]] = field(default_factory=list)  # (module, names, line)
    attributes: list[tuple[str, str, int]] = field(default_factory=list)  # (module, name, line)


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _walk(node: ast.AST):
    """ast.walk that skips the bodies of ``if TYPE_CHECKING:`` blocks (not their else)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if _is_type_checking(n):
            todo.extend(n.orelse)
            continue
        todo.extend(ast.iter_child_nodes(n))


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _load() -> dict[str, Module]:
    mods = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        source = path.read_text(encoding="utf-8")
        mods[name] = Module(name, path, source, ast.parse(source))
    for mod in mods.values():
        is_package = mod.path.name == "__init__.py"
        aliases: dict[str, str] = {}  # local name -> our module it is bound to
        for node in _walk(mod.tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(mod.name, is_package, node.level, node.module)
                names = [a.name for a in node.names]
                mod.imports.append((target, names, node.lineno))
                for a in node.names:
                    if f"{target}.{a.name}" in mods:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    mod.imports.append((a.name, [], node.lineno))
                    if a.asname and a.name in mods:
                        aliases[a.asname] = a.name
        for node in _walk(mod.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                mod.attributes.append((aliases[node.value.id], node.attr, node.lineno))
    return mods


MODULES = _load()


def _rel(mod: Module) -> str:
    return str(mod.path.relative_to(PKG.parent))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for mod in MODULES.values():
        deps = set()
        for target, names, _ in mod.imports:
            if not target.startswith(ROOT_NAME):
                continue
            if names:
                for n in names:
                    deps.add(f"{target}.{n}" if f"{target}.{n}" in MODULES else target)
            else:
                deps.add(target)
        # the package __init__ re-exports lazily: an edge to it is not an edge to a module
        edges[mod.name] = {
            d
            for d in deps
            if d in MODULES
            and d != mod.name
            and d != ROOT_NAME
            and not mod.name.startswith(d + ".")
        }
    return edges


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def find_private_imports() -> list[str]:
    found = []
    for mod in MODULES.values():
        for target, names, line in mod.imports:
            if not target.startswith(ROOT_NAME) or target == mod.name:
                continue
            for n in names:
                if _private(n) and f"{target}.{n}" not in MODULES:
                    found.append(f"{_rel(mod)}:{line}: from {target} import {n}")
        for target, attr, line in mod.attributes:
            if target != mod.name and _private(attr) and f"{target}.{attr}" not in MODULES:
                found.append(f"{_rel(mod)}:{line}: {target.rsplit('.', 1)[-1]}.{attr}")
    return sorted(set(found))


def _docstring_lines(node: ast.AST) -> set[int]:
    """Lines of the docstrings of a function and of the functions and classes nested in it."""
    lines: set[int] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.body:
            first = n.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(func: ast.FunctionDef | ast.AsyncFunctionDef, source_lines: list[str]) -> int:
    """Non-blank, non-comment lines of a function's body, docstrings excluded."""
    covered: set[int] = set()
    for stmt in func.body:
        covered.update(range(stmt.lineno, stmt.end_lineno + 1))
    covered -= _docstring_lines(func)
    return sum(
        1
        for i in covered
        if source_lines[i - 1].strip() and not source_lines[i - 1].strip().startswith("#")
    )


def find_long_modules() -> list[str]:
    found = []
    for mod in MODULES.values():
        n = len(mod.source.splitlines())
        if mod.path.name != "__init__.py" and n > MAX_MODULE_LINES and mod.path.name not in ALLOWED:
            found.append(f"{_rel(mod)}: {n} lines")
    return found


def find_long_functions() -> list[str]:
    found = []
    for mod in MODULES.values():
        lines = mod.source.splitlines()
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = code_lines(node, lines)
                if n > MAX_FUNCTION_LINES and f"{mod.path.name}:{node.name}" not in ALLOWED:
                    found.append(f"{_rel(mod)}:{node.lineno} {node.name}: {n} code lines")
    return found


def find_sklearn_private() -> list[str]:
    found = []
    for mod in MODULES.values():
        for target, names, line in mod.imports:
            if target != "sklearn" and not target.startswith("sklearn."):
                continue
            bad = [p for p in target.split(".") if _private(p)] + [n for n in names if _private(n)]
            if bad:
                what = f"from {target} import {', '.join(names)}" if names else f"import {target}"
                found.append(f"{_rel(mod)}:{line}: {what}")
    return found


# ------------------------------------------------------------------------------ the checks
def _report(items: list[str]) -> str:
    return f"{len(items)} found:\n  " + "\n  ".join(items)


def test_no_import_cycles():
    cycles = find_cycles(_edges())
    assert not cycles, _report([" <-> ".join(c) for c in cycles])


def test_no_module_imports_another_modules_private_name():
    found = find_private_imports()
    assert not found, _report(found)


def test_no_module_over_1000_lines():
    found = find_long_modules()
    assert not found, _report(found)


def test_no_function_over_100_code_lines():
    found = find_long_functions()
    assert not found, _report(found)


def test_no_scikit_learn_private_import():
    found = find_sklearn_private()
    assert not found, _report(found)


def test_allowed_entries_exist_and_say_why():
    """An ALLOWED entry names a module or function that exists, with a reason."""
    functions = {
        f"{m.path.name}:{n.name}"
        for m in MODULES.values()
        for n in ast.walk(m.tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    files = {m.path.name for m in MODULES.values()}
    for key, why in ALLOWED.items():
        assert key in functions | files, f"ALLOWED names {key!r}, which does not exist"
        assert len(why.split()) >= 3, f"ALLOWED[{key!r}] needs a reason"


# ------------------------------------------------------------------ the checks can fail
def test_the_checkers_find_what_they_look_for():
    """Each checker on a small made-up case: a cycle, a private import, a long function."""
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    src = "def f():\n    '''doc\n\n    more doc'''\n    # comment\n\n    x = 1\n    return x\n"
    func = ast.parse(src).body[0]
    assert code_lines(func, src.splitlines()) == 2
    # the real package: modules were found and imports resolved, so an empty answer means
    # something (a cycle check over no edges would pass vacuously)
    assert len(MODULES) > 10 and f"{ROOT_NAME}.exceptions" in MODULES
    assert sum(len(e) for e in _edges().values()) > 20
    assert any(t.startswith("sklearn") for m in MODULES.values() for t, _, _ in m.imports)
    # TYPE_CHECKING-only imports do not count as edges
    init = MODULES[ROOT_NAME]
    assert not any(t.endswith(".calibration") for t, _, _ in init.imports)


# --------------------------------------------------------------------------- the fast suite


def _fast_test_files() -> dict[str, str]:
    """Test files with at least one test the default run (``-m 'not slow'``) collects."""
    out = {}
    for path in sorted((PKG.parent / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        module_slow = any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
            and "slow" in ast.unparse(node.value)
            for node in tree.body
        )
        if module_slow:
            continue
        fast = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test")
            and not any("mark.slow" in ast.unparse(d) for d in node.decorator_list)
        ]
        if fast:
            out[path.name] = text
    return out


def test_the_fast_suite_covers_every_public_module():
    """Every public module is exercised by the default (fast) run, not only by `-m slow`.

    Its doctests always run; this also asks for a test file with a fast test that imports it.
    """
    files = _fast_test_files()
    modules = sorted(
        p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_")
    )
    uncovered = []
    for mod in modules:
        pattern = re.compile(
            rf"radiomics_aln\.{mod}\b|from radiomics_aln import [^\n]*\b{mod}\b"
        )
        if f"test_{mod}.py" in files:
            continue
        if not any(pattern.search(text) for text in files.values()):
            uncovered.append(mod)
    assert not uncovered, f"modules without a fast test: {uncovered}"
