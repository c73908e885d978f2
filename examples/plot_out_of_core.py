"""
===================================
Training on a file larger than RAM
===================================

When the training data does not fit in memory, stream it from disk through
:meth:`~sknumpynet.NumpyMLPClassifier.partial_fit`: only one chunk is in memory
at a time. This example sets itself a memory budget of 100 MiB, writes a
300 MiB data set to a temporary directory, trains on it chunk by chunk while
scoring an external validation set after each chunk (keeping the best model),
and measures the memory the process used. It then fits one epoch directly on
a :class:`numpy.memmap` of the file, which the estimators read batch by
batch without loading it. The file is deleted at the end.

The memory figures come from Linux's ``/proc/self/status``: ``VmRSS`` (the
resident set size) and ``RssAnon`` (its anonymous part, the memory the process
allocated itself, as opposed to pages of mapped files).
"""

# %%
# A budget, and a data set three times its size
# ---------------------------------------------
# The data: 100 features of standard normal noise, labelled with one of four
# classes by a small random "teacher" network. It is written to disk chunk
# by chunk, so that it never has to be in memory as a whole.
import atexit
import copy
import os
import shutil
import tempfile
import threading
import time

import matplotlib.pyplot as plt
import numpy as np

from sknumpynet import NumpyMLPClassifier

MIB = 2**20
MEMORY_BUDGET = 100 * MIB
FILE_SIZE = 300 * MIB
N_FEATURES = 100
CLASSES = np.arange(4)
# Chunks of an eighth of the budget: 12.5 MiB, 32,768 rows.
CHUNK_ROWS = MEMORY_BUDGET // 8 // (4 * N_FEATURES)
N_ROWS = FILE_SIZE // (4 * N_FEATURES)

rng = np.random.default_rng(0)
teacher_hidden = rng.standard_normal((N_FEATURES, 16), dtype=np.float32) / 10
teacher_output = rng.standard_normal((16, len(CLASSES)), dtype=np.float32)


def make_data(n_rows, rng):
    """Inputs (float32) and the teacher network's labels."""
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    y = np.argmax(np.tanh(X @ teacher_hidden) @ teacher_output, axis=1)
    return X, y.astype(np.uint8)


directory = tempfile.mkdtemp(prefix="sknumpynet_out_of_core_")
atexit.register(shutil.rmtree, directory, ignore_errors=True)  # even on error
x_path = os.path.join(directory, "X.npy")
y_path = os.path.join(directory, "y.npy")

X_file = np.lib.format.open_memmap(
    x_path, mode="w+", dtype=np.float32, shape=(N_ROWS, N_FEATURES)
)
y_file = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.uint8, shape=(N_ROWS,))
for start in range(0, N_ROWS, CHUNK_ROWS):
    X_chunk, y_chunk = make_data(min(CHUNK_ROWS, N_ROWS - start), rng)
    X_file[start : start + len(X_chunk)] = X_chunk
    y_file[start : start + len(y_chunk)] = y_chunk
X_file.flush()
y_file.flush()
del X_file, y_file, X_chunk, y_chunk  # unmapped: nothing of the file is held

# An external validation set, in memory (8 MiB): data the stream never shows.
X_val, y_val = make_data(20_000, rng)

print(f"data file: {os.path.getsize(x_path) / MIB:.0f} MiB, {N_ROWS:,} rows")
print(f"memory budget: {MEMORY_BUDGET / MIB:.0f} MiB")
print(f"chunks of {CHUNK_ROWS:,} rows ({CHUNK_ROWS * 4 * N_FEATURES / MIB} MiB)")


# %%
# Measuring memory
# ----------------
# A thread reads ``/proc/self/status`` every 5 ms while a block of code runs
# and keeps the peaks (as ``benchmarks/bench_epoch.py --memory`` does).
def read_status():
    """Current VmRSS and RssAnon of this process, in bytes (Linux only)."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0]) * 1024
    return values


class PeakMemory:
    """Context manager: the peak VmRSS and RssAnon reached inside the block."""

    def __init__(self, interval=0.005):
        self.interval = interval
        self.available = os.path.exists("/proc/self/status")

    def _sample(self):
        status = read_status()
        for key, value in status.items():
            self.peak[key] = max(self.peak[key], value)

    def _poll(self):
        while not self._done.wait(self.interval):
            self._sample()

    def __enter__(self):
        if self.available:
            self.before = read_status()
            self.peak = dict(self.before)
            self._done = threading.Event()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.available:
            self._done.set()
            self._thread.join()
            self._sample()

    def extra(self, key):
        """Peak minus the value before the block, in MiB."""
        return (self.peak[key] - self.before[key]) / MIB

    def report(self, label):
        if not self.available:
            print(f"{label}: memory not measured (needs Linux's /proc)")
            return
        print(f"{label}:")
        print(
            f"  RSS before {self.before['VmRSS'] / MIB:.0f} MiB, "
            f"peak {self.peak['VmRSS'] / MIB:.0f} MiB"
        )
        print(
            f"  extra peak RSS {self.extra('VmRSS'):.1f} MiB, "
            f"extra peak anonymous memory {self.extra('RssAnon'):.1f} MiB"
        )


# %%
# Streaming chunks from disk
# --------------------------
# The chunks are read with plain file reads (``np.fromfile`` from an open
# file, after the ``.npy`` header), so only the current chunk is in memory.
# Slicing a memory map of the file would work just as well for training, but
# the pages it has read stay mapped and count in the process's RSS (as page
# cache, which the system can reclaim), which would blur the measurement.
def read_chunks(path, chunk_rows):
    """Yield consecutive chunks of rows of a ``.npy`` file."""
    mapped = np.load(path, mmap_mode="r")  # reads the header only
    shape, dtype, offset = mapped.shape, mapped.dtype, mapped.offset
    del mapped
    row_size = int(np.prod(shape[1:], dtype=np.int64))
    with open(path, "rb") as file:
        file.seek(offset)
        for start in range(0, shape[0], chunk_rows):
            n_rows = min(chunk_rows, shape[0] - start)
            chunk = np.fromfile(file, dtype=dtype, count=n_rows * row_size)
            yield chunk.reshape((n_rows, *shape[1:]))


# %%
# Each chunk is one call to ``partial_fit`` (one epoch over the chunk, in
# mini-batches of 256 rows); ``classes=`` lists every class on the first call.
# After each chunk the model is scored on the validation set, and the best
# model so far is kept with :func:`copy.deepcopy` (copying ``coefs_`` and
# ``intercepts_`` would do as well).
clf = NumpyMLPClassifier(
    hidden_layer_sizes=(32,),
    batch_size=256,
    learning_rate_init=0.003,
    random_state=0,
)
scores, seen = [], []
best_score, best_model = -np.inf, None
start_time = time.perf_counter()
with PeakMemory() as streaming_memory:
    for X_chunk, y_chunk in zip(
        read_chunks(x_path, CHUNK_ROWS), read_chunks(y_path, CHUNK_ROWS)
    ):
        clf.partial_fit(X_chunk, y_chunk, classes=CLASSES)
        scores.append(clf.score(X_val, y_val))
        seen.append(clf.t_)
        if scores[-1] > best_score:
            best_score, best_model = scores[-1], copy.deepcopy(clf)
    del X_chunk, y_chunk
elapsed = time.perf_counter() - start_time

print(f"{len(scores)} chunks, {clf.t_:,} rows in {elapsed:.1f} s")
print(f"validation accuracy after the first chunk: {scores[0]:.3f}")
print(f"best validation accuracy: {best_score:.3f} (after {best_model.t_:,} rows)")
streaming_memory.report("streaming chunks through partial_fit")
if streaming_memory.available:
    used = max(streaming_memory.extra("VmRSS"), streaming_memory.extra("RssAnon"))
    print(
        f"training on a {FILE_SIZE / MIB:.0f} MiB file used {used:.1f} MiB: "
        f"{'within' if used * MIB <= MEMORY_BUDGET else 'OVER'} the "
        f"{MEMORY_BUDGET / MIB:.0f} MiB budget"
    )

# %%
# "RSS before" is what the process held already: the interpreter with NumPy,
# SciPy, scikit-learn and Matplotlib loaded (in the documentation build,
# Sphinx too) and the 8 MiB validation set. Training on the 300 MiB file added
# only the current chunk, the network and its work buffers.

# %%
# The validation accuracy after every chunk; the dot marks the model kept.
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(np.array(seen) / 1e3, scores, marker=".")
ax.plot(best_model.t_ / 1e3, best_score, "o", color="tab:red", label="best model")
ax.set_xlabel("training rows seen (thousands)")
ax.set_ylabel("validation accuracy")
ax.set_title(f"partial_fit on a {FILE_SIZE // MIB} MiB file, one chunk at a time")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Fitting on a memory map
# -----------------------
# ``fit`` and ``partial_fit`` also accept a :class:`numpy.memmap` of the whole
# file: they never copy the data, but gather each mini-batch from it. Here
# one epoch over the mapped file (labels in memory: 1 byte a row). This time
# the pages read from the file *are* counted in the RSS -- they are mapped
# into the process -- but they are page cache, which the system reclaims
# under memory pressure; the anonymous memory shows that no copy is made.
X_mapped = np.load(x_path, mmap_mode="r")
y_all = np.load(y_path)
clf_mapped = NumpyMLPClassifier(
    hidden_layer_sizes=(32,), batch_size=256, learning_rate_init=0.003, random_state=0
)
with PeakMemory() as mapped_memory:
    clf_mapped.partial_fit(X_mapped, y_all, classes=CLASSES)
print(f"validation accuracy after one epoch: {clf_mapped.score(X_val, y_val):.3f}")
mapped_memory.report("one epoch on np.load(..., mmap_mode='r')")
if mapped_memory.available:
    anon = mapped_memory.extra("RssAnon")
    print(
        f"anonymous memory {anon:.1f} MiB: "
        f"{'within' if anon * MIB <= MEMORY_BUDGET else 'OVER'} the "
        f"{MEMORY_BUDGET / MIB:.0f} MiB budget; the rest of the extra RSS is "
        "the file's pages"
    )
del X_mapped

# %%
# Cleaning up
# -----------
shutil.rmtree(directory)
print(f"deleted {directory}: {not os.path.exists(directory)}")
