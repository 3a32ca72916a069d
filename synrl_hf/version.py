"""Versions. ``GENERATOR_VERSION`` changes whenever the same seed would give a different sample;
``GENERATOR_CHANGES`` says, per version, what changed (the dataset card lists it)."""

__version__ = "0.1.0"
GENERATOR_VERSION = "2"

GENERATOR_CHANGES: dict[str, list[str]] = {
    "1": ["First release: 18 task families (12 short-term, 6 long-term), presets round1 and round2."],
    "2": [
        "card_stack: answers name the cards (ace, jack, queen, king, or the number), in options, ordered lists and "
        'reasoning alike; a lone capital in an option read as an option letter ("D. A"). The cards still show A, J, Q, K.',
    ],
}
