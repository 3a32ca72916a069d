"""``synrl audit``: a fair build passes, and each kind of damage fails the check meant to catch it.

One small build (two perceptual families and one long-term family, 30 clips each, train only) is
made once; damaged copies are made by rewriting its rows (in memory for single checks, as a folder
for the CLI).
"""

from __future__ import annotations

import copy
import json
import math
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synrl_hf.audit import CHECKS, audit
from synrl_hf.audit.balance import check_balance
from synrl_hf.audit.blind import check_blind
from synrl_hf.audit.common import ALPHA, FAIL, PASS, load_build, read_videos
from synrl_hf.audit.determinism import check_determinism, pick_rows
from synrl_hf.audit.family import CLIPS_PER_BATCH, AuditOptions, ClipBatch, FamilyChecks, merge, plan, run
from synrl_hf.audit.pixels import check_pixels
from synrl_hf.audit.single_frame import check_single_frame
from synrl_hf.build import BuildSpec, build
from synrl_hf.cli import main
from synrl_hf.dataset_dir import MANIFEST, file_sha256, read_manifest, write_manifest
from synrl_hf.motion import COMPASS, COMPASS_VECTORS
from synrl_hf.questions import LETTERS

FAMILIES = ("direction", "rotation_count", "card_stack")
PER_TASK = 30
RESOLUTION = 128


@pytest.fixture(scope="module")
def fair(tmp_path_factory):
    out = tmp_path_factory.mktemp("fair")
    build(BuildSpec(families=FAMILIES, per_task=PER_TASK, resolution=RESOLUTION, splits=("train",)), out, progress=False)
    return out


@pytest.fixture(scope="module")
def fair_report(fair):
    return audit(fair, determinism_subset=1)


@pytest.fixture(scope="module")
def fair_build(fair, fair_report):  # after the audit wrote into the folder
    return load_build(fair)


def rewrite_rows(source, target, change):
    """A copy of the build ``source`` at ``target`` with every row passed through ``change(row)``."""
    shutil.copytree(source, target)
    manifest = read_manifest(target / MANIFEST)
    for relpath, entry in manifest["shards"].items():
        path = target / relpath
        table = pq.read_table(path)
        rows = [change(row) for row in table.to_pylist()]
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
        entry["sha256"], entry["bytes"] = file_sha256(path), path.stat().st_size
    write_manifest(target / MANIFEST, manifest)
    return target


def with_options(row, options, answer_index):
    """``row`` asking the same question with ``options``, the correct one at ``answer_index``."""
    row = dict(row)
    stem = row["question"].split("\nA. ")[0]
    row["options"] = list(options)
    row["answer"] = LETTERS[answer_index]
    row["solution"] = f"<answer>{row['answer']}</answer>"
    row["question"] = stem + "\n" + "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    return row


def always_a(row):
    if row["answer_type"] != "multiple_choice":
        return row
    options = list(row["options"])
    correct = options.pop(LETTERS.index(row["answer"]))
    return with_options(row, [correct, *options], 0)


# -- a fair build ---------------------------------------------------------------------------------
def test_fair_build_passes_every_check(fair_report):
    assert fair_report.passed, [f"{r.family}/{r.check}: {r.summary}" for r in fair_report.failures]
    for family in FAMILIES:
        for check in CHECKS:
            result = fair_report.result(family, check)
            assert result is not None, (family, check)
    assert fair_report.result("direction", "pixels").details["agreement"] == 1.0
    assert fair_report.result("card_stack", "pixels").details["agreement"] == 1.0  # states and captions read back
    assert fair_report.result("rotation_count", "determinism").details["identical"] == 1


def test_report_files_and_card(fair, fair_report):
    data = json.loads((fair / "audit" / "report.json").read_text())
    assert data["passed"] is True and data["config"] == "all" and data["rows"] == dict.fromkeys(FAMILIES, PER_TASK)
    assert data["table"]["columns"] == ["family", "rows", *CHECKS]
    markdown = (fair / "audit" / "report.md").read_text()
    assert "PASSED" in markdown and "| `direction` | 30 |" in markdown
    card = (fair / "README.md").read_text()
    assert "## Audit" in card and "Every check passes." in card and "| `card_stack` | 30 |" in card
    assert card.index("## Audit") < card.index("## Fields")
    assert not list((fair / "audit").glob(".*.tmp"))


def test_card_says_when_the_report_is_for_another_build(fair, tmp_path):
    from synrl_hf.card import render_audit_summary

    manifest = read_manifest(fair / MANIFEST)
    assert render_audit_summary(fair, manifest)[0] == "## Audit"
    changed = copy.deepcopy(manifest)
    next(iter(changed["shards"].values()))["sha256"] = "0" * 64
    assert "earlier build" in " ".join(render_audit_summary(fair, changed))
    assert render_audit_summary(tmp_path, manifest) == []


# -- damage, one check at a time ------------------------------------------------------------------
def test_answer_always_a_fails_balance_and_blind(fair_build):
    for family, rows in fair_build.by_family().items():
        biased = [always_a(r) for r in rows]
        balance, blind = check_balance(family, biased), check_blind(family, biased)
        assert balance.status == FAIL and "letter" in balance.details["failed"], balance.summary
        assert blind.status == FAIL and "majority rule" in blind.summary, blind.summary
        # The fair rows pass both.
        assert check_balance(family, rows).status == PASS and check_blind(family, rows).status == PASS


def test_the_level_is_shared_by_the_families_audited(fair_build, fair_report):
    """Bonferroni: a build of k families tests each at ALPHA / k, so noise in one of many families does
    not fail a clean build; the same rows fail at the one-family level."""
    families = fair_build.by_family()
    for result in fair_report.results:
        if result.check in ("blind", "single_frame") and result.status != "skip":
            assert result.details["alpha"] == pytest.approx(ALPHA / len(families))
    family, rows = next(iter(families.items()))
    biased = [always_a(r) for r in rows]
    assert check_blind(family, biased).status == FAIL
    assert check_blind(family, biased, alpha=0.0).status == PASS  # the level given is the level used


def test_question_naming_its_answer_fails_blind_only(fair_build):
    """Letters and option texts stay balanced, but the question's wording names the correct option."""
    rows = fair_build.by_family()["direction"]
    biased = []
    for row in rows:
        if row["answer_type"] == "multiple_choice":
            row = dict(row)
            correct = row["options"][LETTERS.index(row["answer"])]
            stem, _, options = row["question"].partition("\nA. ")
            row["question"] = f"{stem} (Hint: {correct}.)\nA. {options}"
        biased.append(row)
    assert check_balance("direction", biased).status == PASS
    result = check_blind("direction", biased)
    assert result.status == FAIL and "scorer" in result.summary, result.summary
    assert result.details["by_answer_type"]["multiple_choice"]["accuracy"] > 0.8


def last_frame_direction(row):
    """The compass direction from the frame's center to where the asked object is on the last frame."""
    track = next(t for t in row["tracks"] if t["object"] == "obj0")
    dx, dy = track["x"][-1] / row["width"] - 0.5, track["y"][-1] / row["height"] - 0.5
    return max(COMPASS, key=lambda d: COMPASS_VECTORS[d][0] * dx + COMPASS_VECTORS[d][1] * dy)


def test_answer_read_off_the_last_frame_fails_single_frame(fair_build):
    rows = fair_build.by_family()["direction"]
    assert check_single_frame("direction", rows).status == PASS
    leaky = []
    for row in rows:
        if row["answer_type"] == "multiple_choice":
            k = LETTERS.index(row["answer"])
            truth = last_frame_direction(row)
            others = [d for d in COMPASS if d != truth]
            others = others[row["index"] % 7 :] + others[: row["index"] % 7]  # any fixed choice of three
            options = others[:3]
            options.insert(k, truth)
            row = with_options(row, options, k)
        leaky.append(row)
    assert check_balance("direction", leaky).status == PASS
    assert check_blind("direction", leaky).status == PASS
    result = check_single_frame("direction", leaky)
    assert result.status == FAIL, result.summary
    assert result.details["frames"]["last"]["model"] > 0.5  # chance is 0.25; the middle frame may show the end already


def test_swapped_videos_are_flagged_by_the_pixel_audit(fair_build):
    rows = fair_build.by_family()["direction"]
    videos = read_videos(fair_build, rows)
    # Two first-leg questions with different answers.
    a = next(r for r in rows if r["question_type"] == "first_leg")
    a_dir = a["options"][LETTERS.index(a["answer"])]
    b = next(r for r in rows if r["question_type"] == "first_leg" and r["options"][LETTERS.index(r["answer"])] != a_dir and r is not a)
    swapped = dict(videos)
    swapped[a["id"]], swapped[b["id"]] = videos[b["id"]], videos[a["id"]]
    result = check_pixels("direction", rows, swapped)
    assert result.status == FAIL
    flagged = {d["id"] for d in result.details["disagreements"]}
    assert flagged == {a["id"], b["id"]}
    assert a["id"] in result.summary
    assert check_pixels("direction", rows, videos).status == PASS


def test_edited_answer_is_flagged_by_determinism(fair_build):
    rows = [dict(r) for r in fair_build.by_family()["card_stack"]]
    target = next(r for r in rows if r["answer_type"] == "multiple_choice")
    target["answer"] = LETTERS[(LETTERS.index(target["answer"]) + 1) % len(target["options"])]
    untouched = next(r for r in rows if r is not target)
    chosen = [target["id"], untouched["id"]]
    videos = read_videos(fair_build, [target, untouched])
    result = check_determinism("card_stack", fair_build, rows, chosen, videos)
    assert result.status == FAIL
    verdicts = {d["id"]: d for d in result.details["rows"]}
    assert verdicts[target["id"]]["fields_differ"] == ["answer"] and verdicts[target["id"]]["frames_equal"]
    assert verdicts[untouched["id"]]["ok"] and verdicts[untouched["id"]]["bytes_equal"]


def test_another_video_is_flagged_by_determinism_frame_by_frame(fair_build):
    """Different MP4 bytes are decoded and compared: the first differing frame is named."""
    rows = fair_build.by_family()["card_stack"]
    target, other = rows[0], rows[1]
    videos = read_videos(fair_build, [target, other])
    result = check_determinism("card_stack", fair_build, rows, [target["id"]], {target["id"]: videos[other["id"]]})
    (verdict,) = result.details["rows"]
    assert result.status == FAIL and not verdict["bytes_equal"] and not verdict["frames_equal"]
    assert verdict["first_differing_frame"] is not None or target["num_frames"] != other["num_frames"]


def test_parallel_audit_gives_the_same_report(fair, fair_report, capsys):
    report = audit(fair, determinism_subset=1, num_proc=2, write=False, progress=True)
    assert [r.to_dict() for r in report.results] == [r.to_dict() for r in fair_report.results]
    assert report.rows == fair_report.rows
    err = capsys.readouterr().err
    assert "synrl audit" in err and f"{3 * PER_TASK}/{3 * PER_TASK}" in err  # the bar counted every decoded clip


def test_the_plan_cuts_each_family_into_small_batches_of_one_shard(fair, fair_build, fair_report):
    options = AuditOptions(determinism_subset=3, families=len(FAMILIES))
    counts, items = plan(fair, options)
    assert counts == dict.fromkeys(FAMILIES, PER_TASK)
    batches = [item for item in items if isinstance(item, ClipBatch)]
    assert [item for item in items if isinstance(item, FamilyChecks)] == [FamilyChecks(f) for f in FAMILIES]
    assert items[: len(batches)] == batches  # the long items first, the metadata checks last
    for family in FAMILIES:
        mine = sorted((b for b in batches if b.family == family), key=lambda b: b.position)
        assert all(0 < b.clips <= CLIPS_PER_BATCH for b in mine) and len(mine) > 1
        rows = [row for row in fair_build.rows if row["task"] == family]
        # every row read exactly once, in the family's order; the determinism picks as pick_rows makes them
        assert [(b.shard, n) for b in mine for n in b.numbers] == [(row["_file"], row["_row"]) for row in rows]
        assert [i for b in mine for i in b.regenerate] == [row["id"] for row in pick_rows(rows, 3)]
        # outcomes merged in any order give one result per check, rows in the family's order
        outcomes = [run(fair, options, item) for item in mine]
        merged = merge(family, mine[::-1], outcomes[::-1], options)
        assert [r.check for r in merged] == ["pixels", "determinism"]
        assert [r["id"] for r in merged[0].details["disagreements"]] == []
        assert merged[0].details["n"] == PER_TASK and merged[1].details["identical"] == 3
        assert merged[0].to_dict() == fair_report.result(family, "pixels").to_dict()


# -- the command line -----------------------------------------------------------------------------
def test_cli_exit_codes(fair, fair_report, tmp_path, capsys):
    quick = ["--checks", "balance,blind", "--quiet", "--no-card"]
    assert main(["audit", str(fair), *quick]) == 0
    assert "audit passed" in capsys.readouterr().out

    biased = rewrite_rows(fair, tmp_path / "biased", always_a)
    assert main(["audit", str(biased), *quick]) == 1
    out = capsys.readouterr().out
    assert "FAIL direction/balance" in out and "FAIL card_stack/blind" in out
    assert json.loads((biased / "audit" / "report.json").read_text())["passed"] is False

    assert main(["audit", str(biased), "--checks", "balance", "--json", "--no-card"]) == 1
    assert json.loads(capsys.readouterr().out)["failures"]

    bad = [
        ([str(tmp_path / "missing")], "no such folder"),
        ([str(tmp_path)], "not a synrl build"),
        ([str(fair), "--config", "nope"], "valid configs: all, short_term, long_term, direction"),
        ([str(fair), "--split", "test"], "valid splits: train"),
        ([str(fair), "--checks", "balance,vibes"], "valid checks"),
        ([str(fair), "--checks", ","], "expected a comma-separated list"),  # a check set that runs nothing
    ]
    for args, message in bad:
        with pytest.raises(SystemExit) as exit_info:
            main(["audit", *args, "--quiet"])
        assert exit_info.value.code == 2, args
        assert message in capsys.readouterr().err, args


def test_an_audit_that_checks_nothing_is_refused_and_writes_nothing(fair):
    card = (fair / "README.md").read_bytes()
    with pytest.raises(ValueError, match="no checks to run; valid checks: balance"):
        audit(fair, checks=())
    assert (fair / "README.md").read_bytes() == card


def test_limit_and_split_select_rows(fair):
    report = audit(fair, config="direction", split="train", sample_limit=12, checks=("balance",), write=False)
    assert report.rows == {"direction": 12} and report.splits == ["train"]
    assert math.isfinite(report.result("direction", "balance").details["tests"]["letter"]["p"])
