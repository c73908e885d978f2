"""
===========================================
The seed article's network, as an estimator
===========================================

sknumpynet grew from the tutorial "How to build your own neural network from
scratch in Python": a 3-4-1 network with sigmoid units and no biases, weights
drawn uniformly from :math:`[0, 1)`, trained by full-batch gradient descent
(step size 1) on the sum of squared errors for 1500 iterations, to learn the
XOR of the first two inputs.

This example builds the same network with
:class:`~sknumpynet.NumpyMLPRegressor`, checks that its first update is the
article's update up to rounding error, then trains it for 1500 iterations.
"""

# %%
# The data
# --------
# Four samples of three inputs; the target is the XOR of the first two. The
# third input is always 1 and plays the part of a bias.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sknumpynet import NumpyMLPRegressor

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
y = np.array([0, 1, 1, 0], dtype=float)
n_samples = X.shape[0]

# %%
# The learning rate
# -----------------
# The article minimises the sum of squared errors and *adds* its ``d_W``,
# the negative gradient, to the weights with step 1:
#
# .. math::
#     L_{\text{article}} = \sum_i (y_i - \hat y_i)^2, \qquad
#     W \leftarrow W - 1 \cdot \nabla L_{\text{article}}.
#
# The estimator minimises half the mean squared error,
#
# .. math::
#     L = \frac{1}{2n} \sum_i (y_i - \hat y_i)^2
#       = \frac{L_{\text{article}}}{2n}, \qquad
#     \nabla L = \frac{\nabla L_{\text{article}}}{2n},
#
# so a step of :math:`\eta` on :math:`L` moves the weights by
# :math:`\eta / (2n)` times the article's step. Step 1 on the article's loss
# is ``learning_rate_init = 2n = 8`` on ours.
learning_rate_init = 2 * n_samples


# %%
# The network
# -----------
# Everything else mirrors the article: 4 sigmoid hidden units, a sigmoid
# output, no intercepts, weights from ``np.random.rand``-style uniform draws,
# plain full-batch gradient descent (no momentum, no penalty, no shuffling),
# and exactly ``max_iter`` iterations (``tol=0`` and ``n_iter_no_change=inf``
# switch off the stopping rule).
random_state = 0


def article_network(max_iter):
    return NumpyMLPRegressor(
        hidden_layer_sizes=(4,),
        activation="logistic",
        out_activation="logistic",
        fit_intercept=False,
        weight_init="uniform",
        solver="sgd",
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=n_samples,
        shuffle=False,
        learning_rate="constant",
        learning_rate_init=learning_rate_init,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=random_state,
    )


# %%
# One step, checked by hand
# -------------------------
# The estimator draws its initial weights from
# ``np.random.RandomState(random_state).uniform(0, 1, ...)`` in the order:
# first layer's weights (3 x 4), its intercepts (4), second layer's weights
# (4 x 1), its intercept (1). The intercepts are drawn and then set to zero
# because ``fit_intercept=False``. Reproducing the draws gives the article's
# ``weights1`` and ``weights2``:
rng = np.random.RandomState(random_state)
weights1 = rng.uniform(0, 1, (3, 4))
rng.uniform(0, 1, 4)  # intercepts of the hidden layer, unused
weights2 = rng.uniform(0, 1, (4, 1))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(s):
    return s * (1.0 - s)


# The article's feedforward and backprop, verbatim up to names.
target = y.reshape(-1, 1)
layer1 = sigmoid(X @ weights1)
output = sigmoid(layer1 @ weights2)
error_signal = 2 * (target - output) * sigmoid_derivative(output)
d_weights2 = layer1.T @ error_signal
d_weights1 = X.T @ (error_signal @ weights2.T * sigmoid_derivative(layer1))

# %%
# One iteration of the estimator is one update. ``max_iter=1`` stops it
# there; the warning that training has not converged after one iteration is
# expected, so it is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    one_step = article_network(max_iter=1).fit(X, y)

step1 = one_step.coefs_[0] - weights1
step2 = one_step.coefs_[1] - weights2
ratios = np.concatenate([(step1 / d_weights1).ravel(), (step2 / d_weights2).ravel()])
print(f"estimator's step / article's d_W: {ratios.min():.12f} to {ratios.max():.12f}")
difference = max(
    np.abs(one_step.coefs_[0] - (weights1 + d_weights1)).max(),
    np.abs(one_step.coefs_[1] - (weights2 + d_weights2)).max(),
)
print(f"largest weight difference after one update: {difference:.1e}")
print(f"article's loss, sum of squares: {np.sum((target - output) ** 2):.12f}")
print(f"estimator's loss times 2n:      {one_step.loss_curve_[0] * 2 * n_samples:.12f}")
# The same check, as an assertion (the test suite runs this example).
np.testing.assert_allclose(one_step.coefs_[0], weights1 + d_weights1, rtol=1e-12)
np.testing.assert_allclose(one_step.coefs_[1], weights2 + d_weights2, rtol=1e-12)

# %%
# The ratios are 1 and the weights agree to rounding error: with
# ``learning_rate_init=8`` the estimator takes exactly the article's step.
# (The first entry of ``loss_curve_`` is the loss at the initial weights,
# computed in the forward pass of that first update.)
#
# 1500 iterations
# ---------------
# The article runs a fixed 1500 iterations, so reaching ``max_iter`` is the
# point here, not a failure: its ConvergenceWarning is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network = article_network(max_iter=1500).fit(X, y)

print("iterations:", network.n_iter_)
print("predictions:", network.predict(X).round(3))
print("targets:    ", y)

# %%
# The predictions are close to ``[0, 1, 1, 0]``, as in the article. The loss,
# as in the article, falls at every single iteration:
loss_curve = np.asarray(network.loss_curve_)
print("loss falls monotonically:", bool(np.all(np.diff(loss_curve) < 0)))

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(np.arange(1, loss_curve.size + 1), loss_curve)
ax.set_title("The seed article's 3-4-1 sigmoid network learning XOR")
ax.set_xlabel("iteration")
ax.set_ylabel("loss: half the mean squared error")
fig.tight_layout()
plt.show()
