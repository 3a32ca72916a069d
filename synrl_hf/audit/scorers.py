"""The two candidate scorers of the blind and single-frame baselines, in numpy.

Both are the textbook models scikit-learn would fit with the settings the audit uses, written out
so that ``synrl audit`` runs in the ``gen`` install (numpy is all it needs):

- :class:`LogisticScorer`: L2-regularised logistic regression (``C``, unpenalised intercept) on
  standardised features, the exact optimum found by Newton's method; scikit-learn's
  ``LogisticRegression(C=0.5)`` after ``StandardScaler`` minimises the same objective.
- :class:`TreeScorer`: a CART classification tree (Gini impurity, ``max_depth``,
  ``min_samples_leaf``), split search as in scikit-learn's ``DecisionTreeClassifier`` (features in
  float32, split points between values more than 1e-7 apart, the midpoint as threshold). When two
  features split equally well, the first one wins (scikit-learn draws the order at random).

tests/test_audit_scorers.py checks both against scikit-learn where it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LogisticScorer", "TreeScorer"]


class LogisticScorer:
    """``fit(x, y)`` then ``decision_function(x)``: the log-odds that a row is labelled 1."""

    def __init__(self, c: float = 0.5, max_iter: int = 100, tol: float = 1e-10):
        self.c, self.max_iter, self.tol = c, max_iter, tol

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticScorer:
        self.mean = x.mean(axis=0)
        scale = x.std(axis=0)
        self.scale = np.where(scale > 0, scale, 1.0)
        # A constant feature is 0 after centring, so its weight stays 0: it is left out of the Newton
        # system (which costs the cube of the features kept) rather than carried along.
        varies = scale > 0
        design = np.hstack([((x - self.mean) / self.scale)[:, varies], np.ones((len(x), 1))])
        penalty = np.ones(design.shape[1])
        penalty[-1] = 0.0  # the intercept is not regularised
        theta = np.zeros(design.shape[1])

        def objective(t: np.ndarray) -> float:
            z = design @ t
            return float(self.c * np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * t * t))

        current = objective(theta)
        for _ in range(self.max_iter):
            p = 1.0 / (1.0 + np.exp(-(design @ theta)))
            gradient = self.c * design.T @ (p - y) + penalty * theta
            hessian = self.c * (design.T * (p * (1.0 - p))) @ design + np.diag(penalty)
            step = _newton_step(hessian, gradient)
            size = 1.0  # damped Newton: the objective is convex but a full step can overshoot
            while (candidate := objective(theta - size * step)) > current and size > 1e-8:
                size /= 2
            if candidate > current:  # no decrease left at machine precision: converged
                break
            theta, current = theta - size * step, candidate
            if np.max(np.abs(size * step)) < self.tol:
                break
        self.weights = np.zeros(x.shape[1])
        self.weights[varies], self.intercept = theta[:-1], theta[-1]
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.intercept


def _newton_step(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Solve ``hessian @ step = gradient``. The penalty keeps the Hessian positive definite, so a
    Cholesky-based solve (several times cheaper than the least-squares SVD) suffices; a Hessian made
    singular by rounding (every row predicted with certainty) falls back to least squares."""
    try:
        return np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(hessian, gradient, rcond=None)[0]


@dataclass
class _Node:
    positive: float  # share of rows labelled 1 that reached this node
    feature: int = -1  # -1: a leaf
    threshold: float = 0.0
    left: _Node | None = None  # value <= threshold
    right: _Node | None = None


_FEATURE_THRESHOLD = np.float32(1e-7)  # values closer than this are not split apart (as in scikit-learn)


class TreeScorer:
    """``fit(x, y)`` then ``predict_proba(x)``: the share of label 1 in the leaf each row falls in."""

    def __init__(self, max_depth: int = 3, min_samples_leaf: int = 3):
        self.max_depth, self.min_samples_leaf = max_depth, min_samples_leaf

    def fit(self, x: np.ndarray, y: np.ndarray) -> TreeScorer:
        self.root = self._grow(x.astype(np.float32), np.asarray(y, dtype=np.int64), 0)
        return self

    def _grow(self, x: np.ndarray, y: np.ndarray, depth: int) -> _Node:
        n, positives = len(y), int(y.sum())
        node = _Node(positives / n)
        gini = 1.0 - (positives * positives + (n - positives) * (n - positives)) / (n * n)
        if depth >= self.max_depth or n < max(2, 2 * self.min_samples_leaf) or gini <= np.finfo(float).eps:
            return node
        best = None
        for feature in range(x.shape[1]):
            order = np.argsort(x[:, feature], kind="stable")
            values, labels = x[order, feature], y[order]
            # Split positions p (the left child holds the first p rows): between two distinct values,
            # each child with at least min_samples_leaf rows.
            p = np.flatnonzero(values[1:] > values[:-1] + _FEATURE_THRESHOLD) + 1
            p = p[(p >= self.min_samples_leaf) & (n - p >= self.min_samples_leaf)]
            if not len(p):
                continue
            left_pos = np.cumsum(labels)[p - 1].astype(float)
            left_n, right_n = p.astype(float), (n - p).astype(float)
            right_pos = positives - left_pos
            gini_left = 1.0 - (left_pos * left_pos + (left_n - left_pos) ** 2) / (left_n * left_n)
            gini_right = 1.0 - (right_pos * right_pos + (right_n - right_pos) ** 2) / (right_n * right_n)
            proxy = -right_n * gini_right - left_n * gini_left  # scikit-learn's proxy, in its order of operations
            k = int(np.argmax(proxy))
            if best is None or proxy[k] > best[0]:
                split = p[k]
                best = (proxy[k], feature, float(values[split - 1]) / 2.0 + float(values[split]) / 2.0)
        if best is None:
            return node
        _, node.feature, node.threshold = best
        goes_left = x[:, node.feature].astype(float) <= node.threshold
        node.left = self._grow(x[goes_left], y[goes_left], depth + 1)
        node.right = self._grow(x[~goes_left], y[~goes_left], depth + 1)
        return node

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """The share of label 1 per row (scikit-learn's ``predict_proba(x)[:, 1]``)."""
        x = x.astype(np.float32)
        out = np.empty(len(x))
        for i, row in enumerate(x):
            node = self.root
            while node.feature >= 0:
                node = node.left if float(row[node.feature]) <= node.threshold else node.right
            out[i] = node.positive
        return out
