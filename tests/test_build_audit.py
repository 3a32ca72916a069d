"""``synrl build --audit``: a build whose pixels disagree with its answers exits 1, says so in its card,
and ``synrl push`` refuses it; a sound build passes."""

from __future__ import annotations

import json

import pytest

from synrl_hf.cli import main
from synrl_hf.families import FAMILIES, register
from synrl_hf.publish import check_folder
from tests.test_family_hooks import Slide


class Liar(Slide):
    """A family whose answers disagree with what its clips show: the pixel reader sees the object
    slide the other way (and set off once more) than the question's answer says."""

    name = "toy_liar"

    def answer_from_pixels(self, scene):
        honest = super().answer_from_pixels(scene)
        if scene.row["question_type"] == "strokes":
            return str(int(honest) + 1)
        return "right" if honest == "left" else "left"


@pytest.fixture
def families():
    for family in (Slide, Liar):
        register(family)
    yield
    for family in (Slide, Liar):
        FAMILIES.pop(family.name, None)


def build_args(out, family):
    # One process: the audit's worker processes would not know a family registered by a test.
    return ["build", "--out", str(out), "--configs", family, "--per-task", "6", "--resolution", "128", "--splits", "train", "--no-progress"]


def test_a_family_whose_pixels_disagree_fails_the_build(families, tmp_path, capsys):
    out = tmp_path / "liar"
    assert main([*build_args(out, "toy_liar"), "--audit"]) == 1
    err = capsys.readouterr().err
    assert "FAIL toy_liar/pixels" in err and "the audit FAILED" in err
    report = json.loads((out / "audit" / "report.json").read_text())
    assert report["passed"] is False and any(f.startswith("toy_liar/pixels") for f in report["failures"])
    card = (out / "README.md").read_text()
    assert "Every check passes." not in card and "check(s) fail:** toy_liar/pixels" in card
    with pytest.raises(ValueError, match="audit of this build failed .*--allow-failed-audit"):
        check_folder(out)
    check_folder(out, allow_failed_audit=True)  # the shards themselves are fine


def test_a_sound_family_passes(families, tmp_path, capsys):
    out = tmp_path / "slide"
    assert main([*build_args(out, "toy_slide"), "--audit"]) == 0
    assert "audit passed" in capsys.readouterr().out
    assert "Every check passes." in (out / "README.md").read_text()
    check_folder(out)


def test_without_audit_no_report(families, tmp_path):
    out = tmp_path / "plain"
    assert main(build_args(out, "toy_liar")) == 0  # nothing checks the pixels
    assert not (out / "audit").exists()


def test_audit_of_a_slice_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--out", str(tmp_path / "x"), "--configs", "direction", "--per-task", "1", "--shard", "0/2", "--audit"])
    assert exit_info.value.code == 2 and "synrl merge" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
