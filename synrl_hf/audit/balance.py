"""Check 1, balance: no answer letter, value or option dominates within a family.

Tested distributions, per family:

- ``letter``: the correct letter of every multiple-choice row; under balance each row's letter is
  uniform over its own options (rows may have 3 or 4 options);
- ``option:<kind>``: the correct option's *text* per question program (e.g. which compass
  direction, which count, which trend); under balance it is uniform over the row's options;
- ``number:<kind>``: integer answers per question program, uniform over the values seen (min … max);
- ``yes_no``: yes and no, 50/50.

Each reports the counts, the largest share and the p-value of Pearson's chi-square statistic
against that null. The null of the letter and option tests is a sum of per-row uniform draws,
not a multinomial, and counts are small, so the p-value is a Monte Carlo one (4000 draws of the
null, same statistic), which is exact where the chi-square approximation is not. Sequence and
interval answers have no finite answer space to balance and are listed as such.

A family fails when any test has p < ``P_FAIL`` (0.001; about 5 tests per family and 18 families
make a stricter level necessary so that a balanced build does not fail on noise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..questions import LETTERS
from .common import FAIL, PASS, SKIP, CheckResult, monte_carlo_p

P_FAIL = 0.001
MIN_ROWS = 6  # fewer rows than this: the test is reported but cannot fail


def _per_row_uniform(row_categories: Sequence[Sequence[str]], observed: Sequence[str]) -> dict[str, Any]:
    """Test ``observed[i]`` (one of ``row_categories[i]``) against a uniform pick within each row."""
    names = sorted({c for cats in row_categories for c in cats})
    index = {name: i for i, name in enumerate(names)}
    expected = np.zeros(len(names))
    for cats in row_categories:
        for c in cats:
            expected[index[c]] += 1.0 / len(cats)
    counts = np.zeros(len(names))
    for value in observed:
        counts[index[value]] += 1

    def statistic(table: np.ndarray) -> np.ndarray:
        return (((table - expected) ** 2) / np.maximum(expected, 1e-12)).sum(axis=-1)

    def sampler(rng: np.random.Generator, draws: int) -> np.ndarray:
        table = np.zeros((draws, len(names)))
        for cats in row_categories:
            picks = rng.integers(len(cats), size=draws)
            columns = np.array([index[c] for c in cats])[picks]
            np.add.at(table, (np.arange(draws), columns), 1)
        return table

    observed_stat = float(statistic(counts))
    p = monte_carlo_p(statistic, sampler, observed_stat)
    n = len(observed)
    largest = int(np.argmax(counts)) if n else 0
    return {
        "n": n,
        "counts": {name: int(counts[index[name]]) for name in names if counts[index[name]] or expected[index[name]] >= 1},
        "expected_share": {name: round(float(expected[index[name]] / max(n, 1)), 3) for name in names} if len(names) <= 12 else None,
        "largest": names[largest] if n else None,
        "largest_share": round(float(counts[largest] / n), 3) if n else None,
        "chi2": round(observed_stat, 3),
        "p": round(p, 5),
    }


def _numbers(values: Sequence[int]) -> dict[str, Any]:
    low, high = min(values), max(values)
    support = [str(v) for v in range(low, high + 1)]
    return _per_row_uniform([support] * len(values), [str(v) for v in values])


def check_balance(family: str, rows: Sequence[dict[str, Any]]) -> CheckResult:
    tests: dict[str, dict[str, Any]] = {}
    mc = [r for r in rows if r["answer_type"] == "multiple_choice" and r["options"]]
    if mc:
        tests["letter"] = _per_row_uniform([list(LETTERS[: len(r["options"])]) for r in mc], [r["answer"] for r in mc])
        for kind in sorted({r["question_type"] for r in mc}):
            mine = [r for r in mc if r["question_type"] == kind]
            chosen = [r["options"][LETTERS.index(r["answer"])] for r in mine]
            tests[f"option:{kind}"] = _per_row_uniform([list(dict.fromkeys(r["options"])) for r in mine], chosen)
    numbers = [r for r in rows if r["answer_type"] == "number"]
    for kind in sorted({r["question_type"] for r in numbers}):
        tests[f"number:{kind}"] = _numbers([int(r["answer"]) for r in numbers if r["question_type"] == kind])
    yes_no = [r for r in rows if r["answer_type"] == "yes_no"]
    if yes_no:
        tests["yes_no"] = _per_row_uniform([["yes", "no"]] * len(yes_no), [r["answer"] for r in yes_no])
        tests["yes_no"]["by_kind"] = {
            kind: dict(Counter(r["answer"] for r in yes_no if r["question_type"] == kind))
            for kind in sorted({r["question_type"] for r in yes_no})
        }
    other = Counter(r["answer_type"] for r in rows if r["answer_type"] in ("sequence", "interval"))
    failed = [name for name, t in tests.items() if t["n"] >= MIN_ROWS and t["p"] < P_FAIL]
    if not tests:
        return CheckResult("balance", family, SKIP, f"no choice answers ({dict(other)})", {"tests": {}, "not_tested": dict(other)})
    worst = min(tests, key=lambda name: tests[name]["p"])
    letter = tests.get("letter")
    head = f"letters max {letter['largest_share']:.0%} (p={letter['p']:.3f}); " if letter else ""
    if failed:
        parts = [
            f"{name}: {t['largest']!r} {t['largest_share']:.0%} of {t['n']} (p={t['p']:.4f})" for name, t in ((n, tests[n]) for n in failed)
        ]
        details = {"tests": tests, "failed": failed, "not_tested": dict(other)}
        return CheckResult("balance", family, FAIL, head + "unbalanced " + "; ".join(parts), details)
    summary = head + f"lowest p {tests[worst]['p']:.3f} ({worst})"
    return CheckResult("balance", family, PASS, summary, {"tests": tests, "not_tested": dict(other), "threshold_p": P_FAIL})
