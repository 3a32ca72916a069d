"""Answer extraction from free-form model output, one function per published parser.

Each function re-implements the reference code named in its docstring (lmms-eval as of mid-2026,
or the benchmark's own repository), quirks included, so our numbers are comparable. All are
deterministic and total on ``str``; none raises. Where the reference falls back to a *random*
letter (MINERVA) we return ``None`` and the sample scores 0; a *fixed* fallback (TOMATO's "A") is
kept, since it is deterministic (see synrl_hf/evaluation/README.md, "Deviations").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from synrl_hf.answers import LETTERS


def letters_for(options: Sequence[str] | int) -> str:
    n = options if isinstance(options, int) else len(options)
    return LETTERS[: max(n, 1)]


def _text(response) -> str:
    return response if isinstance(response, str) else ""


# --- multiple choice ------------------------------------------------------------------------

_MCQ_PHRASES = (
    "the answer is",
    "answer is",
    "the correct answer is",
    "correct answer is",
    "the best answer is",
    "best answer is",
    "the correct option is",
    "correct option is",
    "the best option is",
    "best option is",
    "the choice is",
    "choice is",
    "the correct choice is",
    "correct choice is",
    "i choose",
    "i select",
    "i pick",
    "my answer is",
    "my choice is",
    "옵션",
    "정답은",
    "답은",
    "답:",
    "答案是",
    "答案为",
    "选",
    "答えは",
)
_MCQ_PRIORITY = {"start": 10, "end": 9, "phrase": 7, "parentheses": 6, "period": 5, "colon": 4, "right_paren": 3, "space": 2, "fallback": 0}


def extract_mcq_answer(response: str, choices: Sequence[str] = "ABCDEFGH") -> str | None:
    """lmms-eval's shared ``extract_mcq_answer`` (``_task_utils/mcq_extract.py``; Video-MME,
    VideoMMMU): candidates in several formats ("(B)", "B.", "B:", "B)", "B ", "the answer is B",
    a leading or trailing standalone letter, else any occurrence); the highest-priority format
    wins, then the last position. Case-sensitive, like the reference."""
    text = _text(response).strip()
    if not text:
        return None
    for char in ",.!?;:'\"":
        text = text.strip(char)
    text = f" {text} "
    candidates: list[tuple[str, int, str]] = []
    for fmt, pattern in (("parentheses", "({})"), ("period", "{}."), ("colon", "{}:"), ("right_paren", "{})"), ("space", "{} ")):
        candidates += [(c, text.rfind(pattern.format(c)), fmt) for c in choices if pattern.format(c) in text]
    lower = text.lower()
    for phrase in _MCQ_PHRASES:
        at = lower.find(phrase)
        if at != -1:
            candidates += [(c, text.find(c, at + len(phrase)), "phrase") for c in choices if text.find(c, at + len(phrase)) != -1]
    stripped = text.strip()
    for c in choices:
        if stripped.startswith(c) and (len(stripped) == 1 or not stripped[1].isalpha()):
            candidates.append((c, 0, "start"))
        if stripped.endswith(c) and (len(stripped) == 1 or not stripped[-2].isalpha()):
            candidates.append((c, len(text) - 1, "end"))
    if not candidates:
        candidates = [(c, text.rfind(c), "fallback") for c in choices if c in text]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (_MCQ_PRIORITY[c[2]], c[1]))[0]


def tomato_choice(response: str, options: Sequence[str]) -> str:
    """lmms-eval ``tomato`` (``parse_multi_choice_response``, GPT parser off): any option letter
    appearing anywhere (bare, so the "A" of "A square" counts), else a spaced letter, else (for
    answers over five words) the option texts; several candidates -> the last "(X)" (the first
    candidate when none is bracketed); nothing -> "A"."""
    response = _text(response)
    choices = letters_for(options)
    index2ans = {c: str(o) for c, o in zip(choices, options)}
    for char in ",.!?;:'":
        response = response.strip(char)
    response = f" {response} "
    candidates = [c for c in choices if c in response]
    bracket, by_letter = bool(candidates), True
    if not candidates:
        candidates = [c for c in choices if f" {c} " in response]
    if not candidates and len(response.split()) > 5:
        candidates = [c for c, ans in index2ans.items() if ans.lower() in response.lower()]
        by_letter = not candidates
    if not candidates:
        return "A"
    if len(candidates) == 1:
        return candidates[0]
    if not by_letter:
        positions = [response.lower().rfind(index2ans[c].lower()) for c in candidates]
    elif bracket:
        positions = [response.rfind(f"({c})") for c in candidates]
    else:
        positions = [response.rfind(f" {c} ") for c in candidates]
    return candidates[positions.index(max(positions))]  # numpy.argmax: the first of the maxima


_ANSWER_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is",
    "The correct option is",
    "Best answer:",
    "Best option:",
)


def first_letter(response: str, letters: str = "ABCDE") -> str | None:
    """lmms-eval ``videott`` ``extract_characters_regex``: strip answer prefixes, give up on answers
    over ten words without an option letter, else the first of ``letters`` anywhere."""
    text = _text(response).strip()
    for prefix in _ANSWER_PREFIXES:
        text = text.replace(prefix, "")
    if len(text.split()) > 10 and not re.search(f"[{letters}]", text):
        return None
    match = re.search(f"[{letters}]", text)
    return match[0] if match else None


def cvbench_choice(response: str) -> str | None:
    """CVBench's ``mvr`` task (authors' lmms-eval fork, ``extract_characters_regex``): after the
    answer prefixes, the first ``[ABCD]``, "yes" or "no" anywhere, case-insensitive, upper-cased.
    Like the reference, a letter inside a word counts ("they do" -> "D")."""
    text = _text(response).strip()
    for prefix in _ANSWER_PREFIXES:
        text = text.replace(prefix, "")
    if len(text.split()) > 10 and not re.search("[ABCDYESNO]", text):
        return None
    match = re.search(r"(?i)([ABCD]|YES|NO)", text)
    return match[0].upper() if match else None


def minerva_choice(response: str, letters: str = "ABCDE") -> str | None:
    """MINERVA (lmms-eval): the last explicit "answer is X" / "option: X", else the last option
    letter after removing answer prefixes. Unparsable -> None (lmms-eval: a random letter)."""
    text = _text(response).strip()
    explicit = re.findall(rf"(?:answer|option)\s*(?:is|:)\s*([{letters}])", text, flags=re.IGNORECASE)
    if explicit:
        return explicit[-1].upper()
    for prefix in ("The best answer is", "The correct answer is", "The answer is", "Answer:", "Option:", "Therefore, the final answer is:"):
        text = text.replace(prefix, "")
    found = re.findall(f"[{letters}]", text)
    return found[-1] if found else None


_PUNCT = [";", r"/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]


def mvbench_choice(response: str) -> str:
    """MVBench's ``mcq_acc`` normalisation (lmms-eval): "B. text" -> "B"; else strip punctuation
    and return the first standalone letter A-E, or the normalised text (which never equals a
    gold letter, so it scores 0)."""
    text = _text(response).strip()
    match = re.match(r"^([A-E])\.\s*(.+)$", text, flags=re.IGNORECASE | re.DOTALL)
    if match:
        return match[1].upper()
    text = text.replace("\n", " ").replace("\t", " ").strip()
    out = text
    for p in _PUNCT:
        if (p + " " in text or " " + p in text) or re.search(r"(\d)(,)(\d)", text):
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    out = re.sub(r"(?!<=\d)(\.)(?!\d)", "", out, count=32)  # the reference passes re.UNICODE (32) as the count
    out = out.strip("'").strip('"').strip(")").strip("(").strip().lower()
    letter = re.search(r"\b([A-E])\b", out, flags=re.IGNORECASE)
    return letter[1].upper() if letter else out


def tvbench_choice(response: str, options: Sequence[str]) -> str | None:
    """TVBench (lmms-eval ``_extract_choice_letter``): the first standalone option letter, else a
    leading "(B)"/"B.", else the option whose text alone appears in the answer."""
    text = _text(response).strip()
    if not text:
        return None
    choices = LETTERS[: max(len(options), 2)]
    upper = text.upper()
    match = re.search(r"\b([A-Z])\b", upper)
    if match and match[1] in choices:
        return match[1]
    match = re.match(r"^\s*[\(\[]?([A-Z])[\)\].:]?", upper)
    if match and match[1] in choices:
        return match[1]
    norm = " ".join(text.lower().split())
    hits = [i for i, option in enumerate(options) if (o := " ".join(str(option).lower().split())) and o in norm]
    return choices[hits[0]] if len(hits) == 1 else None


def first_char(response: str, *, case_sensitive: bool = False) -> str | None:
    """The reply's first character, not stripped (TemporalBench, Vinoground: ``response[0]``
    compared case-insensitively; AoTBench's authors: case-sensitively). Empty -> None."""
    text = _text(response)
    if not text:
        return None
    return text[0] if case_sensitive else text[0].upper()


# --- time spans -----------------------------------------------------------------------------

_KEYWORDS = ("starts", "ends", "happens in", "start time", "end time", "start", "end", "happen")


def _seconds(clock: str) -> float:
    parts = [float(p) for p in clock.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + parts[2] if len(parts) == 3 else parts[0] * 60 + parts[1]


def _first_ranges(sentences: list[str], pattern: str, to_seconds) -> list[tuple[float, float]]:
    """Every (start, end) ``pattern`` finds in the first sentence where it finds one."""
    for sentence in sentences:
        found = re.findall(pattern, sentence)
        if found:
            return [(to_seconds(a), to_seconds(b)) for a, b in found]
    return []


def extract_time(response: str) -> list[tuple[float, float]]:
    """lmms-eval Charades-STA ``extract_time``, step for step: lower-case, drop the prompt's example,
    replace every "to" by "-" (inside words too), split sentences on ``!?`` and newlines, keep those
    naming start/end (all when none), then the first of: clock ranges, "a - b" numbers, clock times
    paired, each sentence's first number paired, "a s - b s". At most one span, reversed ones swapped."""
    text = _text(response).lower().replace("a specific example is : 20.8 - 30.0 seconds", "").replace("to", "-")
    sentences = re.split(r"[!?\n]", text)
    candidates = [s for s in sentences if any(k in s for k in _KEYWORDS)] or sentences
    clock = r"\d{1,2}:\d{2}(?::\d{2})?"
    spans = _first_ranges(candidates, rf"\b({clock})\s*[–-]\s*({clock})\b", _seconds)
    spans = spans or _first_ranges(candidates, r"(\d+(?:\.\d+)?)\s*[–-]\s*(\d+(?:\.\d+)?)", float)
    if not spans:
        times = [_seconds(t) for sentence in candidates for t in re.findall(rf"\b({clock})\b", sentence)]
        spans = list(zip(times[0::2], times[1::2]))
    if not spans:
        times = [float(found[0]) for sentence in candidates if (found := re.findall(r"\b(\d+(?:\.\d+)?)\b", sentence))]
        spans = list(zip(times[0::2], times[1::2]))
    spans = spans or _first_ranges(candidates, r"(\d+(?:\.\d+)?)\s*s?\s*[–-]\s*(\d+(?:\.\d+)?)\s*s?", float)
    return [(a, b) if b > a else (b, a) for a, b in spans[:1]]


def extract_span(response: str) -> tuple[float, float] | None:
    """The one span :func:`extract_time` finds, or None (lmms-eval then scores IoU 0)."""
    spans = extract_time(response)
    return spans[0] if len(spans) == 1 else None


# --- open answers -----------------------------------------------------------------------------

_KEY_INDICATORS = (
    "could be ",
    "so ",
    "is ",
    "thus ",
    "therefore ",
    "final ",
    "answer ",
    "result ",
    "are ",
    "in total ",
    "total ",
    "identify ",
    "recognize ",
    "calculated as ",
    "counted as ",
    "measured as ",
    "observed as ",
    "concluded as ",
    "found to be ",
    "equals ",
    "determined to be ",
    "number of ",
    "value is ",
    "adds up to ",
    "have ",
    "has ",
)


def _extract_numbers(text: str) -> list[str]:
    commas = re.findall(r"-?\b\d{1,3}(?:,\d{3})+\b", text)
    scientific = re.findall(r"-?\d+(?:\.\d+)?[eE][+-]?\d+", text)
    simple = re.findall(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])", text)
    return commas + scientific + simple


def _normalize_open(text: str) -> list:
    text = text.strip()
    try:
        return [round(float(text.replace(",", "")), 2)]
    except ValueError:
        text = text.lower()
        return [" " + text, text + " "] if len(text) == 1 else [text]


def mmmu_open_correct(response: str, gold: str) -> bool | None:
    """lmms-eval VideoMMMU open questions: MMMU's ``parse_open_response`` (key sub-answers after
    "is", "so", "therefore", "=" ...; their numbers as floats rounded to 2 places) and ``eval_open``
    (a normalised gold string inside a predicted string, or an equal number). None for an empty reply
    (lmms-eval drops those from the score)."""
    response = _text(response)
    if response == "":
        return None
    body = response.strip().strip(".").lower()
    parts = re.split(r"\.\s(?=[A-Z])|\n", body)
    keys = []
    for index, part in enumerate(parts):
        indicators = _KEY_INDICATORS + (("=",) if index == len(parts) - 1 else ())
        shortest = None
        for tail in (part.split(ind)[-1].strip() for ind in indicators if ind in part):
            if not shortest or len(tail) < len(shortest):  # as the reference: an empty tail is replaced by the next one
                shortest = tail
        if shortest and shortest.strip() not in (":", ",", ".", "!", "?", ";", "'"):
            keys.append(shortest)
    keys = keys or [body]
    predictions = {value for item in [*keys, *(n for k in keys for n in _extract_numbers(k))] for value in _normalize_open(item)}
    golds = _normalize_open(str(gold))
    for pred in predictions:
        if isinstance(pred, str):
            if any(isinstance(g, str) and g in pred for g in golds):
                return True
        elif pred in golds:
            return True
    return False
