"""Answer extraction from free-form model output, one function per published protocol.

Every parser here is deterministic and total on ``str``: it returns the extracted answer or
``None``, never raises, and never guesses. Where a benchmark's reference code falls back to a
random (MINERVA, MMMU) or fixed (TOMATO: "A") letter when nothing parses, we return ``None`` and
the sample scores 0 (see synrl_hf/evaluation/README.md, "Deviations").
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


def mmmu_choice(response: str, options: Sequence[str]) -> str | None:
    """MMMU's ``parse_multi_choice_response`` (used by TOMATO and VideoMMMU in lmms-eval).

    Bracketed letters "(B)" first, then a spaced letter " B ", then (for answers longer than five
    words) the option texts; with several candidates the last one mentioned wins.
    TOMATO's ``pre_parser`` cases ("B", "B: text", "Answer is (B)") are tried before.
    """
    response = _text(response).strip()
    choices = letters_for(options)
    index2ans = {letter: str(option) for letter, option in zip(choices, options)}
    # TOMATO's pre_parser
    if len(response) == 1 and response.upper() in choices:
        return response.upper()
    if response.upper() in {f"{k}: {v}".upper() for k, v in index2ans.items()}:
        return response[0].upper()
    match = re.match(r"^Answer is:?\s*\(?([A-Za-z])\)?$", response)
    if match and match[1].upper() in choices:
        return match[1].upper()
    # MMMU
    for char in ",.!?;:'":
        response = response.strip(char)
    padded = f" {response} "
    candidates = [c for c in choices if f"({c})" in padded]
    bracketed, by_content = bool(candidates), False
    if not candidates:
        candidates = [c for c in choices if f" {c} " in padded]
    if not candidates and len(response.split()) > 5:
        candidates = [c for c, ans in index2ans.items() if ans and ans.lower() in padded.lower()]
        by_content = bool(candidates)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if by_content:
        positions = [padded.lower().rfind(index2ans[c].lower()) for c in candidates]
    elif bracketed:
        positions = [padded.rfind(f"({c})") for c in candidates]
    else:
        positions = [padded.rfind(f" {c} ") for c in candidates]
    return candidates[max(range(len(candidates)), key=positions.__getitem__)]


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


def first_letter(response: str, letters: str = "ABCD", max_words_without_letter: int | None = 10) -> str | None:
    """Video-MME's ``extract_characters_regex`` (Video-TT uses it with A-E): strip answer
    prefixes, give up on long answers without any option letter, else the first option letter."""
    text = _text(response).strip()
    for prefix in _ANSWER_PREFIXES:
        text = text.replace(prefix, "")
    pattern = f"[{letters}]"
    if max_words_without_letter is not None and len(text.split()) > max_words_without_letter and not re.search(pattern, text):
        return None
    match = re.search(pattern, text)
    return match[0] if match else None


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
    out = re.sub(r"(?!<=\d)(\.)(?!\d)", "", out)
    out = out.strip("'").strip('"').strip(")").strip("(").strip().lower()
    letter = re.search(r"\b([A-E])\b", out, flags=re.IGNORECASE)
    return letter[1].upper() if letter else out


def tvbench_choice(response: str, options: Sequence[str]) -> str | None:
    """TVBench (lmms-eval): the first standalone option letter, else a leading "(B)"/"B.", else
    the option whose text alone appears in the answer."""
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
    hits = [
        i for i, option in enumerate(options) if " ".join(str(option).lower().split()) and " ".join(str(option).lower().split()) in norm
    ]
    return choices[hits[0]] if len(hits) == 1 else None


def first_char(response: str) -> str | None:
    """TemporalBench / Vinoground: the first character of the stripped answer, upper-cased."""
    text = _text(response).strip()
    return text[0].upper() if text else None


def letter_or_yes_no(response: str, letters: str = "ABCD") -> str | None:
    """CVBench's ``mvr`` task: the first option letter or yes/no in the answer ("A".."D", "YES", "NO").

    Letters must stand alone and be upper case (so the "a" of "a dog" is not an answer); yes/no
    match in any case.
    """
    text = _text(response)
    hits = []
    letter = re.search(rf"\b([{letters}])\b", text)
    if letter:
        hits.append((letter.start(), letter[1]))
    word = re.search(r"\b(yes|no)\b", text, flags=re.IGNORECASE)
    if word:
        hits.append((word.start(), word[1].upper()))
    return min(hits)[1] if hits else None


def stated_letter(response: str, letters: str) -> str | None:
    """Our own prompts (NExT-GQA, ReXTime, AoTBench, VCR-Bench MC): "Answer: X" / "answer is X" /
    "(X)" if stated, else the first standalone option letter."""
    text = _text(response)
    explicit = re.search(rf"(?i:answer|option)\s*(?:is|:)?\s*[\(\[]?([{letters}])\b", text)
    if explicit and explicit[1].upper() in letters:
        return explicit[1].upper()
    match = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text)
    return match[1] if match else None


def yes_no(response: str) -> str | None:
    match = re.search(r"\b(yes|no)\b", _text(response), flags=re.IGNORECASE)
    return match[1].lower() if match else None


# --- time spans -----------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(_NUM + r"\s*(?:s|sec|secs|seconds)?\s*(?:-|–|—|\bto\b|\buntil\b)\s*" + _NUM)
_KEYWORDS = ("starts", "ends", "happens in", "start time", "end time", "start", "end", "happen")


def _clock(value: str) -> float:
    parts = [float(p) for p in value.split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def extract_span(response: str) -> tuple[float, float] | None:
    """A ``(start, end)`` time span in seconds, after lmms-eval's Charades-STA ``extract_time``.

    Cascade: the first "a - b" / "a to b" range; else the first number in each sentence that
    mentions start/end (paired in order); else hh:mm:ss / mm:ss clock times in those sentences.
    A reversed span is swapped. ``None`` when no span is found.
    """
    text = _text(response).lower().replace("a specific example is : 20.8 - 30.0 seconds", "")
    clock_range = re.search(r"(\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?)\s*(?:-|–|\bto\b)\s*(\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?)", text)
    match = _RANGE.search(text)
    if clock_range and (match is None or clock_range.start() <= match.start()):
        span = (_clock(clock_range[1]), _clock(clock_range[2]))
    elif match:
        span = (float(match[1]), float(match[2]))
    else:
        sentences = [s for s in re.split(r"[!?\n]|\.(?!\d)", text) if any(k in s for k in _KEYWORDS)]
        times = []
        for sentence in sentences:
            clock = re.search(r"\b(\d{1,2}:\d{2}(?::\d{2})?)\b", sentence)
            number = re.search(r"\b(\d+\.\d+|\d+)\b", sentence)
            if clock:
                times.append(_clock(clock[1]))
            elif number:
                times.append(float(number[1]))
        if len(times) < 2:
            return None
        span = (times[0], times[1])
    start, end = span
    return (start, end) if start <= end else (end, start)


def qa_and_span(response: str, letters: str) -> tuple[str | None, tuple[float, float] | None]:
    """Letter and evidence span from one answer to our grounded-QA prompts ("Answer: B. Evidence:
    3.0 - 7.5 seconds"). The span is searched after the stated letter so option text can't be it."""
    text = _text(response)
    letter = stated_letter(text, letters)
    rest = text
    marker = re.search(r"evidence|happens|segment|span|from", text, flags=re.IGNORECASE)
    if marker:
        rest = text[marker.start() :]
    return letter, extract_span(rest)
