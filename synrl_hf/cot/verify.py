"""Rule-based verification of a chain of thought against a sample's ground truth (stage 2 of §2.2).

``verify(text, row)`` checks a completion ``<think>…</think><answer>…</answer>`` against the row's
metadata (the row fields of docs/data-contract.md: ``answer``, ``answer_type``, ``options``, ``events``, ``operations``, ``states``,
``objects``, ``fps``, ``num_frames``, ``duration``, ``task``, ``question_type``) and returns a
:class:`Verification`: one :class:`Check` per rule, pass/fail, and a feedback string written for the
generator to act on in the reflection round.

The rules:

``length``
    the reply is at most ``max_chars`` characters (:data:`MAX_REPLY_CHARS` by default); a longer
    one fails this check alone (the others are not run) and is never kept in a training row.
``format``
    exactly one ``<think>…</think>`` followed by one non-empty ``<answer>…</answer>``
    (:func:`synrl_hf.answers.is_well_formed`, what the ``format`` reward pays for).
``answer``
    the final answer equals the ground truth: scored with :func:`synrl_hf.answers.score_answer`
    (1.0 needed); an interval passes when both ends are within the tolerance of the truth.
``timestamps``
    every time the reasoning cites ("1.3 s", "at 2.07s", "[1.2, 3.4]", "from 1.2 to 3.4 seconds",
    "t = 1.3") lies within ``tolerance`` seconds (one sampled-frame interval) of a real moment: an
    event, the start or end of an operation, or the clip's first / last frame. Durations ("for
    0.5 s", "0.7 s later", "1 second per operation") are not timestamps.
``order``
    events are introduced in chronological order: every newly cited moment is no earlier than the
    previous newly cited one. Citing an already cited moment again is a back-reference (a recap,
    undoing operations from the last one) and always allowed; the clip's start and end are context,
    not events, and do not count.
``count``
    for a family's counting questions (its ``count_rule``, :class:`synrl_hf.narration.CountRule`:
    wall contacts, hops, full turns, passes, swaps of the ball's cup): the last count the reasoning
    states ("4 wall contacts", "three hops", "2 times") equals the number of counted events, and
    when it lists counted events by time it lists each of them once.

Verification takes time linear in the reply's length. Timestamps are read from the reasoning only (the ``<answer>`` block is checked by ``answer``).
Answer parsing is :mod:`synrl_hf.answers`' (``extract_answer``, ``score_answer``,
``parse_interval``, ``parse_number``): the verifier, the rewards and evaluation read answers alike.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..answers import ANSWER_OPEN, THINK_CLOSE, THINK_OPEN, extract_answer, is_well_formed, parse_interval, parse_number, score_answer
from ..families import FAMILIES
from ..narration import Anchor, CountRule

__all__ = ["CHECKS", "Anchor", "Check", "Citation", "Verification", "anchors", "cited_times", "frame_interval", "verify"]

CHECKS = ("length", "format", "answer", "timestamps", "order", "count")
# A reasoning of the pipeline's 2048 tokens is about 8,000 characters; a reply far longer is a model
# that does not stop, and a training row must not keep it.
MAX_REPLY_CHARS = 20_000

ROUNDING = 0.006  # times are printed with two decimals: half a hundredth plus float slack


@dataclass(frozen=True)
class Citation:
    time: float
    position: int  # character offset in the reasoning
    text: str


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def feedback(self) -> str:
        """What failed and why, one line per failed check ("" when everything passed)."""
        return "\n".join(f"- {c.name}: {c.detail}" for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "checks": [c.to_dict() for c in self.checks]}


# --- reading times ----------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_UNIT = r"\s*(?:s|secs?|seconds?)(?![a-z])"
_OPT_UNIT = rf"(?:{_UNIT})?"
_SEP = r"\s*(?:,|-|–|—|to|until|and|through)\s*"
_RANGE_SEP = r"\s*(?:-|–|—|to|until|and|through)\s*"  # no comma: "operation 1, 2.17 s" is no range
# "[1.2, 3.4]", "[1.2 s – 3.4 s]": square brackets are read as a time interval.
_BRACKETS = re.compile(rf"\[\s*{_NUM}{_OPT_UNIT}{_SEP}{_NUM}{_OPT_UNIT}\s*\]", re.I)
# "(1.20, 3.40)": parentheses only with decimals or a unit (a list such as "(1, 4)" is no time).
_PARENS = re.compile(rf"\(\s*{_NUM}{_OPT_UNIT}{_SEP}{_NUM}{_OPT_UNIT}\s*\)", re.I)
# "1.2 to 3.4 s", "between 1.2 and 3.4 seconds", "1.2–3.4 s": the unit after the second number.
_RANGE = re.compile(rf"(?<![\d.]){_NUM}{_OPT_UNIT}{_RANGE_SEP}{_NUM}{_UNIT}", re.I)
_SINGLE = re.compile(rf"(?<![\d.]){_NUM}{_UNIT}", re.I)
_T_EQUALS = re.compile(rf"(?<!\w)t\s*=\s*{_NUM}{_OPT_UNIT}", re.I)

# A number of seconds preceded or followed by these words is a duration, not a moment. Each list
# is found in one pass over the text (the character class is a quick first-letter filter).
_DURATION_BEFORE = re.compile(
    r"(?<!\w)(?=[fltedswo])(?:for|last(?:ing|s|ed)?|t(?:akes?|ook|aking)|every|span(?:ning|s)?|duration(?:\s+of)?|within|only)"
    r"\s+(?:about\s+|roughly\s+|around\s+|~\s*)?(?=\.?\d)",
    re.I,
)
_DURATION_AFTER = re.compile(
    r"(?<!\w)(?=[leapoibt])(?:later|earlier|apart|long|each|per|in total|of (?:motion|movement|time)|after that|before that)\b", re.I
)


def _duration_bounds(text: str) -> tuple[set[int], set[int]]:
    """Where a duration's number may start (right after "for", "lasting", …) and where it may end
    (right before "later", "long", …, spaces between allowed)."""
    starts = {match.end() for match in _DURATION_BEFORE.finditer(text)}
    ends = set()
    for match in _DURATION_AFTER.finditer(text):
        end = match.start()
        while end > 0 and text[end - 1].isspace():  # runs of spaces before different words are disjoint: linear
            end -= 1
        ends.add(end)
    return starts, ends


def cited_times(text: str) -> list[Citation]:
    """Every moment (in seconds) the text cites, in reading order; durations are left out."""
    found: list[tuple[int, int, list[float]]] = []
    taken = bytearray(len(text))  # 1 where an earlier pattern matched: each character is looked at a bounded number of times
    duration_starts, duration_ends = _duration_bounds(text)

    def free(a: int, b: int) -> bool:
        return taken.find(1, a, b) < 0

    for pattern, needs_decimal in ((_BRACKETS, False), (_PARENS, True), (_RANGE, False), (_SINGLE, False), (_T_EQUALS, False)):
        for match in pattern.finditer(text):
            a, b = match.span()
            if not free(a, b):
                continue
            numbers = [g for g in match.groups() if g is not None]
            if needs_decimal and not ("." in match.group(0) or re.search(_UNIT, match.group(0), re.I)):
                continue
            if pattern in (_RANGE, _SINGLE) and (a in duration_starts or b in duration_ends):
                continue
            taken[a:b] = b"\x01" * (b - a)
            found.append((a, b, [float(n) for n in numbers]))
    citations = []
    for a, b, numbers in sorted(found):
        citations += [Citation(t, a, text[a:b]) for t in numbers]
    return citations


# --- what the metadata knows ------------------------------------------------------------------


def _list(value: Any) -> list:
    return list(value) if value is not None else []


def anchors(row: dict[str, Any]) -> list[Anchor]:
    """Every moment a citation may refer to, sorted by time."""
    out = []
    for event in _list(row.get("events")):
        objects = tuple(event.get("objects") or ())
        label = (
            f"{event['type']}" + (f" of {', '.join(objects)}" if objects else "") + (f" ({event['detail']})" if event.get("detail") else "")
        )
        out.append(Anchor(float(event["time"]), label, "event", event["type"], objects))
    for op in _list(row.get("operations")):
        name = op.get("name", "")
        out.append(
            Anchor(float(op["start_time"]), f"operation {op['index'] + 1} ({name}) starts", "op_start", name, index=int(op["index"]))
        )
        out.append(Anchor(float(op["end_time"]), f"operation {op['index'] + 1} ({name}) ends", "op_end", name, index=int(op["index"])))
    fps, frames = float(row["fps"]), int(row["num_frames"])
    out += [
        Anchor(0.0, "the start of the clip", "bound"),
        Anchor(round((frames - 1) / fps, 3), "the last frame", "bound"),
        Anchor(round(float(row.get("duration") or frames / fps), 3), "the end of the clip", "bound"),
    ]
    return sorted(out, key=lambda a: (a.time, a.kind == "bound"))


def frame_interval(row: dict[str, Any], num_frames: int | None = None) -> float:
    """Seconds between two frames the model saw: ``num_frames`` spread over the clip, or every frame."""
    native = 1.0 / float(row["fps"])
    if not num_frames:
        return native
    total = int(row["num_frames"])
    if num_frames >= total:
        return native
    return max(native, (total - 1) / float(row["fps"]) / max(num_frames - 1, 1))


def _nearest(anchor_list: Sequence[Anchor], times: Sequence[float], t: float) -> tuple[float, list[Anchor]]:
    """The distance to the moments nearest ``t`` and those moments (``times``: the anchors' times, sorted)."""
    i = bisect.bisect_left(times, t)
    best = min(abs(times[j] - t) for j in (i - 1, i) if 0 <= j < len(times))
    if not math.isfinite(best):  # a time such as 1e400 (inf): every moment is as far
        return best, list(anchor_list)
    return best, list(anchor_list[bisect.bisect_left(times, t - best - 1e-9) : bisect.bisect_right(times, t + best + 1e-9)])


def _fmt(t: float) -> str:
    return f"{t:.2f} s"


# --- counting questions -----------------------------------------------------------------------

_NUMBER_WORD = r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty"


def _stated_counts(text: str, nouns: str) -> list[tuple[int, float]]:
    # "4 wall contacts", "three hops", "2 times": a whole number (not part of "1.30", not "2 s") before the noun.
    # (?=[\dzotfsen]): the first characters of a digit or a number word, a quick filter for the alternation.
    pattern = re.compile(
        rf"(?<![\w.])(?=[\dzotfsen])(\d+|{_NUMBER_WORD})(?![\w.])\s+(?!(?:s|secs?|seconds?)\b)(?:[a-z-]+\s+){{0,2}}?{nouns}\b", re.I
    )
    out = []
    for match in pattern.finditer(text):
        value = parse_number(match.group(1))
        if value is not None:
            out.append((match.start(), value))
    return out


# --- the checks -------------------------------------------------------------------------------


def _split(text: str) -> str:
    """The reasoning: inside <think>…</think> when present, else everything before the final answer."""
    if THINK_OPEN in text and THINK_CLOSE in text:
        return text.split(THINK_OPEN, 1)[1].rsplit(THINK_CLOSE, 1)[0]
    cut = text.rfind(ANSWER_OPEN)
    return text[:cut] if cut >= 0 else text


def _check_answer(text: str, row: dict[str, Any], tolerance: float) -> Check:
    predicted = extract_answer(text)
    truth, answer_type = str(row["answer"]), row["answer_type"]
    if predicted is None:
        return Check("answer", False, "there is no final <answer>…</answer> block; end with the answer inside it")
    if answer_type == "interval":
        got, want = parse_interval(predicted), parse_interval(truth)
        if got is not None and want is not None and all(abs(g - w) <= tolerance + ROUNDING for g, w in zip(got, want)):
            return Check("answer", True)
    elif score_answer(predicted, truth, answer_type, options=_list(row.get("options"))) == 1.0:
        return Check("answer", True)
    return Check(
        "answer", False, f"the final answer {predicted!r} is not the correct answer {truth!r}; the reasoning must arrive at {truth!r}"
    )


def verify(text: str, row: dict[str, Any], *, tolerance: float | None = None, max_chars: int = MAX_REPLY_CHARS) -> Verification:
    """Check ``text`` (a full completion) against ``row``'s ground truth; see the module docstring.

    ``tolerance``: seconds a cited time may be off from the real moment; one sampled-frame interval
    (:func:`frame_interval`). Default: one frame of the clip. ``max_chars``: the longest reply accepted.
    """
    if tolerance is None:
        tolerance = frame_interval(row)
    text = text if isinstance(text, str) else ""
    if len(text) > max_chars:
        return Verification([Check("length", False, f"the reply is {len(text):,} characters, more than {max_chars:,}; reason concisely")])
    reasoning = _split(text)
    checks = [Check("length", True)]

    well_formed = is_well_formed(text)
    checks.append(
        Check(
            "format",
            well_formed,
            ""
            if well_formed
            else "use exactly <think>reasoning</think><answer>final answer</answer>, each tag once, with a non-empty answer",
        )
    )
    checks.append(_check_answer(text, row, tolerance))

    known = anchors(row)
    times = [a.time for a in known]
    citations = cited_times(reasoning)
    matched: list[tuple[Citation, list[Anchor]]] = []
    wrong = []
    for citation in citations:
        distance, nearest = _nearest(known, times, citation.time)
        if distance <= tolerance + ROUNDING:
            matched.append((citation, nearest))
        else:
            wrong.append(f"{_fmt(citation.time)} (nearest real moment: {nearest[0].label} at {_fmt(nearest[0].time)})")
    if wrong:
        checks.append(Check("timestamps", False, f"these cited times match no event within {tolerance:.2f} s: " + "; ".join(wrong[:6])))
    else:
        checks.append(Check("timestamps", True, f"{len(citations)} cited time(s), all within {tolerance:.2f} s of a real moment"))

    # order: each newly cited moment no earlier than the last newly cited one
    seen: set[float] = set()
    latest: tuple[float, str] | None = None
    backwards = []
    for _, nearest in matched:
        events = [a for a in nearest if a.kind != "bound"]
        if not events:
            continue
        moment = events[0].time
        if moment in seen:
            continue
        seen.add(moment)
        if latest is not None and moment < latest[0] - 1e-9:
            backwards.append(f"{events[0].label} at {_fmt(moment)} is introduced after {latest[1]} at {_fmt(latest[0])}")
        if latest is None or moment >= latest[0]:
            latest = (moment, events[0].label)
    checks.append(
        Check("order", not backwards, "events must be narrated in the order they happen: " + "; ".join(backwards[:4]) if backwards else "")
    )

    family = FAMILIES.get(row.get("task", ""))  # general video QA rows belong to no family
    rule = family.count_rule if family is not None else None
    if rule is not None and row.get("question_type") in rule.kinds:
        checks.append(_check_count(reasoning, row, rule, matched, enumerated=not wrong))
    return Verification(checks)


def _check_count(reasoning: str, row: dict[str, Any], rule: CountRule, matched, enumerated: bool = True) -> Check:
    """The stated count, and (when every cited time is real, else ``timestamps`` already says so)
    the listed counted events, against the metadata."""
    counted = rule.counted(row, anchors(row))
    truth = len({rule.unit(a) for a in counted})
    cited_units = set()
    for _, nearest in matched:
        for anchor in nearest:
            if anchor in counted:
                cited_units.add(rule.unit(anchor))
    stated = _stated_counts(reasoning, rule.nouns)
    problems = []
    if stated and stated[-1][1] != truth:
        problems.append(f"the reasoning concludes with a count of {stated[-1][1]:g}, but there are {truth}")
    if enumerated and cited_units and len(cited_units) != truth:
        problems.append(f"it cites {len(cited_units)} of the counted events by time, but there are {truth}; list each one once, in order")
    if not stated and not cited_units:
        problems.append("it never states the count; say how many (e.g. '3 contacts') before answering")
    return Check("count", not problems, "; ".join(problems) if problems else f"count {truth} stated and enumerated")
