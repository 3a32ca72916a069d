"""The audit's numpy statistics against scipy and scikit-learn (which the audit used to call, and
which the ``dev`` extra still installs for this comparison): the same p-values, the same logistic
optimum, the same trees up to the choice between equally good splits, and the same blind and
single-frame verdicts on real rows."""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf import build_scene
from synrl_hf.audit import common
from synrl_hf.audit.blind import check_blind
from synrl_hf.audit.common import binomial_p
from synrl_hf.audit.scorers import LogisticScorer, TreeScorer
from synrl_hf.audit.single_frame import check_single_frame
from synrl_hf.sample import scene_row

stats = pytest.importorskip("scipy.stats")
pytest.importorskip("sklearn")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402


def test_binomial_tail_is_scipys():
    for trials in (1, 7, 40, 300, 2000):
        for rate in (0.0, 0.01, 0.25, 1 / 3, 0.5, 0.9, 1.0):
            for successes in sorted({0, 1, trials // 4, trials // 2, (3 * trials) // 4, trials, trials + 1}):
                expected = float(stats.binom.sf(successes - 1, trials, rate))
                assert binomial_p(successes, trials, rate) == pytest.approx(expected, rel=1e-9, abs=1e-300), (successes, trials, rate)
    assert binomial_p(3, 0, 0.5) == 1.0


def _data(seed: int, n: int = 240, d: int = 12):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[:, : d // 3] = rng.integers(0, 4, size=(n, d // 3))  # a few small-integer features, like the audit's
    y = (x[:, -1] + 0.8 * x[:, -2] * x[:, 0] + rng.normal(scale=0.8, size=n) > 0.3).astype(int)
    return x, y, rng.normal(size=(n, d))


def _proxy(values: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """scikit-learn's split score (minus the children's sample-weighted Gini impurity)."""
    score = 0.0
    for side in (values <= threshold, values > threshold):
        n, positive = side.sum(), y[side].sum()
        score -= n * (1.0 - (positive**2 + (n - positive) ** 2) / n**2)
    return score


def _same_up_to_ties(ours, tree, node: int, x: np.ndarray, y: np.ndarray) -> int:
    """Walk both trees on the training rows; where they split differently, both splits must score
    the same (scikit-learn breaks such ties by a random feature order, we by the first feature).
    Returns how many nodes were identical."""
    feature, threshold = tree.feature[node], tree.threshold[node]
    if ours.feature < 0 or feature < 0:
        assert ours.feature < 0 and feature < 0 and ours.positive == pytest.approx(tree.value[node][0][1], abs=1e-12)
        return 1
    if (ours.feature, ours.threshold) != (feature, threshold):
        assert _proxy(x[:, ours.feature].astype(float), y, ours.threshold) == pytest.approx(
            _proxy(x[:, feature].astype(float), y, threshold), abs=1e-9
        )
        return 0
    left = x[:, feature].astype(float) <= threshold
    return (
        1
        + _same_up_to_ties(ours.left, tree, tree.children_left[node], x[left], y[left])
        + _same_up_to_ties(ours.right, tree, tree.children_right[node], x[~left], y[~left])
    )


@pytest.mark.parametrize("seed", range(8))
def test_tree_is_scikit_learns_up_to_ties(seed):
    x, y, test = _data(seed)
    ours = TreeScorer(max_depth=3, min_samples_leaf=3).fit(x, y)
    theirs = DecisionTreeClassifier(max_depth=3, min_samples_leaf=3, random_state=0).fit(x, y)
    identical = _same_up_to_ties(ours.root, theirs.tree_, 0, x.astype(np.float32), y)
    if identical == theirs.tree_.node_count:  # no tie anywhere: the same predictions, exactly
        for rows in (x, test):
            np.testing.assert_array_equal(ours.predict_proba(rows), theirs.predict_proba(rows)[:, 1])


@pytest.mark.parametrize("seed", range(4))
def test_logistic_regression_is_scikit_learns(seed):
    x, y, test = _data(seed)
    x[:, 1] = 5.0  # a constant feature
    ours = LogisticScorer(c=0.5).fit(x, y)
    scaler = StandardScaler().fit(x)
    theirs = LogisticRegression(C=0.5, max_iter=2000, tol=1e-10).fit(scaler.transform(x), y)
    for rows in (x, test):
        np.testing.assert_allclose(ours.decision_function(rows), theirs.decision_function(scaler.transform(rows)), atol=1e-5)


class _ScikitScorer(common._Scorer):
    """The audit's candidate scorer as it was, on scikit-learn's models."""

    def fit(self, choices):
        self.names = sorted({name for c in choices for f in c.features for name in f})
        x, _, y = common._matrix(choices, self.names)
        self.constant = 0 if len(set(y.tolist())) < 2 else None
        if self.constant is None and self.name == "logistic":
            scaler = StandardScaler().fit(x)
            model = LogisticRegression(C=0.5, max_iter=2000).fit(scaler.transform(x), y)
            self.model = type("Scaled", (), {"decision_function": lambda _, rows: model.decision_function(scaler.transform(rows))})()
        elif self.constant is None:
            tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=3, random_state=0).fit(x, y)
            self.model = type("Tree", (), {"predict_proba": lambda _, rows: tree.predict_proba(rows)[:, 1]})()
        return self


@pytest.mark.parametrize("family", ["direction", "rotation_count", "speed", "card_stack", "chip_container", "shell_game"])
def test_blind_and_single_frame_verdicts_are_unchanged(family, monkeypatch):
    rows = [scene_row(build_scene(family, i, 0, "train"), None, 448) for i in range(60)]
    ours = [check_blind(family, rows), check_single_frame(family, rows)]
    monkeypatch.setattr(common, "MODELS", (lambda: common._Majority(), lambda: _ScikitScorer("logistic"), lambda: _ScikitScorer("tree")))
    theirs = [check_blind(family, rows), check_single_frame(family, rows)]
    for a, b in zip(ours, theirs):  # the verdict; held-out numbers may move where a tree broke a tie differently
        assert a.status == b.status and a.details["n"] == b.details["n"] and a.details["majority"] == b.details["majority"]
