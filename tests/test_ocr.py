"""Reading the renderer's text back from encoded video: exact strings, at the default and the smallest
resolution, and nothing invented when the drawn string is not in the vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from synrl_hf import longterm
from synrl_hf.families import file_system
from synrl_hf.ocr import Line, S, Vocabulary, composed, coverage, label_line, read_line
from synrl_hf.render import get_renderer
from synrl_hf.render.pillow_backend import drawn_size, sprite
from synrl_hf.timeline import SceneObject, Timeline, Track
from synrl_hf.video import encode_mp4, read_planes

RNG = np.random.default_rng(0)
CAPTIONS = Vocabulary(file_system._operations())  # about 6,300 shell commands
NUMBERS = Vocabulary(str(v) for v in range(-99, 100))


def drawn(texts, obj_of, resolution):
    """Each text drawn (one frame each) as ``obj_of(text)`` at the center, encoded and decoded: luma."""
    frames = []
    for text in texts:
        obj = obj_of(text)
        timeline = Timeline(30, 1, [obj], {obj.id: Track.still(1, 0.5, 0.5)})
        frames.append(next(get_renderer("pillow").frames(timeline, resolution)))
    return read_planes(encode_mp4(frames, 30, resolution, resolution)).y


def caption(text):
    return SceneObject("caption", "text", "blue", 0.9, longterm.CAPTION_HEIGHT, label=text)


def number(text):
    return SceneObject("value", "text", "blue", 0.2, 0.075, label=text)


@pytest.mark.parametrize("resolution", [448, 128])
def test_captions_and_numbers_are_read_exactly(resolution):
    commands = [CAPTIONS.strings[i] for i in RNG.choice(len(CAPTIONS), 24, replace=False)]
    values = [str(v) for v in RNG.choice(np.arange(-99, 100), 16, replace=False)]
    center = (resolution // 2, resolution // 2)
    for texts, obj_of, vocabulary in ((commands, caption, CAPTIONS), (values, number, NUMBERS)):
        luma = drawn(texts, obj_of, resolution)
        for text, frame in zip(texts, luma):
            line = label_line(obj_of(text), center, resolution)
            line = Line(line.font_px, line.anchor_y, line.anchor_x, (*line.rows(), 0, resolution))
            reading = read_line(frame, line, vocabulary)
            assert reading.text == text, (resolution, text, reading)
            assert reading.runner_up > 10 * max(reading.error, 0.05), (text, reading)  # a clear winner


def test_a_string_outside_the_vocabulary_is_not_read_as_a_close_one():
    text = "$ mv backup/budget.xls ../"
    luma = drawn([text], caption, 448)[0]
    line = label_line(caption(text), (224, 224), 448)
    line = Line(line.font_px, line.anchor_y, line.anchor_x, (*line.rows(), 0, 448))
    right = read_line(luma, line, CAPTIONS)
    wrong = read_line(luma, line, Vocabulary(s for s in CAPTIONS.strings if s != text))
    assert right.text == text
    assert wrong.text != text and wrong.error > 50 * max(right.error, 0.05)


@pytest.mark.parametrize("resolution", [448, 128])
def test_composed_glyphs_are_the_renderer_s_text(resolution):
    """A string's coverage composed from glyphs drawn one by one equals the sprite the renderer draws."""
    for text in ("$ cp ../notes.txt work/", "-47", "swap top two", "card 3: x(-1)"):
        obj = caption(text)
        width, height = drawn_size(obj.size, obj.height, resolution)
        tile = sprite("text", (30, 70, 230), width, height, 0.0, False, text)
        alpha = 1 - tile.inverse_alpha[..., 0] / 255.0  # the sprite's coverage; its center is pixel corner (cx, cy)
        line = Line(int(height * S), S * tile.cy, S * tile.cx, (0, alpha.shape[0], 0, alpha.shape[1]))
        assert np.abs(composed(line, text) - alpha).max() <= 1 / 255 + 1e-6, text


def test_coverage_is_ink_on_the_background():
    luma = np.array([[235, 37, 136, 250]], np.uint8)
    np.testing.assert_allclose(coverage(luma, (0, 1, 0, 4), 235.0)[0], [0, 1, 0.5, 0], atol=0.01)
