r"""The engine: a multilayer perceptron in plain NumPy.

The seed article's network grown up: layer ``i`` computes
:math:`a^{(i+1)} = f(a^{(i)} W^{(i)} + b^{(i)})`, and backpropagation is
the chain rule written out from the output down (the user guide's "The
network" page derives both). All weights and intercepts live in one flat
buffer (:attr:`MLP.params`) with per-layer views, laid out as scikit-learn
packs them; the gradient has the same layout, so an optimizer step is one
vectorized update. The options beyond scikit-learn's network (the NTK
parametrization, a feature scale, a zero output layer, label smoothing) are
off by default, and the user guide's "Raw tables" page derives them.
"""

import numpy as np

from ._activations import (
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    per_layer,
    takes_pre_activation,
)
from ._losses import (
    LOSSES,
    REPORTED_AS_MEAN_OVER_OUTPUTS,
    label_smoothing_classes,
    smooth_labels,
)
from ._minibatch import MiniBatchTraining, _is_sparse
from ._parameters import (
    ParameterSetup,
    effective_coefs,
    layer_views,
    n_parameters,
    parameter_groups,
    weight_factors,
)


def _dot(a, b, out):
    """``a @ b`` into ``out``; ``a`` may be sparse (the input layer only)."""
    if _is_sparse(a):
        out[...] = a @ b
        return out
    return np.dot(a, b, out=out)


def predict(X, coefs, intercepts, hidden_forward, output_forward, n_layers=None):
    """Forward pass that stores nothing, for prediction (thread-safe).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Input, of the weights' dtype.
    coefs, intercepts : list of ndarray
        Per-layer weights, as in :class:`MLP`.
    hidden_forward : callable or list of callable
        In-place activation of the hidden layers, or one per hidden layer.
    output_forward : callable
        In-place activation of the output layer.
    n_layers : int, default=None
        Stop after this many weight layers and return that layer's activation
        (a hidden representation); by default run the whole network.

    Returns
    -------
    a : ndarray of shape (n_samples, n_units)
        The output layer's activation, or the hidden layer's if ``n_layers``
        stops early.
    """
    last = len(coefs) - 1
    hidden_forwards = per_layer(hidden_forward, last)
    a = X
    for i in range(len(coefs) if n_layers is None else n_layers):
        a = a @ coefs[i]
        a += intercepts[i]
        if i == last:
            output_forward(a)
        else:
            hidden_forwards[i](a)
    return a


class MLP(ParameterSetup, MiniBatchTraining):
    r"""A multilayer perceptron: parameters, forward pass, backward pass.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input and output included: ``[n_features, *hidden,
        n_outputs]``.
    hidden_activation : str or list of str
        Name of the hidden activation, a key of
        :data:`~sknumpynet._activations.HIDDEN_ACTIVATIONS`, or one name per
        hidden layer.
    output_activation : str
        Name of the output activation, a key of
        :data:`~sknumpynet._activations.OUTPUT_ACTIVATIONS`.
    loss : str
        Name of the loss; ``(output_activation, loss)`` must be a key of
        :data:`~sknumpynet._losses.LOSSES`.
    dtype : numpy dtype
        float32 or float64; parameters, work arrays and outputs all use it.
    fit_intercept : bool, default=True
        When False the intercepts stay at zero (the seed article's network
        has no biases).
    dropout : float or list of float, default=0.0
        Probability of dropping each unit of a hidden layer (one value, or one
        per hidden layer) while training with :meth:`train_epoch`; inverted
        dropout, so prediction needs no rescaling.
    label_smoothing : float, default=0.0
        :math:`\varepsilon \in [0, 1)`: train on the smoothed targets
        :math:`(1 - \varepsilon) y + \varepsilon / K` of
        :func:`~sknumpynet._losses.smooth_labels` (log-losses only). 0 trains
        on ``y`` itself.
    parametrization : {"standard", "ntk"}, default="standard"
        "ntk" multiplies every layer's product by
        :math:`1/\sqrt{\text{fan\_in}}` (see :func:`weight_factors`).
    feature_scale : bool, default=False
        Whether a learnable per-feature scale :math:`s` multiplies the input,
        :math:`a^{(0)} = X \odot s`; it is stored after the intercepts.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        Every coefficient, then every intercept, flattened.
    coefs : list of ndarray
        ``coefs[i]`` is a ``(layer_units[i], layer_units[i + 1])`` view of
        :attr:`params`.
    intercepts : list of ndarray
        ``intercepts[i]`` is a ``(layer_units[i + 1],)`` view of :attr:`params`.
    grad : ndarray of shape (n_params,)
        Gradient of the last :meth:`loss_and_gradient` call, laid out as
        :attr:`params`.
    n_coefs : int
        Number of coefficients, the leading part of :attr:`params` that the
        L2 penalty applies to.
    scale : ndarray of shape (n_features,) or None
        The feature scale :math:`s`, a view of :attr:`params` (None without
        ``feature_scale``).
    weight_factors : list of float
        The factor :math:`c_i` of each layer of weights, see
        :func:`weight_factors`.

    Examples
    --------
    The options of the RealMLP-TD-S recipe: NTK parametrization, a feature
    scale, a zero output layer, label smoothing and SELU units.

    >>> import numpy as np
    >>> from sknumpynet._network import MLP
    >>> net = MLP([4, 8, 8, 3], "selu", "softmax", "log_loss", np.float32,
    ...           label_smoothing=0.1, parametrization="ntk",
    ...           feature_scale=True)
    >>> net.initialize(np.random.RandomState(0), method="normal",
    ...                zero_output=True)
    >>> net.params.size == 4 * 8 + 8 * 8 + 8 * 3 + 8 + 8 + 3 + 4
    True
    >>> net.scale
    array([1., 1., 1., 1.], dtype=float32)
    >>> net.predict(np.ones((2, 4), np.float32))  # zero output: uniform
    array([[0.33333334, 0.33333334, 0.33333334],
           [0.33333334, 0.33333334, 0.33333334]], dtype=float32)
    """

    def __init__(
        self,
        layer_units,
        hidden_activation,
        output_activation,
        loss,
        dtype,
        fit_intercept=True,
        dropout=0.0,
        label_smoothing=0.0,
        parametrization="standard",
        feature_scale=False,
    ):
        self.layer_units = [int(units) for units in layer_units]
        n_hidden = len(self.layer_units) - 2
        names = per_layer(hidden_activation, n_hidden, "activation")
        self.hidden_forwards = [HIDDEN_ACTIVATIONS[name][0] for name in names]
        self.hidden_backwards = [HIDDEN_ACTIVATIONS[name][1] for name in names]
        # The hidden layers whose backward rule reads z, not a: their z is kept.
        self._keeps_z = [takes_pre_activation(rule) for rule in self.hidden_backwards]
        self.dropout = [float(rate) for rate in per_layer(dropout, n_hidden, "dropout")]
        self.output_forward = OUTPUT_ACTIVATIONS[output_activation]
        self.loss_function, self.output_delta = LOSSES[(output_activation, loss)]
        self.label_smoothing = float(label_smoothing)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {label_smoothing!r}."
            )
        # K of the smoothed targets (raises for a loss that is no log-loss).
        self._smoothing_classes = (
            label_smoothing_classes((output_activation, loss), self.layer_units[-1])
            if self.label_smoothing
            else None
        )
        self.parametrization = parametrization
        self.weight_factors = weight_factors(self.layer_units, parametrization)
        self._report_divisor = (
            self.layer_units[-1] if loss in REPORTED_AS_MEAN_OVER_OUTPUTS else 1
        )
        #: The loss of the last batch as scikit-learn reports it (see
        #: :data:`~sknumpynet._losses.REPORTED_AS_MEAN_OVER_OUTPUTS`).
        self.reported_loss = None
        self.dtype = np.dtype(dtype)
        self.fit_intercept = fit_intercept

        self._groups = parameter_groups(self.layer_units, feature_scale)
        self.n_coefs = self._groups["coefs"].stop
        n_params = n_parameters(self.layer_units, feature_scale)
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grad = np.zeros(n_params, dtype=self.dtype)
        views = layer_views(self.params, self.layer_units, feature_scale)
        grad_views = layer_views(self.grad, self.layer_units, feature_scale)
        self.coefs, self.intercepts = views[:2]
        self._grad_coefs, self._grad_intercepts = grad_views[:2]
        self.scale = views[2] if feature_scale else None
        self._grad_scale = grad_views[2] if feature_scale else None
        # The L2 penalty applies to the coefficients only: the leading part.
        self._all_coefs = self.params[: self.n_coefs]
        self._all_grad_coefs = self.grad[: self.n_coefs]
        self._penalty_grad = np.empty(self.n_coefs, dtype=self.dtype)
        # Buffers of the effective weights (None where a layer's are its own).
        # (The first call allocates them; later calls write into them.)
        self._effective_buffers = [
            None if effective is coef else effective
            for coef, effective in zip(
                self.coefs,
                effective_coefs(self.coefs, self.weight_factors, self.scale),
            )
        ]
        self._reparametrized = any(b is not None for b in self._effective_buffers)
        self._work = {}

    @property
    def n_layers(self):
        """Number of layers, input and output included."""
        return len(self.layer_units)

    # -----------------------------------------------------------------------
    # Forward pass
    # -----------------------------------------------------------------------

    def effective_coefs(self):
        """The weights as the forward pass applies them, see
        :func:`effective_coefs` (:attr:`coefs` themselves in the standard
        network without a feature scale)."""
        if not self._reparametrized:
            return self.coefs  # the hot path of the default network
        return effective_coefs(
            self.coefs, self.weight_factors, self.scale, out=self._effective_buffers
        )

    def predict(self, X):
        """Output of the network for ``X``; see :func:`predict`."""
        return predict(
            X,
            self.effective_coefs(),
            self.intercepts,
            self.hidden_forwards,
            self.output_forward,
        )

    def _buffers(self, batch_size, n_samples):
        """The work buffers for ``n_samples`` rows, by kind.

        Buffers are allocated for ``batch_size`` rows once and reused; the
        last, shorter batch of an epoch uses their leading rows. The kinds:
        "activations" and "deltas" (one per layer), "pre_activations" (one per
        hidden layer, None but where the backward rule reads ``z``) and
        "targets" (the smoothed targets, None without label smoothing).
        """
        if batch_size not in self._work:
            # One size at a time: a new size (L-BFGS's whole data set, say)
            # frees the old buffers.
            def rows(n):
                return np.empty((batch_size, n), self.dtype)

            units = self.layer_units[1:]
            self._work = {
                batch_size: {
                    "activations": [rows(n) for n in units],
                    "deltas": [rows(n) for n in units],
                    "pre_activations": [
                        rows(n) if keeps else None
                        for n, keeps in zip(units, self._keeps_z)
                    ],
                    "targets": rows(units[-1]) if self.label_smoothing else None,
                }
            }
        buffers = self._work[batch_size]
        if n_samples == batch_size:
            return buffers

        def leading_rows(buffer):
            return None if buffer is None else buffer[:n_samples]

        return {
            kind: (
                [leading_rows(buffer) for buffer in value]
                if isinstance(value, list)
                else leading_rows(value)
            )
            for kind, value in buffers.items()
        }

    def forward(self, X, activations, masks=None, pre_activations=None, coefs=None):
        """Forward pass that keeps every layer's activation for backprop.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            A batch of input.
        activations : list of ndarray
            Buffers, one per layer; ``activations[0]`` is replaced by ``X``.
        masks : list of (ndarray or None), default=None
            Dropout masks, one per hidden layer, already divided by the keep
            probability (None for a layer without dropout).
        pre_activations : list of (ndarray or None), default=None
            Buffers, one per hidden layer, that keep ``z`` where not None (the
            layers whose backward rule reads it).
        coefs : list of ndarray, default=None
            The effective weights (:meth:`effective_coefs`); computed here by
            default.

        Returns
        -------
        inputs : list of ndarray
            What each layer passes on: ``activations`` itself without dropout;
            with dropout, hidden layers' activations times their masks.
            ``inputs[-1]`` is the network's output.
        """
        if coefs is None:
            coefs = self.effective_coefs()
        activations[0] = a = X
        inputs = activations if masks is None else list(activations)
        last = len(coefs) - 1
        for i, (W, b) in enumerate(zip(coefs, self.intercepts)):
            # z = a W + b, then a = f(z), in place in the layer's buffer.
            z = activations[i + 1]
            if i == 0:
                _dot(a, W, out=z)
            else:
                np.dot(a, W, out=z)
            z += b
            if i == last:
                self.output_forward(z)
            else:
                if pre_activations is not None and pre_activations[i] is not None:
                    np.copyto(pre_activations[i], z)
                self.hidden_forwards[i](z)
            a = z
            if masks is not None and i < last and masks[i] is not None:
                # Inverted dropout: the next layer sees the kept units, scaled.
                a = inputs[i + 1] = z * masks[i]
        return inputs

    # -----------------------------------------------------------------------
    # Backward pass
    # -----------------------------------------------------------------------

    def loss_and_gradient(
        self, X, y, sample_weight, alpha, batch_size=None, masks=None
    ):
        r"""Loss on a batch and its gradient, by backpropagation.

        The loss is the data term (averaged over samples, weighted by
        ``sample_weight``) plus the L2 penalty
        :math:`\frac{\alpha}{2 \sum_i w_i} \sum_l \lVert W^{(l)} \rVert^2`;
        the gradient of both lands in :attr:`grad`.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The batch.
        y : ndarray of shape (n_samples, n_outputs)
            Targets (a boolean indicator matrix for classification).
        sample_weight : ndarray of shape (n_samples,) or None
            Weight of each sample.
        alpha : float
            Strength of the L2 penalty.
        batch_size : int, default=None
            Size the work buffers are allocated for (defaults to the batch's).
        masks : list of (ndarray or None), default=None
            Dropout masks for this batch, see :meth:`forward`.

        Returns
        -------
        loss : float
            The loss whose gradient :attr:`grad` is. For the squared error of
            several outputs it is summed over outputs; :attr:`reported_loss`
            holds the output-averaged value scikit-learn reports. With label
            smoothing, both are those of the smoothed targets.
        """
        n_samples = X.shape[0]
        buffers = self._buffers(batch_size or n_samples, n_samples)
        activations = [None, *buffers["activations"]]
        deltas, pre_activations = buffers["deltas"], buffers["pre_activations"]
        coefs = self.effective_coefs()
        inputs = self.forward(X, activations, masks, pre_activations, coefs)
        y_pred = activations[-1]
        if self.label_smoothing:
            y = smooth_labels(
                y, self.label_smoothing, self._smoothing_classes, buffers["targets"]
            )

        if sample_weight is None:
            weight_sum = n_samples
        else:
            weight_sum = sample_weight.sum()
        # A batch whose samples all weigh zero teaches nothing: zero gradient,
        # zero loss, rather than 0 / 0.
        if weight_sum == 0:
            self.grad[...] = 0.0
            self.reported_loss = 0.0
            return 0.0

        all_coefs = self._all_coefs
        data_loss = self.loss_function(y, y_pred, sample_weight)
        penalty = 0.5 * alpha * np.dot(all_coefs, all_coefs) / weight_sum
        self.reported_loss = float(data_loss / self._report_divisor + penalty)
        loss = data_loss + penalty

        # Output layer: the loss's delta, weighted per sample.
        delta = self.output_delta(y, y_pred, out=deltas[-1])
        if sample_weight is not None:
            delta *= sample_weight[:, np.newaxis]

        # From the top layer down: dW = a^T delta, db = sum(delta), then the
        # delta of the layer below through W^T and the derivative f'.
        for i in range(len(self.coefs) - 1, -1, -1):
            delta, a_prev = deltas[i], inputs[i]
            if i == 0:
                _dot(a_prev.T, delta, out=self._grad_coefs[0])
            else:
                np.dot(a_prev.T, delta, out=self._grad_coefs[i])
            np.add.reduce(delta, axis=0, out=self._grad_intercepts[i])
            if i > 0:
                below = np.dot(delta, coefs[i].T, out=deltas[i - 1])
                if masks is not None and masks[i - 1] is not None:
                    below *= masks[i - 1]  # dropped units pass no gradient
                # f' from the layer's output a, or from z where the rule says.
                kept_z = pre_activations[i - 1]
                self.hidden_backwards[i - 1](
                    activations[i] if kept_z is None else kept_z, below
                )
        if self._reparametrized:
            self._chain_to_stored_weights()

        grad = self.grad
        if alpha:
            # d/dW of the L2 penalty, for every layer in one operation.
            self._all_grad_coefs += np.multiply(
                all_coefs, alpha, out=self._penalty_grad
            )
        grad /= weight_sum
        if not self.fit_intercept:
            grad[self._groups["intercepts"]] = 0.0
        return float(loss)

    def _chain_to_stored_weights(self):
        r"""Turn the gradient with respect to the effective weights into the
        gradients of the stored weights and of the feature scale, in place.

        With :math:`G` the gradient with respect to :math:`\widetilde W^{(i)}
        = c_i W^{(i)}` (times :math:`\operatorname{diag}(s)` on the first
        layer): :math:`\partial \ell / \partial W^{(i)} = c_i G` (row
        :math:`j` of the first layer times :math:`s_j`) and
        :math:`\partial \ell / \partial s_j = c_0 \sum_k W^{(0)}_{jk}
        G_{jk}`.
        """
        for i, (grad_coef, factor) in enumerate(
            zip(self._grad_coefs, self.weight_factors)
        ):
            if i == 0 and self.scale is not None:
                # ds first, while grad_coef still holds G.
                np.einsum("jk,jk->j", self.coefs[0], grad_coef, out=self._grad_scale)
                self._grad_scale *= self.dtype.type(factor)
                grad_coef *= self.scale[:, np.newaxis]
            if factor != 1.0:
                grad_coef *= self.dtype.type(factor)

    def reported_data_loss(self, y, y_pred, sample_weight=None):
        """The loss of predictions, without the L2 penalty, as scikit-learn
        reports losses (see :data:`~sknumpynet._losses.REPORTED_AS_MEAN_OVER_OUTPUTS`).

        Parameters
        ----------
        y : ndarray of shape (n_samples, n_outputs)
            Targets, encoded as for training.
        y_pred : ndarray of shape (n_samples, n_outputs)
            The network's output.
        sample_weight : ndarray of shape (n_samples,), default=None
            Weight of each sample.

        Returns
        -------
        loss : float
        """
        if sample_weight is not None and sample_weight.sum() == 0:
            return 0.0
        return float(
            self.loss_function(y, y_pred, sample_weight) / self._report_divisor
        )
