"""Docstrings and documentation: the examples run, the sections are there.

* Every ``>>>`` example in the package's docstrings runs as a doctest.
* Every public name has a numpydoc docstring with the sections users look for.
* The code of the user guide (``docs/**/*.rst``) runs as doctests too, so the
  documentation cannot drift from the package (skipped when the ``docs``
  directory is not there, as in an installed package).
"""

import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import sknumpynet

OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"

# ``python -m sknumpynet`` runs the demo: its module is not imported here.
MODULE_NAMES = sorted(
    info.name
    for info in pkgutil.walk_packages(sknumpynet.__path__, prefix="sknumpynet.")
    if not info.name.endswith("__main__")
)
PUBLIC_NAMES = [name for name in sknumpynet.__all__ if name != "__version__"]


def _run_doctests(tests):
    """Run doctests; return (attempted, failed, report)."""
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    return results.attempted, results.failed, "".join(report)


@pytest.mark.parametrize("module_name", MODULE_NAMES)
def test_module_docstring_examples(module_name):
    """Every ``>>>`` example in a module's docstrings runs and prints what it shows."""
    module = importlib.import_module(module_name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module_name)
    attempted, failed, report = _run_doctests(tests)
    assert failed == 0, report


def test_public_docstrings_have_examples_that_run():
    """The public estimators have doctested examples (not just none at all)."""
    tests = []
    for name in PUBLIC_NAMES:
        obj = getattr(sknumpynet, name)
        tests += doctest.DocTestFinder(exclude_empty=True).find(
            obj, f"sknumpynet.{name}", module=inspect.getmodule(obj)
        )
    attempted, failed, report = _run_doctests(tests)
    assert attempted > 0
    assert failed == 0, report


def _sections(docstring):
    """Names of the numpydoc sections: a line followed by a line of dashes."""
    lines = inspect.cleandoc(docstring or "").splitlines()
    return {
        line.strip()
        for line, underline in zip(lines, lines[1:])
        if line.strip()
        and re.fullmatch(r"-{3,}", underline.strip())
        and len(underline.strip()) == len(line.strip())
    }


def test_sections_parser():
    doc = """Summary.

    Parameters
    ----------
    x : int
        Something.

    Examples
    --------
    >>> 1
    1
    """
    assert _sections(doc) == {"Parameters", "Examples"}
    assert _sections("Summary only.") == set()


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_names_have_numpydoc_docstrings(name):
    """Each public name has a summary line and the main numpydoc sections."""
    obj = getattr(sknumpynet, name)
    docstring = inspect.getdoc(obj)
    assert docstring, f"{name} has no docstring"
    assert docstring.splitlines()[0].strip(), f"{name}'s docstring has no summary"
    sections = _sections(docstring)
    required = {"Examples"}
    is_exception = inspect.isclass(obj) and issubclass(obj, Exception)
    if inspect.isclass(obj) and not is_exception:
        required |= {"Parameters", "Attributes", "See Also"}
    elif not inspect.isclass(obj) and inspect.signature(obj).parameters:
        required.add("Parameters")
    missing = required - sections
    assert not missing, f"{name}'s docstring lacks the sections {sorted(missing)}"


def _own_public_methods(cls):
    """Public methods defined by sknumpynet (not inherited from scikit-learn)."""
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or not callable(member):
            continue
        defined_in = getattr(inspect.unwrap(member), "__module__", "") or ""
        if defined_in.startswith("sknumpynet"):
            yield name, member


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_methods_document_parameters_and_returns(name):
    """fit, partial_fit, predict... document their Parameters and Returns
    (Parameters only when they take any)."""
    cls = getattr(sknumpynet, name)
    if not inspect.isclass(cls) or issubclass(cls, Exception):
        pytest.skip(f"{name} is not a class with methods of its own")
    methods = dict(_own_public_methods(cls))
    assert methods, f"{name} defines no public method"
    if hasattr(cls, "fit"):
        assert "fit" in methods
    for method_name, method in methods.items():
        sections = _sections(inspect.getdoc(method))
        required = {"Returns"}
        arguments = set(inspect.signature(method).parameters) - {"self", "cls"}
        if arguments:
            required.add("Parameters")
        missing = required - sections
        assert not missing, f"{name}.{method_name} lacks {sorted(missing)}"


DOC_PAGES = sorted(DOCS_DIR.glob("**/*.rst")) if DOCS_DIR.is_dir() else []
DOC_PAGES = [
    page
    for page in DOC_PAGES
    if not {"_build", "generated", "auto_examples", "gen_modules", "_templates"}
    & set(page.relative_to(DOCS_DIR).parts)
]


@pytest.mark.skipif(not DOC_PAGES, reason="the docs/ directory is not available")
@pytest.mark.parametrize(
    "page", DOC_PAGES, ids=[str(p.relative_to(DOCS_DIR)) for p in DOC_PAGES]
)
def test_documentation_pages_doctests(page, tmp_path, monkeypatch):
    """The ``>>>`` code of the documentation pages runs and prints what it shows."""
    # Pages may save files (joblib.dump): keep them out of the repository.
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, page.name, str(page), 0)
    attempted, failed, report = _run_doctests([test])
    assert failed == 0, report
