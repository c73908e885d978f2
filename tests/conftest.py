"""The test session's settings: BLAS threads and Hypothesis profiles.

What the test modules share is in _helpers.py.
"""

import os

import pytest
from hypothesis import settings
from threadpoolctl import threadpool_limits

# One BLAS (and OpenMP) thread per test process: pytest-xdist runs one
# process per core, and the results of a multi-threaded BLAS may depend on
# its thread count. The variables reach the libraries loaded after this point
# (NumPy, SciPy and scikit-learn load theirs when the test modules are
# collected) and the subprocesses that tests start (the demo, joblib's
# workers); the fixture below limits whatever was loaded before them.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


# The longest work first, so that pytest-xdist's processes finish together:
# the demo (a subprocess of some 20 s) and the Dask module (one process runs
# all its tests, see its xdist_group mark). The rest keeps its order.
LONGEST_FIRST = ("tests/test_examples.py::test_main_quick", "tests/test_dask.py::")


def pytest_collection_modifyitems(items):
    def rank(item):
        starts = [item.nodeid.startswith(prefix) for prefix in LONGEST_FIRST]
        return starts.index(True) if any(starts) else len(starts)

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def _one_thread_per_library():
    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------------------
# Hypothesis profiles (tests/test_robustness.py)
# ---------------------------------------------------------------------------

#: Examples per property test; SKNUMPYNET_HYPOTHESIS_EXAMPLES overrides it.
HYPOTHESIS_EXAMPLES = int(os.environ.get("SKNUMPYNET_HYPOTHESIS_EXAMPLES", "0"))
_HYPOTHESIS_COMMON = dict(
    deadline=None,
    database=None,  # nothing written into the repository
    print_blob=True,
)
# The default (and CI's): the same examples on every run, 200 per property
# (the random profile is the wide search).
settings.register_profile(
    "derandomized",
    derandomize=True,
    max_examples=HYPOTHESIS_EXAMPLES or 200,
    **_HYPOTHESIS_COMMON,
)
# HYPOTHESIS_PROFILE=random: a wider search, new examples on every run.
settings.register_profile(
    "random",
    derandomize=False,
    max_examples=HYPOTHESIS_EXAMPLES or 2000,
    **_HYPOTHESIS_COMMON,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))
