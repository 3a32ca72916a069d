"""The rule-based CoT verifier on hand-written reasoning, good and bad, for several families.

Rows here are written by hand (the metadata fields the verifier reads), so these tests pin the
verifier's behaviour independently of how the generators evolve.
"""

from __future__ import annotations

import json

import pytest

from synrl_hf.cot.verify import cited_times, frame_interval, verify

FPS = 30


def row(task, question_type, answer, answer_type, *, events=(), operations=(), states=(), options=(), objects=None, num_frames=150):
    return {
        "id": f"{task}-hand",
        "task": task,
        "question_type": question_type,
        "answer": answer,
        "answer_type": answer_type,
        "options": list(options),
        "events": [{"frame": round(t * FPS), "time": t, "type": ty, "objects": list(objs), "detail": d} for t, ty, objs, d in events],
        "operations": list(operations),
        "states": list(states),
        "objects": objects or [{"id": "obj0", "color": "red", "shape": "circle"}],
        "fps": FPS,
        "num_frames": num_frames,
        "duration": num_frames / FPS,
    }


# --- collision_count: "how many wall contacts" (counting) --------------------------------------

CONTACTS = [(0.8, "left"), (1.6, "top"), (2.5, "right"), (3.3, "bottom")]
COLLISION = row("collision_count", "count", "4", "number", events=[(t, "wall_contact", ["obj0"], w) for t, w in CONTACTS])

GOOD_COLLISION = """<think>
I follow the red circle and note each time its outline touches an edge of the frame.
At 0.80 s it touches the left wall, the first contact. At 1.60 s it bounces off the top wall, that is the second contact.
At 2.50 s it hits the right wall (third), and at 3.30 s the bottom wall (fourth).
So between 0.80 s and 3.30 s it touches the walls 4 times: 4 wall contacts.
</think>
<answer>4</answer>"""


def test_good_collision_reasoning_passes_every_check():
    result = verify(GOOD_COLLISION, COLLISION, tolerance=0.2)
    assert result.passed, result.feedback
    assert [c.name for c in result.checks] == ["length", "format", "answer", "timestamps", "order", "count"]
    assert result.feedback == ""


def test_wrong_final_answer_fails_only_the_answer_check():
    text = GOOD_COLLISION.replace("<answer>4</answer>", "<answer>3</answer>")
    result = verify(text, COLLISION, tolerance=0.2)
    assert result.failed == ["answer"]
    assert "'3'" in result.feedback and "'4'" in result.feedback


def test_timestamp_more_than_a_frame_interval_off_fails():
    text = GOOD_COLLISION.replace("At 1.60 s it bounces", "At 1.95 s it bounces")
    result = verify(text, COLLISION, tolerance=0.2)
    assert result.failed == ["timestamps"]
    assert "1.95 s" in result.feedback and "1.60 s" in result.feedback  # names the nearest real event
    # Within one sampled-frame interval it is accepted: 1.75 s is 0.15 s from the real 1.60 s.
    assert verify(GOOD_COLLISION.replace("At 1.60 s it bounces", "At 1.75 s it bounces"), COLLISION, tolerance=0.2).passed


def test_events_out_of_order_fail():
    text = """<think>
At 1.60 s the red circle bounces off the top wall. At 0.80 s it touches the left wall.
At 2.50 s it hits the right wall and at 3.30 s the bottom wall. That makes 4 wall contacts.
</think>
<answer>4</answer>"""
    result = verify(text, COLLISION, tolerance=0.2)
    assert result.failed == ["order"]
    assert "0.80 s" in result.feedback


def test_wrong_count_fails_even_with_the_right_answer():
    skipped = """<think>
At 0.80 s it touches the left wall, at 1.60 s the top wall and at 3.30 s the bottom wall.
That makes 3 wall contacts, but the answer is 4.
</think>
<answer>4</answer>"""
    result = verify(skipped, COLLISION, tolerance=0.2)
    assert result.failed == ["count"]
    assert "count of 3" in result.feedback and "cites 3" in result.feedback
    unstated = "<think>It bounces around for a while.</think><answer>4</answer>"
    assert verify(unstated, COLLISION).failed == ["count"]


def test_recap_and_durations_are_not_new_events():
    text = GOOD_COLLISION.replace(
        "So between", "Each bounce is over in well under a second; the contacts come about 0.8 s apart, for 2.5 s in all. So between"
    )
    assert verify(text, COLLISION, tolerance=0.2).passed


def test_format_problems_are_reported():
    result = verify("The answer is 4. <answer>4</answer> <answer>4</answer>", COLLISION)
    assert "format" in result.failed
    assert verify("<think>4 wall contacts</think>", COLLISION).check("answer").passed is False


# --- direction: multiple choice, letter or option text ----------------------------------------

DIRECTION = row(
    "direction",
    "first_leg",
    "B",
    "multiple_choice",
    events=[(0.5, "start", ["obj0"], "north-east"), (2.1, "turn", ["obj0"], "south"), (3.6, "stop", ["obj0"], "")],
    options=["west", "north-east", "south", "east"],
)


@pytest.mark.parametrize("final", ["B", "north-east", "(B) north-east"])
def test_direction_answer_as_letter_or_option_text(final):
    text = f"<think>At 0.50 s the red circle sets off towards the top right, north-east. At 2.10 s it turns south and at 3.60 s it stops. Before the turn it went north-east.</think><answer>{final}</answer>"
    assert verify(text, DIRECTION).passed


def test_hedged_answer_fails():
    text = "<think>At 0.50 s it starts north-east, at 2.10 s it turns south.</think><answer>B or C</answer>"
    assert verify(text, DIRECTION).failed == ["answer"]


# --- intervals: answer within one frame interval ------------------------------------------------

WHEN = row(
    "direction",
    "when",
    "[0.50, 2.10]",
    "interval",
    events=[(0.5, "start", ["obj0"], "north-east"), (2.1, "turn", ["obj0"], "south"), (3.6, "stop", ["obj0"], "")],
)


def test_interval_answer_tolerance():
    base = "<think>It starts moving north-east at 0.50 s and turns at 2.10 s, so it heads north-east from 0.50 to 2.10 seconds.</think><answer>{}</answer>"
    assert verify(base.format("[0.50, 2.10]"), WHEN).passed
    assert verify(base.format("[0.52, 2.08]"), WHEN, tolerance=1 / 30).passed
    assert verify(base.format("[0.80, 2.10]"), WHEN, tolerance=1 / 30).failed == ["answer"]


# --- card_stack: operations, retrodiction with back-references ------------------------------------


def _ops(spans):
    return [
        {"index": k, "name": name, "args": "{}", "start_frame": round(a * FPS), "end_frame": round(b * FPS), "start_time": a, "end_time": b}
        for k, (name, a, b) in enumerate(spans)
    ]


CARD_STATES = [
    {"stack": ["7", "3", "A"], "discard": []},
    {"stack": ["3", "7", "A"], "discard": []},
    {"stack": ["7", "A"], "discard": ["3"]},
    {"stack": ["A", "7"], "discard": ["3"]},
]
CARDS = row(
    "card_stack",
    "top_start",
    "C",
    "multiple_choice",
    operations=_ops([("swap_top", 2.2, 2.8), ("pop", 3.0, 3.7), ("top_to_bottom", 3.9, 4.6)]),
    events=[(2.2, "swap_top", [], "swap top two"), (3.0, "pop", [], "pop"), (3.9, "top_to_bottom", [], "top card to bottom")],
    states=[{"frame": 0, "time": 0.0, "state": json.dumps(CARD_STATES[0])}]
    + [{"frame": round(b * FPS), "time": b, "state": json.dumps(s)} for b, s in zip((2.8, 3.7, 4.6), CARD_STATES[1:])],
    options=["3", "A", "7", "K"],
    num_frames=200,
)

GOOD_CARDS = """<think>
The stack is hidden at first (0.00 s). From 2.20 s to 2.80 s the caption says "swap top two"; from 3.00 s to 3.70 s "pop";
from 3.90 s to 4.60 s "top card to bottom". After 4.60 s the final stack is shown: A on top, then 7; 3 lies on the discard pile.
Undoing from the last: before the move at 3.90 s the stack was 7, A. Before the pop at 3.00 s it was 3, 7, A.
Before the swap at 2.20 s it was 7, 3, A. So 7 was on top at the start.
</think>
<answer>C</answer>"""


def test_retrodiction_may_revisit_earlier_operations():
    assert verify(GOOD_CARDS, CARDS).passed


def test_operation_introduced_out_of_order_fails():
    text = GOOD_CARDS.replace(
        'from 3.00 s to 3.70 s "pop";\nfrom 3.90 s to 4.60 s "top card to bottom"',
        'from 3.90 s to 4.60 s "top card to bottom";\nfrom 3.00 s to 3.70 s "pop"',
    )
    result = verify(text, CARDS)
    assert result.failed == ["order"]


def test_time_between_operations_is_not_an_event():
    text = GOOD_CARDS.replace("Before the pop at 3.00 s", "Before the pop at 2.90 s")
    result = verify(text, CARDS, tolerance=1 / 30)
    assert result.failed == ["timestamps"]


# --- shell_game: the swap count is the swaps that move the asked ball's cup -----------------------

SHELL_STATES = [
    {"cups": [0, 1, 2, 3], "under": {"red": 1, "green": 3}},
    {"cups": [1, 0, 2, 3], "under": {"red": 1, "green": 3}},  # swap 1 and 2: the red ball's cup moves
    {"cups": [1, 0, 3, 2], "under": {"red": 1, "green": 3}},  # swap 3 and 4: not the red ball's
    {"cups": [0, 1, 3, 2], "under": {"red": 1, "green": 3}},  # swap 1 and 2 again: it moves back
]
SHELL = row(
    "shell_game",
    "swap_count",
    "2",
    "number",
    operations=_ops([("swap", 2.2, 2.8), ("swap", 3.0, 3.6), ("swap", 3.8, 4.5)]),
    events=[(2.2, "swap", [], "swap 1 and 2"), (3.0, "swap", [], "swap 3 and 4"), (3.8, "swap", [], "swap 1 and 2")],
    states=[{"frame": 0, "time": 0.0, "state": json.dumps(SHELL_STATES[0])}]
    + [{"frame": round(b * FPS), "time": b, "state": json.dumps(s)} for b, s in zip((2.8, 3.6, 4.5), SHELL_STATES[1:])],
    objects=[{"id": "ball0", "color": "red", "shape": "circle"}, {"id": "ball1", "color": "green", "shape": "circle"}],
    num_frames=200,
)


def test_swap_count_counts_only_the_balls_cup():
    good = """<think>At the start (0.00 s) the red ball is under the second cup. The swap at 2.20 s moves its cup to the first position;
the swap from 3.00 s to 3.60 s moves other cups; the swap at 3.80 s brings it back. Its cup takes part in 2 swaps.</think><answer>2</answer>"""
    assert verify(good, SHELL).passed
    miscounted = good.replace("takes part in 2 swaps", "takes part in 3 swaps")
    assert verify(miscounted, SHELL).failed == ["count"]


# --- reading times ------------------------------------------------------------------------------


def test_cited_time_formats():
    text = "At 1.3 s, at 2.07s, between 1.20 and 3.40 seconds, in [4.1, 5.2], t = 6.5, (7.25, 7.75), from 8 to 9 sec."
    assert [c.time for c in cited_times(text)] == [1.3, 2.07, 1.2, 3.4, 4.1, 5.2, 6.5, 7.25, 7.75, 8.0, 9.0]


def test_lists_counts_and_durations_are_not_times():
    text = "Chips (1, 4) and cards 3, 7; 2 swaps; it lasts 0.5 s; each op takes about 0.7 s; 1 second per operation; 12% of the frame width per second; operation 1, 2.20 s."
    assert [c.time for c in cited_times(text)] == [2.2]


def test_frame_interval():
    r = {"fps": 30, "num_frames": 151}
    assert frame_interval(r) == pytest.approx(1 / 30)
    assert frame_interval(r, 16) == pytest.approx(5.0 / 15)
    assert frame_interval(r, 1000) == pytest.approx(1 / 30)
