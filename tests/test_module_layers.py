"""The package's modules form layers: each imports only the layers below it.

The import graph of ``sknumpynet/`` is read from the source (``ast``, nothing
is imported) and checked against the layer order below: no circle, no module
importing one of its own layer or above, and no import of a package module
inside a function (a lazy import exists only to hide a circle). Optional
third-party packages (skl2onnx, matplotlib) may still be imported lazily.
"""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sknumpynet"

#: Lowest first. A module may import modules of the layers before its own.
LAYERS = [
    # the NumPy core
    ["_version", "_activations"],
    ["_losses"],
    ["_parameters", "_minibatch"],
    ["_network", "_optimizers", "_tabular_network"],
    # the facts read from an estimator, then the training loop
    ["_model"],
    # the input checks every entry point shares
    ["_validation"],
    ["_training", "_callbacks", "_export", "_docs", "_serving", "_sample_weight"],
    # raw tabular data into network inputs
    ["_tabular_preprocessing"],
    # the estimators: one shared base, two families
    ["_base"],
    ["_estimators", "_tabular"],
    # around the estimators
    ["_codec", "_onnx_tabular"],
    ["_persistence", "_onnx", "_features", "_display", "_gradcheck"],
    ["__init__"],
    ["__main__"],
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _package_imports(tree):
    """(imported module, lazy?) for every import of a sknumpynet module."""
    found = []
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    lazy_nodes = {id(n) for f in functions for n in ast.walk(f)}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from ._x import y
                names = [node.module.split(".")[0]]
            elif node.level == 1:  # from . import _x, __version__
                names = [alias.name for alias in node.names]
            elif (node.module or "").startswith("sknumpynet"):
                parts = node.module.split(".")
                names = [parts[1]] if len(parts) > 1 else ["__init__"]
        elif isinstance(node, ast.Import):
            names = [
                alias.name.split(".")[1] if "." in alias.name else "__init__"
                for alias in node.names
                if alias.name.startswith("sknumpynet")
            ]
        for name in names:
            found.append((name, id(node) in lazy_nodes))
    return found


@functools.cache  # parsed once per test process; the tests only read it
def _graph():
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[path.stem] = [
            (name, lazy)
            for name, lazy in _package_imports(tree)
            if (PACKAGE / f"{name}.py").exists()
        ]
    return graph


def test_every_module_has_a_layer():
    assert set(_graph()) == set(LEVEL), "add new modules to LAYERS"


@pytest.mark.parametrize("module", sorted(LEVEL))
def test_module_imports_only_layers_below(module):
    for imported, lazy in _graph()[module]:
        assert not lazy, f"{module} imports {imported} inside a function"
        assert LEVEL[imported] < LEVEL[module], (
            f"{module} (layer {LEVEL[module]}) imports {imported} "
            f"(layer {LEVEL[imported]}): imports must point down"
        )


def test_the_import_graph_has_no_circle():
    graph = {m: {name for name, _ in imports} for m, imports in _graph().items()}
    visiting, done = set(), set()

    def visit(module, path):
        assert module not in visiting, f"import circle: {' -> '.join(path)}"
        if module in done:
            return
        visiting.add(module)
        for imported in graph[module]:
            visit(imported, [*path, imported])
        visiting.remove(module)
        done.add(module)

    for module in graph:
        visit(module, [module])


def test_the_checker_sees_lazy_and_upward_imports():
    # The checker itself: a lazy import and an upward one are both found.
    source = (
        "from ._network import MLP\n"
        "def f():\n"
        "    from ._estimators import NumpyMLPClassifier\n"
        "    from . import _persistence\n"
    )
    found = _package_imports(ast.parse(source))
    assert found == [("_network", False), ("_estimators", True), ("_persistence", True)]
