"""The package layout (issue 26).

Checked: no import loop between packages, names exported one way, leaf defaults equal to the
library's, and a command line that starts without the heavy libraries.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "tmstarget"
HEAVY = (
    "numpy",
    "pandas",
    "scipy",
    "nibabel",
    "matplotlib",
    "nilearn",
    "statsmodels",
    "jinja2",
    "dask",
)


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tmstarget" else None


def package_graph() -> dict[str, set[str]]:
    """Top-level package/module -> the top-level packages/modules it imports.

    Function-level imports are included.
    """
    graph: dict[str, set[str]] = {}
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(SRC).with_suffix("").parts
        if len(rel) < 2 or rel[1] == "__init__":
            continue
        me = rel[1]
        mod = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        pkg = mod if f.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for n in names:
                t = _top(n)
                if t and t != me and ((PKG / t).is_dir() or (PKG / f"{t}.py").exists()):
                    graph.setdefault(me, set()).add(t)
    return graph


def test_no_import_loop_between_packages():
    graph = package_graph()
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                loops.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert loops == []
    assert "trial" not in graph["outcomes"] and "targeting" not in graph["surface"]


def test_root_docstring_lists_modules_that_exist():
    import tmstarget

    listed = re.findall(r"^``(\w+)``", tmstarget.__doc__, re.M)
    assert {"io", "targeting", "protocol", "trial", "visits", "cli"} <= set(listed)
    assert [m for m in listed if not ((PKG / m).is_dir() or (PKG / f"{m}.py").exists())] == []


@pytest.mark.parametrize(
    "package",
    [
        "coil",
        "cohort",
        "export",
        "io",
        "outcomes",
        "protocol",
        "report",
        "simulate",
        "surface",
        "targeting",
        "targeting.uncertainty",
        "trial",
    ],
)
def test_every_package_exports_lazily(package):
    import importlib

    text = (PKG / package.replace(".", "/") / "__init__.py").read_text()
    assert "lazy_exports(" in text and not re.search(r"^from \.\w+ import", text, re.M)
    mod = importlib.import_module(f"tmstarget.{package}")
    exports = getattr(mod, "_EXPORTS", None)
    if exports is not None:  # the lazy table and __all__ list the same names
        assert set(exports) == set(mod.__all__)
    for name in mod.__all__:
        assert getattr(mod, name) is not None


def test_leaf_defaults_equal_the_library():
    from tmstarget import compare, defaults, scalp
    from tmstarget.coil import defaults as coil_defaults
    from tmstarget.coil.models import DEFAULT_COIL, PRESETS
    from tmstarget.export import brainsight
    from tmstarget.export import defaults as export_defaults
    from tmstarget.io import confounds
    from tmstarget.io import defaults as io_defaults
    from tmstarget.outcomes import defaults as outcome_defaults
    from tmstarget.outcomes.scales import SCALES

    assert sorted(coil_defaults.COIL_KEYS) == sorted(PRESETS) and DEFAULT_COIL in PRESETS
    assert sorted(outcome_defaults.SCALE_KEYS) == sorted(SCALES)
    assert (
        confounds.STRATEGIES is io_defaults.STRATEGIES
        and confounds.DEFAULT_STRATEGY in confounds.STRATEGIES
    )
    assert brainsight.COORDINATE_SYSTEMS is export_defaults.COORDINATE_SYSTEMS
    assert scalp.RULES == defaults.SCALP_RULES and compare.WEIGHTINGS == defaults.WEIGHTINGS


def _modules_after_help(argv: list[str]) -> set[str]:
    code = (
        "import sys\nfrom tmstarget.cli.main import main\ntry:\n "
        "   main(sys.argv[1:])\nexcept SystemExit:\n   "
        " pass\n"
        "print('MODULES:', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    ).stdout
    line = [ln for ln in out.splitlines() if ln.startswith("MODULES:")][-1]
    return set(line.split()[1:])


def test_help_imports_no_heavy_library():
    from tmstarget.cli.parser import command_names

    assert not _modules_after_help(["--help"]) & set(HEAVY)
    for name in command_names():
        loaded = _modules_after_help([name, "--help"]) & set(HEAVY)
        assert not loaded, f"tmstarget {name} --help imports {sorted(loaded)}"


#: Suites that check a contract across every command rather than one module.
CROSS_CUTTING = ("bad_inputs", "outputs_regression", "package_layout", "workflows")


def _module_names() -> set[str]:
    """Return every module and package of tmstarget, dotted path joined by ``_``."""
    names = set()
    for path in PKG.rglob("*.py"):
        parts = path.relative_to(PKG).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if parts:
            names.add("_".join(p.lstrip("_") for p in parts))
    return names


def test_test_files_are_named_after_what_they_test():
    modules = _module_names()
    misnamed = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        name = path.stem[len("test_") :]
        if name.startswith(CROSS_CUTTING):
            continue
        if not any(name == m or name.startswith(m + "_") for m in modules):
            misnamed.append(path.name)
    assert misnamed == []
    assert {"targeting_selection", "coil_landscape", "cli", "utils_points"} <= modules
