r"""The RealMLP-TD network and its shared-weight ensemble, in plain NumPy.

:class:`TabularNetwork` is :class:`~sknumpynet._network.MLP`'s sibling for
raw tables: in front of the dense layers it embeds each numeric column
(periodic "PBLD" embeddings) and each high-cardinality categorical column
(a learned table), scales every input by a learnable factor, and optionally
trains ``k`` members that share every hidden layer (TabM-mini: a per-member
input scaling and a per-member head). Each hidden unit may mix its input
and its activation by a learned weight. Every forward rule has its backward
rule beside it; the user guide's "Raw tables" page derives them. Like the
rest of the engine, this module never imports scikit-learn.
"""

import numpy as np

from ._activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, takes_pre_activation
from ._losses import (
    LOSSES,
    REPORTED_AS_MEAN_OVER_OUTPUTS,
    label_smoothing_classes,
    smooth_labels,
)
from ._minibatch import MiniBatchTraining

#: The parameter groups of a :class:`TabularNetwork`, in buffer order; the
#: keys of its learning-rate and weight-decay factors.
GROUPS = (
    "coefs",
    "intercepts",
    "feature_scale",
    "activation_mix",
    "numeric_embedding",
    "category_embedding",
    "member_scale",
)

#: RealMLP-TD's learning-rate factors per group (pytabkit's ``bias_lr_factor``,
#: ``scale_lr_factor``, ``act_lr_factor``, ``plr_lr_factor``).
REALMLP_TD_LR_FACTORS = {
    "coefs": 1.0,
    "intercepts": 0.1,
    "feature_scale": 6.0,
    "activation_mix": 0.1,
    "numeric_embedding": 0.1,
    "category_embedding": 1.0,
    "member_scale": 1.0,
}

#: RealMLP-TD's weight-decay multipliers per group, as
#: :data:`~sknumpynet._parameters.REALMLP_TD_WD_FACTORS`: pytabkit's decay
#: of a parameter enters its lr factor and wd factor squared, so a group with
#: lr factor 0.1 and wd factor 1 decays by 0.01 (intercepts: wd factor 0).
REALMLP_TD_WD_FACTORS = {
    "coefs": 1.0,
    "intercepts": 0.0,
    "feature_scale": 36.0,
    "activation_mix": 0.01,
    "numeric_embedding": 0.01,
    "category_embedding": 1.0,
    "member_scale": 1.0,
}

_TWO_PI = 2.0 * np.pi


class TabularNetwork(MiniBatchTraining):
    r"""Embeddings, a learnable input scale and NTK dense layers; k members.

    The input is a matrix of preprocessed columns
    (:class:`~sknumpynet.TabularPreprocessor`'s). The first layer sees

    .. math:: a^{(0)} = \bigl[x_P,\ \phi(x_N),\ E(x_C)\bigr] \odot s

    where :math:`x_P` are every column but the category codes, :math:`\phi`
    the periodic embedding of each numeric column :math:`x_j` (PBLD):
    :math:`\phi_j(x) = \cos(2\pi w_j x + b_j)\, V_j + c_j` with
    ``n_frequencies`` frequencies and ``embedding_dim`` outputs (the column
    itself is in :math:`x_P`: the "densenet" link), :math:`E` the learned
    rows of each code column's table, and :math:`s` the feature scale. With
    ``n_members`` :math:`k > 1`, member :math:`m` sees :math:`a^{(0)} \odot
    r_m`; the hidden layers are shared and each member has its own output
    layer. Layer :math:`i` computes :math:`z = c_i\, a W + b` with
    :math:`c_i = 1/\sqrt{\text{fan\_in}}` (NTK), then
    :math:`a = z + \alpha \odot (f(z) - z)` with a learned mixing weight
    :math:`\alpha` per unit (``parametric_activation``; else :math:`f(z)`).
    Training minimises the mean of the members' losses; prediction averages
    the members' outputs (probabilities for a softmax).

    Parameters
    ----------
    n_inputs : int
        Columns of the input matrix.
    hidden_units : sequence of int
        Units of each hidden layer.
    n_outputs : int
        Units of the output layer.
    activation : str
        A key of :data:`~sknumpynet._activations.HIDDEN_ACTIVATIONS`.
    output_activation, loss : str
        A pair of :data:`~sknumpynet._losses.LOSSES`.
    dtype : numpy dtype
        float32 or float64.
    numeric_columns : sequence of int, default=()
        The columns that get a periodic embedding.
    code_columns : sequence of int, default=()
        Columns holding category codes 0..K-1 (as floats): each gets a
        learned table of ``n_codes`` rows instead of entering directly.
    n_codes : sequence of int, default=()
        The table size of each code column.
    category_dim : int, default=8
        Width of a category's learned row.
    n_frequencies : int, default=16
        Frequencies per numeric column (0: no periodic embedding).
    embedding_dim : int, default=3
        Outputs of each numeric column's embedding.
    frequency_scale : float, default=0.1
        Standard deviation of the initial frequencies :math:`w`.
    ple_columns : sequence of int, default=()
        Columns that get a piecewise-linear encoding (fixed, not learned).
    ple_bins : sequence of ndarray, default=()
        The bin edges :math:`b_0 < \dots < b_T` of each of them: component
        :math:`t` of :math:`x` is :math:`(x - b_{t-1}) / (b_t - b_{t-1})`
        clipped to [0, 1], the first one not below and the last one not
        above ("PLE", Gorishniy, Rubachev, Babenko, NeurIPS 2022).
    parametric_activation : bool, default=True
        Whether each hidden unit learns its mixing weight :math:`\alpha`.
    feature_scale : bool, default=True
        Whether the first layer's input is multiplied by a learned :math:`s`.
    n_members : int, default=1
        Members of the shared-weight ensemble.
    dropout : float, default=0.0
        Inverted-dropout rate of every hidden layer while training.
    label_smoothing : float, default=0.0
        :math:`\varepsilon` of the smoothed targets (log-losses only).

    Attributes
    ----------
    params, grad : ndarray of shape (n_params,)
        Every parameter, and the last gradient, in one flat buffer.
    views : dict
        Per group a list of named views of :attr:`params`
        (:meth:`parameter_views`).
    layer_units : list of int
        Units of the dense layers, the embedded input first.

    Examples
    --------
    >>> import numpy as np
    >>> from sknumpynet._tabular_network import TabularNetwork
    >>> net = TabularNetwork(3, [8], 2, "selu", "softmax", "log_loss",
    ...                      np.float64, numeric_columns=[0, 1],
    ...                      code_columns=[2], n_codes=[4], n_members=4)
    >>> X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0], [0.0, 2.0, 3.0]])
    >>> net.initialize(np.random.RandomState(0), X)
    >>> net.layer_units  # 2 columns + 2 x 3 embedded + 8 for the codes
    [16, 8, 2]
    >>> net.predict(X).sum(axis=1)
    array([1., 1., 1.])
    """

    def __init__(
        self,
        n_inputs,
        hidden_units,
        n_outputs,
        activation,
        output_activation,
        loss,
        dtype,
        *,
        numeric_columns=(),
        code_columns=(),
        n_codes=(),
        category_dim=8,
        n_frequencies=16,
        embedding_dim=3,
        frequency_scale=0.1,
        ple_columns=(),
        ple_bins=(),
        parametric_activation=True,
        feature_scale=True,
        n_members=1,
        dropout=0.0,
        label_smoothing=0.0,
    ):
        self.dtype = np.dtype(dtype)
        self.n_inputs = int(n_inputs)
        self.code_columns = np.asarray(code_columns, dtype=np.intp).reshape(-1)
        self.n_codes = np.asarray(n_codes, dtype=np.intp).reshape(-1)
        if self.code_columns.shape != self.n_codes.shape:
            raise ValueError("code_columns and n_codes must have the same length.")
        if (self.n_codes < 1).any():
            raise ValueError("every code column needs n_codes >= 1.")
        self.passthrough = np.setdiff1d(np.arange(self.n_inputs), self.code_columns)
        self.numeric_columns = np.asarray(numeric_columns, dtype=np.intp).reshape(-1)
        if n_frequencies == 0:
            self.numeric_columns = self.numeric_columns[:0]
        if np.isin(self.numeric_columns, self.code_columns).any():
            raise ValueError("a code column cannot also be a numeric column.")
        self.n_frequencies = int(n_frequencies)
        self._set_ple(ple_columns, ple_bins)
        self.embedding_dim = int(embedding_dim)
        self.frequency_scale = float(frequency_scale)
        self.category_dim = int(category_dim)
        self.n_members = int(n_members)
        if self.n_members < 1:
            raise ValueError(f"n_members must be >= 1, got {n_members!r}.")
        self.parametric_activation = bool(parametric_activation)
        self.has_feature_scale = bool(feature_scale)
        self.activation = activation
        self.hidden_forward, self.hidden_backward = HIDDEN_ACTIVATIONS[activation]
        self._backward_reads_z = takes_pre_activation(self.hidden_backward)
        self.output_activation = output_activation
        self.output_forward = OUTPUT_ACTIVATIONS[output_activation]
        self.loss_function, self.output_delta = LOSSES[(output_activation, loss)]
        self.label_smoothing = float(label_smoothing)
        self._smoothing_classes = (
            label_smoothing_classes((output_activation, loss), n_outputs)
            if self.label_smoothing
            else None
        )
        self._report_divisor = n_outputs if loss in REPORTED_AS_MEAN_OVER_OUTPUTS else 1
        self.reported_loss = None

        n_embedded = (
            len(self.passthrough)
            + len(self.numeric_columns) * self.embedding_dim
            + len(self._ple_source)
            + len(self.code_columns) * self.category_dim
        )
        self.layer_units = [n_embedded, *(int(u) for u in hidden_units), int(n_outputs)]
        self.dropout = [float(dropout)] * (len(self.layer_units) - 2)
        # 1 / sqrt(fan_in) of each dense layer (the NTK parametrization).
        self.weight_factors = [
            self.dtype.type(1.0 / np.sqrt(units)) for units in self.layer_units[:-1]
        ]
        self._code_offsets = np.concatenate([[0], np.cumsum(self.n_codes)[:-1]]).astype(
            np.intp
        )
        self._layout = self._parameter_layout()
        size = sum(int(np.prod(shape)) for _, _, shape in self._layout)
        self.params = np.zeros(size, dtype=self.dtype)
        self.grad = np.zeros(size, dtype=self.dtype)
        self.views = self.parameter_views(self.params)
        self._grads = self.parameter_views(self.grad)
        #: Size of the leading "coefs" group, which an L2 penalty reads (the
        #: layout is fixed: read once, not at every step).
        self.n_coefs = self.group_slices()["coefs"].stop

    def _set_ple(self, columns, bins):
        """The piecewise-linear encoding, flattened over its components:
        each one's source column, left edge, width and clipping bounds."""
        columns = np.asarray(columns, dtype=np.intp).reshape(-1)
        if len(columns) != len(bins):
            raise ValueError("ple_columns and ple_bins must have the same length.")
        if np.isin(columns, self.code_columns).any():
            raise ValueError("a code column cannot have a piecewise-linear encoding.")
        if ((columns < 0) | (columns >= self.n_inputs)).any():
            raise ValueError(
                f"ple_columns must be columns of the {self.n_inputs} inputs."
            )
        source, left, width, low, high = [], [], [], [], []
        for column, edges in zip(columns, bins):
            edges = np.asarray(edges, dtype=np.float64)
            if (
                edges.ndim != 1
                or len(edges) < 2
                or not np.isfinite(edges).all()
                or (np.diff(edges) <= 0).any()
            ):
                raise ValueError(
                    "each entry of ple_bins must hold at least 2 finite, strictly "
                    f"increasing bin edges; got {edges!r} for column {column}."
                )
            n = len(edges) - 1
            source += [column] * n
            left += edges[:-1].tolist()
            width += np.diff(edges).tolist()
            low += [-np.inf] + [0.0] * (n - 1)
            high += [1.0] * (n - 1) + [np.inf]
        self.ple_columns = columns
        self.ple_bins = [np.asarray(edges, dtype=np.float64) for edges in bins]
        self._ple_source = np.asarray(source, dtype=np.intp)
        dtype = self.dtype
        self._ple_left = np.asarray(left, dtype=dtype)
        self._ple_width = np.asarray(width, dtype=dtype)
        self._ple_low = np.asarray(low, dtype=dtype)
        self._ple_high = np.asarray(high, dtype=dtype)

    def piecewise_linear(self, X):
        """The piecewise-linear encoding of ``X``'s ``ple_columns``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)

        Returns
        -------
        encoded : ndarray of shape (n_samples, n_components)
        """
        encoded = X[:, self._ple_source] - self._ple_left
        encoded /= self._ple_width
        return np.clip(encoded, self._ple_low, self._ple_high, out=encoded)

    # -- the flat buffer -------------------------------------------------------

    def _parameter_layout(self):
        """``(group, name, shape)`` of every parameter array, in buffer order."""
        units, k = self.layer_units, self.n_members
        last = len(units) - 2
        layout = []
        for i in range(len(units) - 1):
            shape = (units[i], units[i + 1])
            layout.append(
                ("coefs", f"coef_{i}", (k, *shape) if i == last and k > 1 else shape)
            )
        for i in range(len(units) - 1):
            shape = (units[i + 1],)
            layout.append(
                (
                    "intercepts",
                    f"intercept_{i}",
                    (k, *shape) if i == last and k > 1 else shape,
                )
            )
        if self.has_feature_scale:
            layout.append(("feature_scale", "scale", (units[0],)))
        if self.parametric_activation:
            for i in range(1, len(units) - 1):
                layout.append(("activation_mix", f"mix_{i - 1}", (units[i],)))
        m, F, E = len(self.numeric_columns), self.n_frequencies, self.embedding_dim
        if m:
            layout += [
                ("numeric_embedding", "frequencies", (m, F)),
                ("numeric_embedding", "phases", (m, F)),
                ("numeric_embedding", "embedding_coefs", (m, F, E)),
                ("numeric_embedding", "embedding_intercepts", (m, E)),
            ]
        if len(self.code_columns):
            layout.append(
                (
                    "category_embedding",
                    "table",
                    (int(self.n_codes.sum()), self.category_dim),
                )
            )
        if k > 1:
            layout.append(("member_scale", "member_scale", (k, units[0])))
        return layout

    def parameter_views(self, buffer):
        """Named views of a flat buffer laid out as :attr:`params`.

        Parameters
        ----------
        buffer : ndarray of shape (n_params,)

        Returns
        -------
        views : dict of str to ndarray
            One view per parameter array (``coef_0``, ..., ``intercept_0``,
            ..., ``scale``, ``mix_0``, ..., ``frequencies``, ``phases``,
            ``embedding_coefs``, ``embedding_intercepts``, ``table``,
            ``member_scale``: those the network has).
        """
        views, start = {}, 0
        for _, name, shape in self._layout:
            stop = start + int(np.prod(shape))
            views[name] = buffer[start:stop].reshape(shape)
            start = stop
        return views

    def group_slices(self):
        """Where each group lies in the flat buffer, by group name."""
        slices, start = {}, 0
        for group, _, shape in self._layout:
            stop = start + int(np.prod(shape))
            first = slices.get(group, slice(start, start)).start
            slices[group] = slice(first, stop)
            start = stop
        return slices

    def lr_multipliers(self, **factors):
        """A multiplier for every parameter, by group (as
        :meth:`sknumpynet._network.MLP.lr_multipliers`); a group not named
        gets 1.

        Parameters
        ----------
        **factors : float
            Keys of :data:`GROUPS`.

        Returns
        -------
        multipliers : ndarray of shape (n_params,)
        """
        unknown = set(factors) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown parameter groups {sorted(unknown)}.")
        multipliers = np.ones(self.params.size, dtype=self.dtype)
        for group, where in self.group_slices().items():
            multipliers[where] = factors.get(group, 1.0)
        return multipliers

    # -- initialisation --------------------------------------------------------

    def initialize(self, random_state, X, *, method="data"):
        r"""Draw the initial parameters.

        The embeddings as RealMLP-TD draws them: frequencies
        :math:`w \sim N(0, \sigma^2)`, phases :math:`b \sim U[-\pi, \pi]`,
        :math:`V, c \sim U[-1, 1]/\sqrt{F}`, category rows :math:`N(0, 1)`;
        :math:`s = 1`, :math:`\alpha = 1`, member scales random signs. The
        dense layers by ``method``:

        * "data" (RealMLP-TD): layer by layer on ``X``, weights
          :math:`N(0, 1)` divided by the standard deviation of their unit's
          pre-activation on the data, so every unit starts at unit spread;
          each intercept is minus that pre-activation at a random convex
          combination of 5 rows ("he+5"), so every unit's kink passes
          through the data.
        * "normal" (RealMLP-TD-S): weights and intercepts :math:`N(0, 1)`,
          the output layer zero.

        Parameters
        ----------
        random_state : numpy.random.RandomState
        X : ndarray of shape (n_samples, n_inputs)
            Training input (the "data" method reads it; a subsample does).
        method : {"data", "normal"}, default="data"
        """
        rng, dtype, v = random_state, self.dtype, self.views
        m, F, E = len(self.numeric_columns), self.n_frequencies, self.embedding_dim
        if m:
            v["frequencies"][...] = self.frequency_scale * rng.standard_normal((m, F))
            v["phases"][...] = np.pi * rng.uniform(-1.0, 1.0, (m, F))
            bound = 1.0 / np.sqrt(F)
            v["embedding_coefs"][...] = bound * rng.uniform(-1.0, 1.0, (m, F, E))
            v["embedding_intercepts"][...] = bound * rng.uniform(-1.0, 1.0, (m, E))
        if len(self.code_columns):
            v["table"][...] = rng.standard_normal(v["table"].shape)
        if self.has_feature_scale:
            v["scale"][...] = 1.0
        for i in range(len(self.layer_units) - 2):
            if self.parametric_activation:
                v[f"mix_{i}"][...] = 1.0
        if self.n_members > 1:
            v["member_scale"][...] = rng.choice([-1.0, 1.0], v["member_scale"].shape)
        if method == "normal":
            last = len(self.layer_units) - 2
            for i in range(last + 1):
                W, b = v[f"coef_{i}"], v[f"intercept_{i}"]
                if i == last:
                    W[...], b[...] = 0.0, 0.0
                else:
                    W[...] = rng.standard_normal(W.shape)
                    b[...] = rng.standard_normal(b.shape)
            return
        if method != "data":
            raise ValueError(f"method must be 'data' or 'normal', got {method!r}.")
        X = np.asarray(X, dtype=dtype)
        a = self._member_input(self._scaled_input(self._embed(X)[0])[0])
        n = X.shape[0]
        last = len(self.layer_units) - 2
        for i in range(last + 1):
            W, b = v[f"coef_{i}"], v[f"intercept_{i}"]
            W[...] = rng.standard_normal(W.shape)
            if i == last and self.n_members > 1:
                a_members = a.reshape(self.n_members, n, -1)
                z = np.matmul(a_members, W) * self.weight_factors[i]
                spread = z.std(axis=1)  # (k, units)
                spread[spread == 0] = 1.0
                W /= spread[:, None, :]
                z /= spread[:, None, :]
                for member in range(self.n_members):
                    b[member] = _he_plus_intercepts(z[member], rng)
                break
            z = (a @ W) * self.weight_factors[i]
            spread = z.std(axis=0)
            spread[spread == 0] = 1.0  # a dead unit keeps its draw
            W /= spread
            z /= spread
            b[...] = _he_plus_intercepts(z, rng)
            if i < last:
                z += b
                a = self.hidden_forward(z)  # alpha = 1: the activation itself

    # -- forward ---------------------------------------------------------------

    def _embed(self, X):
        """The first layer's input before the scale, and what backprop reads."""
        dtype = self.dtype
        n = X.shape[0]
        parts = [X[:, self.passthrough]]
        cache = {}
        if len(self.numeric_columns):
            v = self.views
            x = X[:, self.numeric_columns].T[:, :, None]  # (m, n, 1)
            t = x * (_TWO_PI * v["frequencies"][:, None, :]).astype(dtype)
            t += v["phases"][:, None, :]
            cosines = np.cos(t)  # (m, n, F)
            h = np.matmul(cosines, v["embedding_coefs"])  # (m, n, E)
            h += v["embedding_intercepts"][:, None, :]
            parts.append(h.transpose(1, 0, 2).reshape(n, -1))
            cache.update(x=x, t=t, cosines=cosines)
        if len(self._ple_source):
            parts.append(self.piecewise_linear(X))
        if len(self.code_columns):
            codes = X[:, self.code_columns].astype(np.intp)
            # Codes out of range (never from the preprocessor) read row 0.
            codes[(codes < 0) | (codes >= self.n_codes)] = 0
            rows = codes + self._code_offsets
            parts.append(self.views["table"][rows].reshape(n, -1))
            cache["rows"] = rows
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0], cache

    def _scaled_input(self, a0):
        if not self.has_feature_scale:
            return a0, a0
        return a0 * self.views["scale"], a0

    def _member_input(self, a):
        """Each member's view of the first layer's input, stacked by rows."""
        k = self.n_members
        if k == 1:
            return a
        r = self.views["member_scale"]
        return (a[None, :, :] * r[:, None, :]).reshape(k * a.shape[0], a.shape[1])

    def _hidden(self, z, i):
        """The activation of hidden layer ``i`` from its pre-activation ``z``
        (not modified); returns ``(a, f(z))``."""
        fz = self.hidden_forward(z.copy())
        if not self.parametric_activation:
            return fz, fz
        mix = self.views[f"mix_{i}"]
        a = fz - z
        a *= mix
        a += z
        return a, fz

    def _output_layer(self, a, n):
        """The output layer's pre-activation for ``k * n`` stacked rows."""
        last = len(self.layer_units) - 2
        W, b = self.views[f"coef_{last}"], self.views[f"intercept_{last}"]
        if self.n_members == 1:
            z = a @ W
            z *= self.weight_factors[last]
            z += b
            return z
        z = np.matmul(a.reshape(self.n_members, n, -1), W)
        z *= self.weight_factors[last]
        z += b[:, None, :]
        return z.reshape(self.n_members * n, -1)

    #: Every layer has intercepts (what :mod:`sknumpynet._gradcheck` reads).
    fit_intercept = True

    def member_outputs(self, X, n_layers=None):
        """Every member's output for ``X`` (or its activation after
        ``n_layers`` dense layers).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        n_layers : int, default=None
            Stop after this many hidden layers; by default run them all and
            the output layer.

        Returns
        -------
        outputs : ndarray of shape (n_members, n_samples, n_units)
        """
        n = X.shape[0]
        a = self._member_input(self._scaled_input(self._embed(X)[0])[0])
        n_hidden = len(self.layer_units) - 2
        for i in range(n_hidden if n_layers is None else min(n_layers, n_hidden)):
            z = a @ self.views[f"coef_{i}"]
            z *= self.weight_factors[i]
            z += self.views[f"intercept_{i}"]
            a = self._hidden(z, i)[0]
        if n_layers is not None and n_layers <= n_hidden:
            return a.reshape(self.n_members, n, -1)
        z = self._output_layer(a, n)
        self.output_forward(z)
        return z.reshape(self.n_members, n, -1)

    def predict(self, X, n_layers=None):
        """The network's output for ``X``: the mean of its members' (or of
        their activations after ``n_layers`` hidden layers).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        n_layers : int, default=None
            As in :meth:`member_outputs`.

        Returns
        -------
        output : ndarray of shape (n_samples, n_units)
        """
        outputs = self.member_outputs(X, n_layers)
        if self.n_members == 1:
            return outputs[0]
        return outputs.mean(axis=0)

    # -- backward --------------------------------------------------------------

    def loss_and_gradient(
        self, X, y, sample_weight, alpha, batch_size=None, masks=None
    ):
        """Mean loss of the members on a batch, and its gradient in :attr:`grad`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        y : ndarray of shape (n_samples, n_outputs)
        sample_weight : None
            The recipe trains on unweighted rows.
        alpha : float
            Strength of an L2 penalty on the "coefs" group (0 in the recipe,
            which decays weights in the optimizer instead).
        batch_size : int, default=None
            Unused (the signature of :meth:`sknumpynet._network.MLP.loss_and_gradient`).
        masks : list of ndarray or None, default=None
            Dropout masks of the hidden layers, for ``n_members * n_samples``
            rows (:meth:`_dropout_masks`).

        Returns
        -------
        loss : float
        """
        if sample_weight is not None:
            raise ValueError("TabularNetwork trains on unweighted rows.")
        v, g = self.views, self._grads
        k, n = self.n_members, X.shape[0]
        last = len(self.layer_units) - 2
        a0, embed_cache = self._embed(X)
        a0_scaled, _ = self._scaled_input(a0)
        inputs = [self._member_input(a0_scaled)]
        kept = []  # per hidden layer: (z, f(z))
        for i in range(last):
            z = inputs[-1] @ v[f"coef_{i}"]
            z *= self.weight_factors[i]
            z += v[f"intercept_{i}"]
            a, fz = self._hidden(z, i)
            kept.append((z, fz))
            if masks is not None and masks[i] is not None:
                a = a * masks[i]
            inputs.append(a)
        output = self._output_layer(inputs[-1], n)
        self.output_forward(output)

        targets = np.tile(y, (k, 1)) if k > 1 else y
        if self.label_smoothing:
            targets = smooth_labels(
                targets,
                self.label_smoothing,
                self._smoothing_classes,
                np.empty_like(output),
            )
        rows = k * n
        data_loss = self.loss_function(targets, output, None)
        coefs = self.params[: self.n_coefs]
        penalty = 0.5 * alpha * np.dot(coefs, coefs) / rows if alpha else 0.0
        self.reported_loss = float(data_loss / self._report_divisor + penalty)

        self.grad[...] = 0.0
        delta = self.output_delta(targets, output, out=np.empty_like(output))
        # The output layer: per member when there are several.
        c = self.weight_factors[last]
        W_out = v[f"coef_{last}"]
        if k == 1:
            np.dot(inputs[-1].T, delta, out=g[f"coef_{last}"])
            g[f"coef_{last}"] *= c
            g[f"intercept_{last}"][...] = delta.sum(axis=0)
            below = delta @ W_out.T
        else:
            a_members = inputs[-1].reshape(k, n, -1)
            d_members = delta.reshape(k, n, -1)
            np.matmul(a_members.transpose(0, 2, 1), d_members, out=g[f"coef_{last}"])
            g[f"coef_{last}"] *= c
            g[f"intercept_{last}"][...] = d_members.sum(axis=1)
            below = np.matmul(d_members, W_out.transpose(0, 2, 1)).reshape(rows, -1)
        below *= c
        for i in range(last - 1, -1, -1):
            # below = dL/da of hidden layer i; through dropout, the mix, f'.
            if masks is not None and masks[i] is not None:
                below *= masks[i]
            z, fz = kept[i]
            if self.parametric_activation:
                mix = v[f"mix_{i}"]
                np.add.reduce((fz - z) * below, axis=0, out=g[f"mix_{i}"])
                through_f = below * mix
                self.hidden_backward(z if self._backward_reads_z else fz, through_f)
                below *= 1 - mix
                below += through_f
            else:
                self.hidden_backward(z if self._backward_reads_z else fz, below)
            np.dot(inputs[i].T, below, out=g[f"coef_{i}"])
            g[f"coef_{i}"] *= self.weight_factors[i]
            np.add.reduce(below, axis=0, out=g[f"intercept_{i}"])
            if i > 0 or self._input_needs_gradient():
                below = below @ v[f"coef_{i}"].T
                below *= self.weight_factors[i]
        if self._input_needs_gradient():
            self._backward_input(below, a0, a0_scaled, embed_cache, n)

        if alpha:
            self.grad[: self.n_coefs] += alpha * coefs
        self.grad /= rows
        return float(data_loss + penalty)

    def _input_needs_gradient(self):
        return (
            self.has_feature_scale
            or self.n_members > 1
            or len(self.numeric_columns) > 0
            or len(self.code_columns) > 0
        )

    def _backward_input(self, below, a0, a0_scaled, cache, n):
        """From dL/d(first layer's input) to the scale, member scales and
        embeddings."""
        v, g, k = self.views, self._grads, self.n_members
        if k > 1:
            below = below.reshape(k, n, -1)
            r = v["member_scale"]
            g["member_scale"][...] = np.einsum("knd,nd->kd", below, a0_scaled)
            below = np.einsum("knd,kd->nd", below, r)
        if self.has_feature_scale:
            np.einsum("nd,nd->d", below, a0, out=g["scale"])
            below = below * v["scale"]
        start = len(self.passthrough)
        m, E = len(self.numeric_columns), self.embedding_dim
        if m:
            dh = below[:, start : start + m * E].reshape(n, m, E).transpose(1, 0, 2)
            start += m * E
            np.matmul(cache["cosines"].transpose(0, 2, 1), dh, out=g["embedding_coefs"])
            g["embedding_intercepts"][...] = dh.sum(axis=1)
            dt = np.matmul(dh, v["embedding_coefs"].transpose(0, 2, 1))  # (m, n, F)
            dt *= -np.sin(cache["t"])
            g["phases"][...] = dt.sum(axis=1)
            g["frequencies"][...] = _TWO_PI * np.einsum(
                "mnf,mn->mf", dt, cache["x"][:, :, 0]
            )
        start += len(self._ple_source)  # a fixed encoding: nothing to learn
        if len(self.code_columns):
            D = self.category_dim
            d_rows = below[:, start : start + len(self.code_columns) * D].reshape(-1, D)
            np.add.at(g["table"], cache["rows"].reshape(-1), d_rows)

    def _hidden_rows(self, n_samples):
        """The members' stacked rows: dropout masks are drawn for each."""
        return self.n_members * n_samples

    def reported_data_loss(self, y, y_pred, sample_weight=None):
        """The loss of (averaged) predictions, as the estimators report it.

        Parameters
        ----------
        y, y_pred : ndarray of shape (n_samples, n_outputs)
        sample_weight : None

        Returns
        -------
        loss : float
        """
        return float(
            self.loss_function(y, y_pred, sample_weight) / self._report_divisor
        )


def _he_plus_intercepts(z, rng, n_rows=5):
    """Minus each unit's pre-activation at a random convex combination of
    ``n_rows`` rows: pytabkit's "he+5" intercepts.

    Parameters
    ----------
    z : ndarray of shape (n_samples, n_units)
        Pre-activations without intercepts.
    rng : numpy.random.RandomState

    Returns
    -------
    intercepts : ndarray of shape (n_units,)
    """
    n_samples, n_units = z.shape
    rows = rng.randint(0, n_samples, size=(n_units, n_rows))
    weights = rng.exponential(1.0, size=(n_units, n_rows))
    weights /= weights.sum(axis=1, keepdims=True)
    chosen = z[rows, np.arange(n_units)[:, None]]
    return -(chosen * weights).sum(axis=1)
