"""Check 2, blind baseline: what a model sees *without watching* must not give the answer away.

Inputs: the question text, the options (their positions, lengths, wording, numbers, how similar
each is to the others and to the question), the clip duration and frame count. Never the video
and never the metadata of what happens in it.

Every multiple-choice, yes/no and number row becomes a choice among candidates: its options, yes
and no, or the integers its question program answers with (min … max seen in the family). A
pooled candidate scorer (logistic regression or a depth-3 tree, picked by inner cross-validation)
and the majority rule ("always the most common letter / value for this question program") are
evaluated on held-out rows (5-fold cross-validation), per family.

Sequence answers (an ordering of objects, cards or attributes the text does not list) and interval
answers ([start, end] seconds) are not choices a blind model can enumerate; they are counted, not
scored. Their balance is not a letter question, and their content is what the pixel audit re-derives.

A family fails when
- the scorer beats the majority rule by more than 5 points with a one-sided binomial p < alpha
  (H0: accuracy = the majority rule's held-out accuracy, floored at chance), or
- the majority rule itself beats chance by more than 5 points with p < alpha (H0: chance): a
  model that always gives the most common answer then scores above chance without watching.

alpha is 0.01 for one family, 0.01 / k when an audit checks k families (``common.ALPHA``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..questions import LETTERS
from .common import ALPHA, FAIL, PASS, SKIP, CheckResult, Choice, beats, cross_validate

MIN_ROWS = 12
CHOICE_TYPES = ("multiple_choice", "yes_no", "number")
_WORD = re.compile(r"[a-z]+|\d+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _ngrams(text: str, n: int = 3) -> set[str]:
    text = f" {text.lower()} "
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def _number(text: str) -> float | None:
    match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*\D{0,12}", text)
    return float(match.group(1)) if match else None


def _ranks(values: Sequence[float]) -> list[float]:
    """Rank of each value among ``values`` scaled to [0, 1] (ties share the lower rank)."""
    if len(values) < 2:
        return [0.0 for _ in values]
    return [sum(v > w for w in values) / (len(values) - 1) for v in values]


def question_stem(row: dict[str, Any]) -> str:
    """The question without its option lines."""
    text = row["question"]
    if row["options"]:
        text = text.split("\nA. ")[0]
    return text


def number_support(rows: Sequence[dict[str, Any]]) -> dict[str, list[int]]:
    """Per question program: the integers its number answers range over in this family."""
    support: dict[str, list[int]] = {}
    for kind in {r["question_type"] for r in rows if r["answer_type"] == "number"}:
        values = [int(r["answer"]) for r in rows if r["answer_type"] == "number" and r["question_type"] == kind]
        support[kind] = list(range(min(values), max(values) + 1))
    return support


def row_context(row: dict[str, Any], vocabulary: set[str]) -> dict[str, float]:
    """What every candidate of a row shares: the question program, its words, the clip's length."""
    feats = {f"kind={row['question_type']}": 1.0, "duration": float(row["duration"]), "num_frames": float(row["num_frames"])}
    stem = question_stem(row)
    feats["question_chars"] = float(len(stem))
    for word in set(tokens(stem)) & vocabulary:
        feats[f"w={word}"] = 1.0
    return feats


def candidates(row: dict[str, Any], support: dict[str, list[int]]) -> tuple[list[str], list[str], int]:
    """(candidate texts, majority keys, index of the correct one) for a choice row."""
    if row["answer_type"] == "multiple_choice":
        return list(row["options"]), list(LETTERS[: len(row["options"])]), LETTERS.index(row["answer"])
    if row["answer_type"] == "yes_no":
        return ["yes", "no"], ["yes", "no"], 0 if row["answer"] == "yes" else 1
    values = [str(v) for v in support[row["question_type"]]]
    return values, values, values.index(row["answer"])


def blind_features(row: dict[str, Any], texts: list[str], context: dict[str, float]) -> list[dict[str, float]]:
    """Per candidate: what can be read off the text, and the row context in the candidate's own slot."""
    stem = question_stem(row)
    stem_words = set(tokens(stem))
    out: list[dict[str, float]] = []
    kind = row["answer_type"]
    if kind == "multiple_choice":
        words = [set(tokens(t)) for t in texts]
        grams = [_ngrams(t) for t in texts]
        lengths = [float(len(t)) for t in texts]
        similar = [np.mean([_jaccard(words[i], words[j]) for j in range(len(texts)) if j != i]) for i in range(len(texts))]
        similar3 = [np.mean([_jaccard(grams[i], grams[j]) for j in range(len(texts)) if j != i]) for i in range(len(texts))]
        numbers = [_number(t) for t in texts]
        numeric = all(v is not None for v in numbers)
        mean_len, std_len = np.mean(lengths), np.std(lengths) or 1.0
        for i, text in enumerate(texts):
            f = {
                f"pos={i}": 1.0,
                "len": lengths[i],
                "len_z": (lengths[i] - mean_len) / std_len,
                "len_rank": _ranks(lengths)[i],
                "words": float(len(words[i])),
                "sim_question": _jaccard(words[i], stem_words),
                "sim_others": float(similar[i]),
                "sim_rank": _ranks(similar)[i],
                "sim3_others": float(similar3[i]),
                "sim3_rank": _ranks(similar3)[i],
                "in_question": float(text.lower() in stem.lower()),
            }
            if numeric:
                f["num_rank"] = _ranks(numbers)[i]
                f["num_rank_x_duration"] = f["num_rank"] * float(row["duration"])
            f.update({f"{k}|pos={i}": v for k, v in context.items() if k.startswith("kind=")})
            f.update({f"{k}|len_rank": v * f["len_rank"] for k, v in context.items() if k.startswith("kind=")})
            f["duration|len_rank"] = float(row["duration"]) * f["len_rank"]
            out.append(f)
        return out
    if kind == "yes_no":
        yes = {f"yes|{k}": v for k, v in context.items()}
        return [{"is_yes": 1.0, **yes}, {"is_no": 1.0}]
    values = [int(t) for t in texts]
    mentioned = {int(t) for t in tokens(stem) if t.isdigit()}
    for i, value in enumerate(values):
        rank = i / max(len(values) - 1, 1)
        f = {
            f"value={value}": 1.0,
            "value_rank": rank,
            "value_x_duration": rank * float(row["duration"]),
            "value_mentioned": float(value in mentioned),
        }
        f.update({f"{k}|value_rank": v * rank for k, v in context.items()})
        out.append(f)
    return out


def vocabulary_of(rows: Sequence[dict[str, Any]], minimum: int = 3) -> set[str]:
    counts = Counter(word for r in rows for word in set(tokens(question_stem(r))))
    return {word for word, n in counts.items() if n >= minimum}


def build_choices(rows: Sequence[dict[str, Any]], features) -> list[Choice]:
    """Choice problems of the rows that have a finite answer space, with ``features(row, texts)``."""
    support = number_support(rows)
    out = []
    for row in rows:
        if row["answer_type"] not in CHOICE_TYPES:
            continue
        texts, keys, correct = candidates(row, support)
        out.append(
            Choice(row["id"], f"{row['answer_type']}:{row['question_type']}", keys, features(row, texts), correct, row["answer_type"])
        )
    return out


def _breakdown(choices: Sequence[Choice], hits: np.ndarray) -> dict[str, Any]:
    out = {}
    for kind in sorted({c.answer_type for c in choices}):
        mask = np.array([c.answer_type == kind for c in choices])
        chance = float(np.mean([c.chance for c, m in zip(choices, mask) if m]))
        out[kind] = {"n": int(mask.sum()), "accuracy": round(float(hits[mask].mean()), 3), "chance": round(chance, 3)}
    return out


def evaluate(
    check: str, family: str, rows: Sequence[dict[str, Any]], choices: Sequence[Choice], *, prior_rule: bool, alpha: float = ALPHA
) -> CheckResult:
    skipped = dict(Counter(r["answer_type"] for r in rows if r["answer_type"] not in CHOICE_TYPES))
    if len(choices) < MIN_ROWS:
        return CheckResult(
            check, family, SKIP, f"only {len(choices)} choice rows (need {MIN_ROWS})", {"n": len(choices), "not_scored": skipped}
        )
    cv = cross_validate(choices)
    reference = max(cv["majority"], cv["chance"])
    model_fails, p_model = beats(cv["model_hits"], cv["n"], reference, alpha)
    prior_fails, p_prior = beats(cv["majority_hits"], cv["n"], cv["chance"], alpha) if prior_rule else (False, 1.0)
    details = {
        "n": cv["n"],
        "chance": round(cv["chance"], 3),
        "majority": round(cv["majority"], 3),
        "model": round(cv["model"], 3),
        "reference": round(reference, 3),
        "p_model": round(p_model, 5),
        "p_majority_vs_chance": round(p_prior, 5),
        "alpha": alpha,
        "models_picked": dict(Counter(cv["picked"])),
        "by_answer_type": _breakdown(choices, cv["hits"]),
        "not_scored": skipped,
    }
    summary = f"{cv['model']:.0%} vs majority {cv['majority']:.0%} / chance {cv['chance']:.0%} (n={cv['n']}, p={p_model:.3f})"
    if model_fails or prior_fails:
        why = []
        if model_fails:
            why.append(f"scorer {cv['model']:.0%} beats max(majority, chance) {reference:.0%} by >5 pts (p={p_model:.4f})")
        if prior_fails:
            why.append(f"majority rule {cv['majority']:.0%} beats chance {cv['chance']:.0%} by >5 pts (p={p_prior:.4f})")
        return CheckResult(check, family, FAIL, "; ".join(why), details)
    return CheckResult(check, family, PASS, summary, details)


def check_blind(family: str, rows: Sequence[dict[str, Any]], alpha: float = ALPHA) -> CheckResult:
    vocabulary = vocabulary_of(rows)
    choices = build_choices(rows, lambda row, texts: blind_features(row, texts, row_context(row, vocabulary)))
    return evaluate("blind", family, rows, choices, prior_rule=True, alpha=alpha)
