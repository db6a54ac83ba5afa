"""The package's layers, checked from its imports (docs/architecture.md).

Each rule is a function of the import graph, which is read from the source
with :mod:`ast` (nothing is imported), so a rule broken by a new import fails
here before anyone has to notice it in a review. The checks themselves are
tested on small planted packages at the bottom.
"""

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "nnstudy"

# Modules that run training: analysis and report read results, never make them.
TRAINING = ("study", "core.training", "core.fused", "core.engines")
THIRD_PARTY_IN_CORE = {"numpy"}
LONG_MODULE_LINES = 400
LONG_MODULE_MARK = "Long module:"


def module_name(path, root):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(base, name, modules):
    """``from base import name``: the submodule ``base.name`` if there is one, else ``base``."""
    candidate = f"{base}.{name}" if base else name
    return candidate if candidate in modules else base


def imports(root):
    """{module: (set of package modules it imports, set of outside top-level packages)}."""
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    modules = set(paths)
    graph = {}
    for module, path in paths.items():
        inner, outer = set(), set()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top, _, rest = alias.name.partition(".")
                    if top == root.name:
                        inner.add(rest)
                    else:
                        outer.add(top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    up = package.split(".") if package else []
                    up = up[: len(up) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                else:
                    top, _, rest = (node.module or "").partition(".")
                    if top != root.name:
                        outer.add(top)
                        continue
                    base = rest
                for alias in node.names:
                    target = _resolve(base, alias.name, modules)
                    if target:
                        inner.add(target)
        graph[module] = (inner - {module, ""}, outer)
    return graph


def within(module, layer):
    return module == layer or module.startswith(layer + ".")


def layer_violations(graph):
    """Every import that breaks rules 1-3, as readable lines."""
    found = []
    for module, (inner, outer) in sorted(graph.items()):
        for target in sorted(inner):
            if within(module, "core") and not (within(target, "core") or target == "errors"):
                found.append(f"{module} imports {target}: core/ imports only core/ and errors")
            if (within(module, "core") or within(module, "study")) and (
                within(target, "analysis") or within(target, "report")
            ):
                found.append(f"{module} imports {target}: core/ and study/ never import analysis/ or report/")
            if (within(module, "analysis") or within(module, "report")) and any(
                within(target, t) for t in TRAINING
            ):
                found.append(f"{module} imports {target}: analysis/ and report/ never import training code")
            if within(target, "report") and not (within(module, "report") or module == "cli"):
                found.append(f"{module} imports {target}: only cli and the workflow import report/")
        if within(module, "core"):
            for name in sorted(outer - THIRD_PARTY_IN_CORE - set(sys.stdlib_module_names)):
                found.append(f"{module} imports {name}: core/ imports only numpy outside the standard library")
    return found


def cycles(graph):
    """Every import cycle, each as a list of modules (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ((), ()))[0]:
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            # A package's __init__ importing its own submodules is not a cycle of layers.
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def long_modules(root, limit=LONG_MODULE_LINES):
    """Modules over ``limit`` lines that do not say at their top why they are long."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text().splitlines()
        if len(lines) > limit and not any(LONG_MODULE_MARK in line for line in lines[:40]):
            found.append(f"{path.relative_to(root)}: {len(lines)} lines")
    return found


def workflow_report_importers():
    """Workflow files and scripts are the report's other callers: they may import it."""
    return [p for p in (REPO / "workflow").rglob("*") if p.suffix in (".py", ".smk")]


# --- the package --------------------------------------------------------------


def test_layers_keep_their_import_rules():
    assert layer_violations(imports(PACKAGE)) == []


def test_no_import_cycles():
    assert cycles(imports(PACKAGE)) == []


def test_long_modules_say_why():
    assert long_modules(PACKAGE) == []


def test_lectures_hold_numbers_only():
    graph = imports(PACKAGE)
    drawn = [m for m, (inner, outer) in graph.items() if within(m, "lectures") and "matplotlib" in outer]
    assert drawn == [], "lecture experiments compute tables; their figures live in report/"


# --- the checks, on planted packages -------------------------------------------


def plant(root, files):
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in (root / "pkg").rglob("*"):
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    (root / "pkg" / "__init__.py").touch()
    return root / "pkg"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/net.py": "import pandas\n"}, "core.net imports pandas"),
        ({"core/net.py": "from pkg import io\n", "io.py": ""}, "core.net imports io"),
        ({"study/grid.py": "from pkg.report import page\n", "report/page.py": ""}, "study.grid imports report.page"),
        ({"report/page.py": "from pkg.study import grid\n", "study/grid.py": ""}, "report.page imports study.grid"),
        ({"analysis/t.py": "from ..core import training\n", "core/training.py": ""}, "analysis.t imports core.training"),
        ({"lectures/depth.py": "from pkg.report import figures\n", "report/figures.py": ""}, "lectures.depth imports"),
    ],
)
def test_a_planted_violation_is_named(tmp_path, files, expected):
    found = layer_violations(imports(plant(tmp_path, files)))
    assert any(line.startswith(expected) for line in found), found


def test_allowed_imports_pass(tmp_path):
    root = plant(
        tmp_path,
        {
            "core/net.py": "import math\nimport numpy as np\nfrom pkg.errors import invalid\n",
            "errors.py": "",
            "report/page.py": "from pkg.core import network\nfrom pkg.analysis import tables\n",
            "core/network.py": "",
            "analysis/tables.py": "import pandas\n",
            "cli.py": "from pkg.report import page\n",
        },
    )
    assert layer_violations(imports(root)) == []


def test_a_planted_cycle_is_found(tmp_path):
    root = plant(tmp_path, {"a.py": "from pkg import b\n", "b.py": "from pkg.c import x\n", "c.py": "import pkg.a\n"})
    assert cycles(imports(root)) == [["a", "b", "c"]]


def test_a_long_module_needs_its_reason(tmp_path):
    root = plant(tmp_path, {"big.py": "x = 1\n" * 401, "ok.py": f'"""{LONG_MODULE_MARK} one table per line."""\n' + "x = 1\n" * 401})
    assert long_modules(root) == ["big.py: 401 lines"]
