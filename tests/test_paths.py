"""Only nnstudy.paths spells a results/ path: the rules and the package call it."""

import ast
import re
from pathlib import Path

import pytest

from nnstudy import paths

REPO = Path(paths.__file__).resolve().parents[2]
PYTHON = sorted(
    [p for p in (REPO / "src" / "nnstudy").rglob("*.py") if p.name != "paths.py"]
    + list((REPO / "workflow" / "scripts").glob("*.py")),
)
RULES = sorted([REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")])
SPELLED = re.compile(r"""["'/]results(/|["'])""")


def _code_strings(path):
    """String constants of a module that are not docstrings (prose may name a path)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_spells_a_results_path(path):
    spelled = [s for s in _code_strings(path) if s == "results" or SPELLED.search(f'"{s}"')]
    assert not spelled, f"{path.name} spells {spelled}: use nnstudy.paths"


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_no_rule_file_spells_a_results_path(path):
    code = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if SPELLED.search(line)]


def test_a_path_function_gives_the_pattern_and_the_file():
    assert paths.tuning_curve() == "results/tuning/{dataset}/{optimizer}.csv"
    assert paths.tuning_curve("circles", "adam") == "results/tuning/circles/adam.csv"
    assert paths.run_rows(**{"dataset": "moons", "optimizer": "gd", "regularizer": "l2"}) == "results/runs/moons/gd/l2.csv"
    assert paths.table("summary", "tex") == "results/tables/summary.tex"
