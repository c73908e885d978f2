"""Sphinx configuration of the sknumpynet documentation.

Build (from the repository root, warnings as errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build is offline by default: no intersphinx inventories are fetched, no
remote images are used, and the maths is typeset by a copy of MathJax that the
build puts in ``_static`` (from the ``sphinx-mathjax-offline`` package of the
``docs`` extra), so the built pages read offline too. Set
``SKNUMPYNET_DOCS_ONLINE=1`` to enable intersphinx links to Python, NumPy,
SciPy, scikit-learn, joblib and Matplotlib.
"""

import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path

# Plots of the gallery are rendered without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

DOCS_DIR = Path(__file__).resolve().parent
# Local extensions (the gallery's sort key) live next to this file.
sys.path.insert(0, str(DOCS_DIR / "_sphinxext"))

import sknumpynet  # noqa: E402

# -- Project information -----------------------------------------------------

project = "sknumpynet"
author = "the sknumpynet developers"
copyright = "the sknumpynet developers"
version = sknumpynet.__version__
release = sknumpynet.__version__

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

ONLINE = os.environ.get("SKNUMPYNET_DOCS_ONLINE", "0") == "1"
if ONLINE:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "joblib": ("https://joblib.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# -- Maths: MathJax from the build, not from a CDN ---------------------------

# sphinx-mathjax-offline ships MathJax 3's release in its ``static/mathjax``
# folder; listing that folder's parent in html_static_path copies it to
# ``_static/mathjax`` and mathjax_path (relative to ``_static``) loads it there.
# The package is used as a data source only (not as an extension), so that the
# copy and the path are both stated here.
_MATHJAX_SPEC = importlib.util.find_spec("sphinx-mathjax-offline")
if _MATHJAX_SPEC is None or _MATHJAX_SPEC.origin is None:
    raise RuntimeError(
        "the docs need the sphinx-mathjax-offline package (MathJax for offline "
        'reading): python -m pip install ".[docs]"'
    )
MATHJAX_STATIC = Path(_MATHJAX_SPEC.origin).parent / "static"
mathjax_path = "mathjax/tex-chtml.js"
# The docstrings write names such as \text{fan\_in}: textmacros (shipped in
# the same copy) makes ``\_`` inside ``\text`` an underscore, not "\_".
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_typehints = "none"
# numpydoc must not add its own member tables: the class template lists the
# methods once (otherwise autosummary and numpydoc document them twice).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Run every plot_*.py script and capture its figures (Agg backend).
    "filename_pattern": r"plot_",
    "image_scrapers": ("matplotlib",),
    # The seed article's example first, then the others in a fixed order.
    "within_subsection_order": "gallery_order.SeedFirstSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sknumpynet",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML output -------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sknumpynet {release}"
html_static_path = [str(MATHJAX_STATIC)]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False

# -- Workarounds for package docstrings --------------------------------------

# In reStructuredText a word ending with "_" is a link target reference, so
# the bare ``(n_features_in_,)`` in the estimators' ``feature_names_in_``
# entry is an "Unknown target name" error. The docstring should quote it, as
# scikit-learn does: (`n_features_in_`,). Until it does, quote it here; once
# the docstring is fixed this does nothing.
_UNQUOTED_TARGETS = {"(n_features_in_,)": "(``n_features_in_``,)"}


def _quote_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        for bare, quoted in _UNQUOTED_TARGETS.items():
            if bare in line:
                lines[i] = line = line.replace(bare, quoted)


# The methods the estimators inherit from scikit-learn (score, get_params,
# set_fit_request, ...) keep scikit-learn's docstrings, which link to labels
# and glossary terms of scikit-learn's own documentation (``:ref:`mean
# accuracy <accuracy_score>```, ``:term:`meta-estimator```). Offline, without
# intersphinx, those targets do not exist: keep the link text, drop the link.
# Labels this documentation defines itself are kept.
_OWN_LABELS = {"metadata_routing"}
_CROSS_DOC_ROLE = re.compile(
    r":(ref|term):`(?P<text>[^`<]*?)\s*(?:<(?P<target>[^`>]*)>)?`"
)


def _unlink_sklearn_references(app, what, name, obj, options, lines):
    if ONLINE:
        return
    module = getattr(inspect.unwrap(obj), "__module__", None) or ""
    if not module.startswith("sklearn"):
        return

    def unlink(match):
        target = match.group("target") or match.group("text")
        if match.group(1) == "ref" and target in _OWN_LABELS:
            return match.group(0)
        return match.group("text")

    for i, line in enumerate(lines):
        lines[i] = _CROSS_DOC_ROLE.sub(unlink, line)


def _check_local_mathjax(app, exception):
    """Fail an HTML build whose pages would load MathJax from elsewhere."""
    if exception is not None or app.builder.format != "html":
        return
    script = Path(app.outdir) / "_static" / app.config.mathjax_path
    if "://" in app.config.mathjax_path or not script.is_file():
        raise RuntimeError(
            f"mathjax_path {app.config.mathjax_path!r} is not a file of the "
            f"build's _static folder ({script} is missing)"
        )


def setup(app):
    app.connect("build-finished", _check_local_mathjax)
    app.connect("autodoc-process-docstring", _quote_trailing_underscores)
    app.connect("autodoc-process-docstring", _unlink_sklearn_references)
