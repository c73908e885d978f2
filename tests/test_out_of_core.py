"""Data larger than memory: fitting from a memory map, streaming from disk.

* ``fit`` on an ``np.memmap`` gives bit for bit the model that ``fit`` on the
  same data in memory gives, and (measured in a fresh process, as
  ``benchmarks/bench_epoch.py --memory`` measures it) does not copy the data:
  the extra anonymous memory of the fit stays far below the file's size.
* ``partial_fit`` streams chunks of a memory map, with an external validation
  set scored after each chunk and the best model kept, as
  ``docs/user_guide/scaling_out.rst`` shows.
"""

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from sknumpynet import NumpyMLPClassifier, NumpyMLPRegressor

MIB = 1024.0**2


def _classification(n_samples=600):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=12,
        n_informative=8,
        n_classes=3,
        random_state=0,
    )
    return X.astype(np.float32), y


def _regression(n_samples=600):
    X, y = make_regression(n_samples=n_samples, n_features=12, random_state=0)
    return X.astype(np.float32), (y / y.std()).astype(np.float32)


def _as_memmap(X, tmp_path, source):
    """X written to disk and mapped back, read-only, without being loaded."""
    if source == "npy":
        path = tmp_path / "X.npy"
        np.save(path, X)
        mapped = np.load(path, mmap_mode="r")
    else:  # a raw binary file, mapped with np.memmap directly
        path = tmp_path / "X.f32"
        X.tofile(path)
        mapped = np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
    assert isinstance(mapped, np.memmap)
    assert not mapped.flags.writeable
    return mapped


def _weights(model):
    return model.coefs_ + model.intercepts_


def _assert_same_model(model, other):
    assert model.n_iter_ == other.n_iter_
    np.testing.assert_array_equal(model.loss_curve_, other.loss_curve_)
    for a, b in zip(_weights(model), _weights(other)):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("source", ["npy", "raw"])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_fit_from_memmap_same_as_in_memory(tmp_path, kind, shuffle, source):
    X, y = _classification() if kind == "classifier" else _regression()
    X_mapped = _as_memmap(X, tmp_path, source)
    cls = NumpyMLPClassifier if kind == "classifier" else NumpyMLPRegressor
    params = dict(hidden_layer_sizes=(8,), batch_size=50, max_iter=5, shuffle=shuffle)
    in_memory = cls(random_state=0, **params).fit(X, y)
    from_disk = cls(random_state=0, **params).fit(X_mapped, y)
    _assert_same_model(in_memory, from_disk)
    np.testing.assert_array_equal(from_disk.predict(X_mapped), in_memory.predict(X))
    np.testing.assert_array_equal(X_mapped, X)  # read, never written


def test_partial_fit_streams_chunks_of_a_memmap(tmp_path):
    X, y = _classification(n_samples=1400)
    X_stream, y_stream = X[:1200], y[:1200]
    X_val, y_val = X[1200:], y[1200:]  # external validation set, in memory
    X_mapped = _as_memmap(X_stream, tmp_path, "npy")
    classes = np.unique(y)
    chunk = 200

    def stream(X_source):
        model = NumpyMLPClassifier(
            hidden_layer_sizes=(16,),
            batch_size=20,
            learning_rate_init=0.01,
            random_state=0,
        )
        scores, best_score, best_model, best_weights = [], -np.inf, None, None
        for start in range(0, X_source.shape[0], chunk):
            # A slice of the memory map: only this chunk's pages are read.
            X_chunk = X_source[start : start + chunk]
            model.partial_fit(X_chunk, y_stream[start : start + chunk], classes=classes)
            scores.append(model.score(X_val, y_val))
            if scores[-1] > best_score:
                best_score = scores[-1]
                best_model = copy.deepcopy(model)
                best_weights = (
                    [c.copy() for c in model.coefs_],
                    [b.copy() for b in model.intercepts_],
                )
        return model, np.array(scores), best_model, best_weights

    model, scores, best_model, best_weights = stream(X_mapped)
    reference, reference_scores, _, _ = stream(X_stream)
    # Chunks of the memory map train exactly as chunks in memory.
    _assert_same_model(model, reference)
    np.testing.assert_array_equal(scores, reference_scores)
    assert model.t_ == X_stream.shape[0]
    assert len(model.loss_curve_) == X_stream.shape[0] // chunk
    assert scores[-1] > scores[0]

    # The best model on the validation set was kept...
    assert best_model.score(X_val, y_val) == scores.max()
    assert best_model.t_ == chunk * (int(np.argmax(scores)) + 1)
    # ... and copied weights put back into a model restore it too.
    model.coefs_, model.intercepts_ = best_weights
    np.testing.assert_array_equal(model.predict(X_val), best_model.predict(X_val))
    # Training goes on from the restored weights.
    model.partial_fit(X_val, y_val)
    assert model.t_ == X_stream.shape[0] + X_val.shape[0]
    assert all(np.isfinite(w).all() for w in _weights(model))


# ---------------------------------------------------------------------------
# Memory: fit from a memmap does not load it
# ---------------------------------------------------------------------------

MEMORY_SHAPE = (262_144, 256)  # float32: 256 MiB
MEMORY_CLASSES = 10
EXTRA_ANON_LIMIT_MIB = 100.0

# Run in a fresh process, as benchmarks/bench_epoch.py's memory case: the data
# is mapped, the estimator made, then fit runs for one epoch while a thread
# polls /proc/self/status every 5 ms for the peak VmRSS, RssAnon and RssFile.
MEMORY_CHILD = textwrap.dedent(
    """
    import gc, json, sys, threading, time, warnings
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits
    from sknumpynet import NumpyMLPClassifier

    KEYS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")

    def read_status():
        values = dict.fromkeys(KEYS, 0)
        with open("/proc/self/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in KEYS:
                    values[key] = int(rest.split()[0]) * 1024
        # Pages of the mapped file: file-backed, or shared memory when the
        # file lives on a tmpfs.
        values["mapped"] = values["RssFile"] + values["RssShmem"]
        return values

    class PeakSampler(threading.Thread):
        def __init__(self):
            super().__init__(daemon=True)
            self.done = threading.Event()
            self.peak = dict.fromkeys(read_status(), 0)

        def sample(self):
            for key, value in read_status().items():
                self.peak[key] = max(self.peak[key], value)

        def run(self):
            while not self.done.is_set():
                self.sample()
                self.done.wait(0.005)

        def stop(self):
            self.done.set()
            self.join()
            self.sample()

    with threadpool_limits(limits=1):
        X = np.load(sys.argv[1], mmap_mode="r")
        y = np.load(sys.argv[2])
        model = NumpyMLPClassifier(
            hidden_layer_sizes=(16,), batch_size=256, max_iter=1, random_state=0
        )
        gc.collect()
        before = read_status()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch
            model.fit(X, y)
        seconds = time.perf_counter() - start
        sampler.stop()
    result = {f"extra_{k}": (sampler.peak[k] - before[k]) for k in before}
    result.update(
        seconds=seconds,
        memmap=isinstance(X, np.memmap),
        n_iter=model.n_iter_,
        t=model.t_,
    )
    print(json.dumps(result))
    """
)


def _write_memory_data(directory, chunk=16_384):
    """X (float32, .npy) written chunk by chunk, labels from a linear rule.

    The chunks are row permutations of one random block: what matters here is
    the size of the file, and permuting is faster than drawing 256 MiB.
    """
    rng = np.random.default_rng(0)
    n_samples, n_features = MEMORY_SHAPE
    block = rng.standard_normal((chunk, n_features), dtype=np.float32)
    W = rng.standard_normal((n_features, MEMORY_CLASSES), dtype=np.float32)
    labels = np.argmax(block @ W, axis=1)
    x_path, y_path = directory / "X.npy", directory / "y.npy"
    X = np.lib.format.open_memmap(
        x_path, mode="w+", dtype=np.float32, shape=MEMORY_SHAPE
    )
    y = np.empty(n_samples, dtype=np.int64)
    for start in range(0, n_samples, chunk):
        rows = rng.permutation(chunk)
        X[start : start + chunk] = block[rows]
        y[start : start + chunk] = labels[rows]
    X.flush()
    del X
    np.save(y_path, y)
    return x_path, y_path


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads Linux's /proc/self/status"
)
def test_fit_from_memmap_does_not_load_it(tmp_path):
    x_path, y_path = _write_memory_data(tmp_path)
    file_mib = x_path.stat().st_size / MIB
    assert 200 < file_mib < 400
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(x_path), str(y_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    extra = {k: v / MIB for k, v in result.items() if k.startswith("extra_")}
    assert result["memmap"]
    assert result["n_iter"] == 1 and result["t"] == MEMORY_SHAPE[0]
    # The fit read the whole file through the mapping: its pages show up in
    # the process's RSS as file-backed pages (page cache, shared and
    # reclaimable)...
    assert extra["extra_mapped"] > 0.5 * file_mib, extra
    # ... but no copy of it was made: the fit's own (anonymous) memory is a
    # small fraction of the file.
    assert extra["extra_RssAnon"] < EXTRA_ANON_LIMIT_MIB, extra
