"""The seed article's experiment, the gallery examples and the demo entry point."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _helpers import seed_article_network
from sklearn.exceptions import ConvergenceWarning

from sknumpynet.__main__ import main

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

# The seed article's data: XOR of the first two columns, the third a constant.
X_SEED = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
Y_SEED = np.array([0, 1, 1, 0], dtype=float)

# Seeds 0-4 are simply the first five, not a selection. While writing this
# test, seeds 0-499 were all run with this configuration: every one of them
# gave a strictly decreasing loss curve (the smallest decrease between two
# iterations was 1.6e-7, far above rounding error on losses of ~1e-4) and a
# largest |prediction - target| of at most 0.073 (seed 482; 0.034 at most
# for seeds 0-4). From uniform [0, 1) weights the article's network did not
# fail once, so no seed had to be excluded.
SEEDS = range(5)


def _article_network(random_state, max_iter=1500):
    """The seed article's 3-4-1 sigmoid network, as in plot_seed_article.py."""
    n_samples = X_SEED.shape[0]
    return seed_article_network(
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=n_samples,
        shuffle=False,
        learning_rate="constant",
        # The article's step 1 on the sum of squares is a step of 2n on half
        # the mean squared error (see the example).
        learning_rate_init=2 * n_samples,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=random_state,
    )


def _fit_quietly(estimator):
    # Running all max_iter iterations is the experiment, not a failure.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X_SEED, Y_SEED)


def _article_loop(random_state, n_iter=1500):
    """The article's own training loop, with the estimator's initial draws."""
    rng = np.random.RandomState(random_state)
    weights1 = rng.uniform(0, 1, (3, 4))
    rng.uniform(0, 1, 4)  # hidden intercepts: drawn, unused
    weights2 = rng.uniform(0, 1, (4, 1))

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    target = Y_SEED.reshape(-1, 1)
    losses = []
    for _ in range(n_iter):
        layer1 = sigmoid(X_SEED @ weights1)
        output = sigmoid(layer1 @ weights2)
        losses.append(np.sum((target - output) ** 2))
        error_signal = 2 * (target - output) * output * (1 - output)
        d_weights2 = layer1.T @ error_signal
        d_weights1 = X_SEED.T @ (error_signal @ weights2.T * layer1 * (1 - layer1))
        weights1 += d_weights1
        weights2 += d_weights2
    output = sigmoid(sigmoid(X_SEED @ weights1) @ weights2)
    return np.array(losses), output.ravel()


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_experiment(seed):
    network = _fit_quietly(_article_network(seed))
    assert network.n_iter_ == 1500
    loss_curve = np.asarray(network.loss_curve_)
    # Full-batch gradient descent with this step decreases the loss at every
    # iteration, as the article's plot shows; see SEEDS for the margins.
    assert np.all(np.diff(loss_curve) < 0)
    assert np.abs(network.predict(X_SEED) - Y_SEED).max() < 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_experiment_matches_article_loop(seed):
    # Not just similar behaviour: the same numbers as the article's code,
    # with its sum-of-squares loss 2n = 8 times the estimator's.
    network = _fit_quietly(_article_network(seed))
    article_losses, article_predictions = _article_loop(seed)
    np.testing.assert_allclose(
        np.asarray(network.loss_curve_) * 2 * X_SEED.shape[0],
        article_losses,
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        network.predict(X_SEED), article_predictions, rtol=0, atol=1e-12
    )


def _run(args, tmp_path, timeout=300):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_seed_article_example_runs(tmp_path):
    pytest.importorskip("matplotlib")
    result = _run([str(EXAMPLES_DIR / "plot_seed_article.py")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "loss falls monotonically: True" in result.stdout
    assert "iterations: 1500" in result.stdout


def test_main_help(tmp_path):
    result = _run(["-m", "sknumpynet", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert "--quick" in result.stdout
    assert "--n-jobs" in result.stdout


def test_main_quick(tmp_path):
    # Warnings are errors in the demo too, as in the rest of the suite.
    args = ["-W", "error", "-m", "sknumpynet", "--quick", "--n-jobs", "1"]
    result = _run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    # The demo's models are sized to converge: no ConvergenceWarning.
    assert "ConvergenceWarning" not in result.stderr
    assert "best parameters:" in result.stdout
    rows = {
        name: line.split()
        for line in result.stdout.splitlines()
        for name in ("NumpyMLPClassifier", "sklearn MLPClassifier")
        if line.startswith(name + " ")
    }
    assert set(rows) == {"NumpyMLPClassifier", "sklearn MLPClassifier"}
    accuracies = {}
    for name, cells in rows.items():
        # Columns: name, CV accuracy, test accuracy, epochs, fit time.
        cv_accuracy, test_accuracy = float(cells[-4]), float(cells[-3])
        assert 0.9 < cv_accuracy <= 1.0
        assert 0.9 < test_accuracy <= 1.0
        accuracies[name] = (cv_accuracy, test_accuracy)
    # Same hyper-parameters and seed: scikit-learn's MLP learns the same
    # network (tests/test_parity.py checks that closely), so the accuracies
    # agree; the tolerance allows a few predictions flipped by rounding.
    np.testing.assert_allclose(
        accuracies["NumpyMLPClassifier"],
        accuracies["sklearn MLPClassifier"],
        rtol=0,
        atol=0.01,
    )
    assert re.search(r"Total time: \d+\.\d s", result.stdout)


def test_main_in_process(capsys):
    # The entry point as a function: argv is parsed from the list given.
    with pytest.raises(SystemExit) as excinfo:
        main(["--cv", "1"])
    assert excinfo.value.code == 2
    assert "--cv must be at least 2" in capsys.readouterr().err
