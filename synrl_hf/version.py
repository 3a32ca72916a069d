"""Versions. ``GENERATOR_VERSION`` changes whenever the same seed would give a different sample.

``GENERATOR_CHANGES`` says what changed in each generator version, a line per change, for people who
compare datasets built by different versions (the dataset card shows it).
"""

__version__ = "0.1.0"
GENERATOR_VERSION = "2"

GENERATOR_CHANGES: dict[str, list[str]] = {
    "1": ["First release: 18 task families (12 short-term, 6 long-term), presets round1 and round2."],
    "2": [
        "Shapes are drawn at equal area (that of a circle of the object's size), not in equal boxes: a shape change no longer "
        "changes how big an object looks; triangles and stars reach further than before, squares are narrower.",
        "speed, acceleration, velocity_comparison: objects glide over the whole frame and bounce off its walls and off each "
        "other, never at invisible lines between regions; each keeps its planned speed through every bounce.",
        "relative_position: objects glide along their lanes at constant speeds and turn back only at the frame's walls; "
        "how often A passes B no longer depends on the clip's length; A is clearly on one side of B (10% of the frame) "
        "at the start, at the end, at its stop and between passes.",
        "distance: A and B move in straight lines; a grow-then-shrink turns at a bounce off a wall, a shrink-then-grow where "
        "they pass closest; in closest_pair all objects bounce off the walls and each other, the named one stops after "
        "a path of at least 5% of the frame.",
        "direction: every question says the object turns once; the other objects move in one straight line.",
        "collision_count: two wall contacts are at least 10 frames apart (no corner hits) and no contact grazes its wall.",
        "trajectory_shape: no loop (a circle, a spiral's innermost turn, a figure-eight lobe) is smaller than the object; "
        "spirals wind twice from 40% of their outer radius; several objects trace their paths anywhere in the frame.",
        "attribute_change: a shape changes only into a visibly different outline (never circle to hexagon, say).",
        "speed: a pause always comes after a path of at least 5% of the frame.",
        "Ordinals in questions are words up to 'twelfth' (was '9th', '10th').",
        "card_stack: answers name the cards (ace, jack, queen, king, or the number), in options, ordered lists and "
        'reasoning alike; a lone capital in an option read as an option letter ("D. A"). The cards still show A, J, Q, K.',
        "The pixel audit covers every family: all 18 re-derive their answers from the decoded frames (the long-term ones "
        "read the revealed states and captions back and re-run the operations).",
    ],
}
