"""The optional LLM judge: a real HTTP judge on 127.0.0.1 (tests/cot_server.py's server with a
scripted judging rule) reached through the CoT pipeline's client, its on-disk cache, and the
judged scores reported beside the rule-based ones."""

import json

from synrl_hf.evaluation.benchmarks import oracle_answer
from synrl_hf.evaluation.common.model import ScriptedModelConfig, ScriptedVideoModel
from synrl_hf.evaluation.common.tasks import doc_spec
from synrl_hf.evaluation.fixtures import build_fixture_data
from synrl_hf.evaluation.judge import CACHE_FILE, Judge
from synrl_hf.evaluation.pipeline import evaluate
from tests.cot_server import ScriptedServer

REPLIES = {
    # VCR-Bench: open "Kitchen" said in other words (rules: 0), D (right), A answered B, interval [1, 3] in words (rules: no span)
    "0": "They fight in the cooking room, where food is made.",
    "3": "D",
    "12": "B",
    "7": "The event spans one to three seconds.",
    # VideoMMMU's open question, gold 12.97: no number the rules can match
    "Adaptation/validation_Chemistry_13": "Roughly twelve point nine seven grams.",
}
EXTRACTED = {  # what the scripted judge extracts from each reply
    REPLIES["0"]: "cooking room",
    "D": "D",
    "B": "B",
    REPLIES["7"]: "[1, 3]",
    REPLIES["Adaptation/validation_Chemistry_13"]: "12.97 g",
}
CONSISTENT = {("cooking room", "Kitchen"), ("D", "D"), ("12.97 g", "12.97")}


class JudgeServer(ScriptedServer):
    """Answers VCR-Bench's extraction prompt from EXTRACTED and its consistency prompt from CONSISTENT."""

    def reply(self, body):
        text = self.text_of(body["messages"][-1])
        if text.startswith("You are an AI assistant who will help me to extract"):
            response = text.split("\nAnswer: ", 1)[1].rsplit("\nYour output:", 1)[0]
            return EXTRACTED[response]
        model = text.split("[Model Answer]: ")[-1].split("\n")[0]
        gold = text.split("[Standard Answer]: ")[-1].split("\n")[0]
        return "1" if (model, gold) in CONSISTENT else "0"


def _model(tmp_path, name):
    def answer(doc):
        spec = doc_spec(doc)
        return REPLIES.get(spec["id"], oracle_answer(doc))

    return ScriptedVideoModel(
        ScriptedModelConfig(model_name=name, script=name, budget_flags={"num_frames": 2}, cache_dir=str(tmp_path / "cache")), answer
    )


def test_judged_scores_beside_the_rule_based_ones_and_cached(tmp_path, monkeypatch):
    data_dir, _ = build_fixture_data(tmp_path / "fixtures", "vcrbench,videommmu")
    monkeypatch.setenv("SYNRL_JUDGE_API_KEY", "sk-judge-secret")
    with JudgeServer() as server:
        judge = Judge.connect(server.base_url, "judge-7b", tmp_path / "judge")
        outcome = evaluate(_model(tmp_path, "m"), "vcrbench,videommmu", data_dir, tmp_path / "out", bootstrap_iters=0, judge=judge)
        vcr, mmmu = outcome.metrics("vcrbench"), outcome.metrics("videommmu")
        # rules: only "D" right; the judge: "cooking room" = Kitchen, [1, 3] by IoU, D -> 3 of 4
        assert (vcr["acc"], vcr["acc_judged"]) == (0.25, 0.75)
        # VideoMMMU: 5 multiple-choice answers right by the oracle (kept rule-based), the open one judged right
        assert (mmmu["acc"], mmmu["acc_judged"]) == (5 / 6, 1.0)
        tasks = outcome.summary["tasks"]
        assert tasks["vcrbench"]["judge"] == {"model": "judge-7b", "llm_judged": 4} and tasks["videommmu"]["judge"]["llm_judged"] == 1
        # 4 extractions + 3 consistency checks (the interval needs none) + 1 + 1 for VideoMMMU
        assert len(server.requests) == 9 and outcome.summary["judge"]["requests"] == 9
        assert all(body["model"] == "judge-7b" and body["temperature"] == 0.0 for body in server.requests)
        assert all(h.get("Authorization") == "Bearer sk-judge-secret" for h in server.headers)
        report = (tmp_path / "out" / "results.md").read_text()
        assert "| m (ours), LLM-judged | – | – | 100.0 | 75.0 | – | – | – |" in report  # paper Table 2, under our rule-based row
        assert "| reasoning | VCR-Bench | acc_judged | 75.0 |" in report
        samples = [json.loads(line) for line in (tmp_path / "out" / "samples" / "vcrbench.jsonl").read_text().splitlines()]
        assert {s["id"]: s["judged"] for s in samples} == {"0": 1.0, "3": 1.0, "12": 0.0, "7": 1.0}
        for path in (tmp_path / "out").rglob("*.json*"):
            assert "sk-judge-secret" not in path.read_text(errors="ignore"), path

        # the same answers again (another model name): every judgement from the disk cache, no request
        again = Judge.connect(server.base_url, "judge-7b", tmp_path / "judge")
        assert len(again.cache) == 9 and (tmp_path / "judge" / CACHE_FILE).is_file()
        outcome = evaluate(_model(tmp_path, "m2"), "vcrbench,videommmu", data_dir, tmp_path / "out2", bootstrap_iters=0, judge=again)
        assert outcome.metrics("vcrbench")["acc_judged"] == 0.75 and len(server.requests) == 9
        assert (again.requests, again.hits) == (0, 9)
        # another judge model is another cache key
        other = Judge.connect(server.base_url, "judge-70b", tmp_path / "judge")
        evaluate(_model(tmp_path, "m3"), "videommmu", data_dir, tmp_path / "out3", bootstrap_iters=0, judge=other)
        assert other.requests == 2 and len(server.requests) == 11


def test_a_failing_judge_leaves_the_rule_based_scores(tmp_path):
    data_dir, _ = build_fixture_data(tmp_path / "fixtures", "vcrbench")
    with JudgeServer(fail_first=100, status=400) as server:
        judge = Judge.connect(server.base_url, "judge-7b", tmp_path / "judge")
        outcome = evaluate(_model(tmp_path, "m"), "vcrbench", data_dir, tmp_path / "out", bootstrap_iters=0, judge=judge)
    task = outcome.summary["tasks"]["vcrbench"]
    assert task["metrics"]["acc"] == 0.25 and "acc_judged" not in task["metrics"]
    assert "HTTP 400" in task["judge"]["error"] and len(server.requests) == 1  # a 400 is not retried


def test_the_judge_needs_an_endpoint_and_a_model(tmp_path, monkeypatch):
    import pytest

    monkeypatch.delenv("SYNRL_JUDGE_BASE_URL", raising=False)
    monkeypatch.delenv("SYNRL_JUDGE_MODEL", raising=False)
    with pytest.raises(ValueError, match="--judge-base-url/--judge-model"):
        Judge.connect("http://127.0.0.1:9/v1", None, tmp_path)
