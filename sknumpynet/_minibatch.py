r"""One epoch of mini-batch training: batches by index, dropout, clipping.

A mixin of :class:`sknumpynet._network.MLP`: :meth:`MiniBatchTraining.train_epoch`
gathers each batch's rows into buffers allocated once (never a shuffled copy
of the data), draws the inverted-dropout masks, runs the network's
``loss_and_gradient``, clips the gradient if asked and takes one optimizer
step. Like the rest of the engine, it never imports scikit-learn.
"""

import numpy as np


def _is_sparse(X):
    # scipy.sparse matrices and arrays, without importing scipy here.
    return hasattr(X, "tocsr")


def _take_rows(X, rows, out):
    """Gather ``X[rows]`` into the buffer ``out`` (a fresh matrix if sparse)."""
    if _is_sparse(X):
        return X[rows]
    return X.take(rows, axis=0, out=out)


class MiniBatchTraining:
    """Mini-batch epochs over a network that has ``loss_and_gradient``."""

    def train_epoch(
        self,
        X,
        y,
        sample_weight,
        optimizer,
        batch_size,
        alpha,
        rows=None,
        dropout_rng=None,
        max_grad_norm=None,
    ):
        """One pass over the data in mini-batches, one optimizer step each.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Training input (an ``np.memmap`` works: only batches are read).
        y : ndarray of shape (n_samples, n_outputs)
            Targets.
        sample_weight : ndarray of shape (n_samples,) or None
            Weight of each sample.
        optimizer : object
            Has ``step(params, grad)``, see :mod:`sknumpynet._optimizers`.
        batch_size : int
            Rows per batch; the last batch may be shorter.
        alpha : float
            Strength of the L2 penalty.
        rows : ndarray of int or None
            Rows of ``X`` to train on, in order (already shuffled by the
            caller if wanted). None means all rows in their natural order,
            taken as slices without copying.
        dropout_rng : numpy.random.Generator or None
            Source of the dropout masks; needed when :attr:`dropout` is
            non-zero for some layer.
        max_grad_norm : float or None
            Rescale each batch's gradient so that its Euclidean norm is at
            most this (gradient-norm clipping).

        Returns
        -------
        loss : float
            Mean over the epoch of each batch's reported loss, weighted by
            batch size, as scikit-learn computes ``loss_curve_``.
        """
        n_samples = X.shape[0] if rows is None else len(rows)
        X_buffer = y_buffer = weight_buffer = None
        if rows is not None:
            X_buffer = (
                None
                if _is_sparse(X)
                else np.empty((batch_size, X.shape[1]), dtype=X.dtype)
            )
            y_buffer = np.empty((batch_size, y.shape[1]), dtype=y.dtype)
            if sample_weight is not None:
                weight_buffer = np.empty(batch_size, dtype=sample_weight.dtype)

        dropout = dropout_rng is not None and any(self.dropout)
        accumulated_loss = 0.0
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            if rows is None:
                X_batch, y_batch = X[start:stop], y[start:stop]
                weight_batch = (
                    None if sample_weight is None else sample_weight[start:stop]
                )
            else:
                batch_rows = rows[start:stop]
                size = stop - start
                X_batch = _take_rows(
                    X, batch_rows, None if X_buffer is None else X_buffer[:size]
                )
                y_batch = y.take(batch_rows, axis=0, out=y_buffer[:size])
                weight_batch = (
                    None
                    if sample_weight is None
                    else sample_weight.take(batch_rows, out=weight_buffer[:size])
                )
            masks = None
            if dropout:
                masks = self._dropout_masks(dropout_rng, stop - start)
            self.loss_and_gradient(
                X_batch, y_batch, weight_batch, alpha, batch_size, masks
            )
            accumulated_loss += self.reported_loss * (stop - start)
            if max_grad_norm is not None:
                self._clip_gradient(max_grad_norm)
            optimizer.step(self.params, self.grad)
        return accumulated_loss / n_samples

    def _dropout_masks(self, rng, n_samples):
        r"""Inverted-dropout masks for one batch, one per hidden layer.

        A unit is kept with probability :math:`1 - p` and then scaled by
        :math:`1 / (1 - p)`, so that its expected output is unchanged and
        prediction needs no dropout at all.
        """
        rows = self._hidden_rows(n_samples)
        masks = []
        for units, rate in zip(self.layer_units[1:-1], self.dropout):
            if rate == 0:
                masks.append(None)
                continue
            keep = rng.random((rows, units), dtype=self.dtype) >= rate
            masks.append(keep * self.dtype.type(1.0 / (1.0 - rate)))
        return masks

    def _hidden_rows(self, n_samples):
        """Rows of the hidden layers for a batch of ``n_samples`` rows (more
        when a network stacks copies of the batch)."""
        return n_samples

    def _clip_gradient(self, max_norm):
        r"""Scale :attr:`grad` down to Euclidean norm ``max_norm`` if it is larger.

        .. math:: g \leftarrow g \cdot \min\left(1,
                  \frac{\text{max\_norm}}{\lVert g \rVert_2}\right)
        """
        with np.errstate(over="ignore"):
            norm = float(np.sqrt(np.dot(self.grad, self.grad)))
        if not np.isfinite(norm):
            # ||g||^2 overflowed (||g|| > 1.8e19 in float32): scale first.
            largest = float(np.abs(self.grad).max())
            if np.isfinite(largest):
                scaled = self.grad / self.dtype.type(largest)
                norm = largest * float(np.sqrt(np.dot(scaled, scaled)))
        if norm > max_norm:
            self.grad *= self.dtype.type(max_norm / norm)
