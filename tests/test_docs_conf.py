"""The documentation's maths is typeset by a MathJax that ships with the build.

docs/conf.py must point ``mathjax_path`` at a file that the build copies into
``_static`` (from the ``sphinx-mathjax-offline`` package of the ``docs``
extra), never at a CDN, so that the built pages read offline. Skipped without
the ``docs`` directory or the ``docs`` extra; the docs build itself fails too
when the script is not in its output (docs/conf.py's build-finished check).
"""

import runpy
import sys
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "docs" / "conf.py"


@pytest.mark.skipif(not CONF.is_file(), reason="the docs/ directory is not available")
def test_mathjax_is_served_from_the_build(monkeypatch):
    pytest.importorskip("sphinx-mathjax-offline")
    # conf.py sets MPLBACKEND and extends sys.path: undo both after the test.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(sys, "path", list(sys.path))
    conf = runpy.run_path(str(CONF))

    mathjax_path = conf["mathjax_path"]
    assert "://" not in mathjax_path and not mathjax_path.startswith("/")
    # html_static_path's folders are copied into _static, where mathjax_path
    # is resolved: the script and the extension the config loads are there.
    static = [Path(folder) for folder in conf["html_static_path"]]
    scripts = [folder / mathjax_path for folder in static]
    assert any(script.is_file() for script in scripts), scripts
    script = next(script for script in scripts if script.is_file())
    for extension in conf["mathjax3_config"]["loader"]["load"]:
        name = extension.removeprefix("[tex]/")
        assert (script.parent / "input" / "tex" / "extensions" / f"{name}.js").is_file()
