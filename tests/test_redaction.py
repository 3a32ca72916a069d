"""One secret redaction for every error, log and statistic synrl prints or writes: credential shapes,
the process's known secrets (CLI arguments, the environment), and real echoing servers (a CoT endpoint
and the Hub) whose errors quote the request's Authorization header."""

from __future__ import annotations

import json
import logging

import pytest

from synrl_hf import build_scene
from synrl_hf.build import BuildSpec, build
from synrl_hf.cli import main
from synrl_hf.cot import template_completion
from synrl_hf.mixtures import mixture_sample
from synrl_hf.redaction import install_log_redaction, redact, register_secret
from tests.cot_server import ScriptedServer, wrong
from tests.fake_hub import fake_hub


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ("{'authorization': 'Token s3cr3t-value-9'}", "s3cr3t-value-9"),
        ('"Authorization": "Basic dXNlcjpwYXNzd29yZA=="', "dXNlcjpwYXNzd29yZA=="),
        ("token hf_AbCdEfGh-ij12_kl34 rejected", "-ij12_kl34"),  # a Hub token with dashes, masked whole
        ("org token api_org_AbCdEf-123_xyz789 rejected", "AbCdEf-123_xyz789"),
        ("key sk-proj-Ab12-cd34-ef56gh rejected", "Ab12-cd34-ef56gh"),
        ("ran: synrl build --cot-api-key letmein-please-123 --out x", "letmein-please-123"),
        ("ran: synrl eval --hub-token=plain-token-value-7", "plain-token-value-7"),
        ("GET https://user:hunter2pass@example.org/v1 failed", "hunter2pass"),
        ('{"api_key": "opaque0value"}', "opaque0value"),
    ],
)
def test_credential_shapes_are_masked(text, secret):
    assert secret not in redact(text) and "***" in redact(text)


def test_known_secrets_are_masked_and_statistics_stay_readable(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "zzzz-plain-token-99")
    monkeypatch.setenv("SYNRL_COT_API_KEY", "no-shape-at-all-42")
    register_secret("registered-secret-value")
    text = "zzzz-plain-token-99 / no-shape-at-all-42 / registered-secret-value / sent by me-secret-5"
    assert redact(text, "me-secret-5") == "*** / *** / *** / sent by ***"
    stats = '{"prompt_tokens": 100, "tokens": {"prompt": 5, "completion": 7}, "max_tokens": 2048}, tokens 200 in / 139 out'
    assert redact(stats) == stats


def test_log_records_are_redacted_whatever_handler_they_reach(caplog):
    install_log_redaction()
    with caplog.at_level(logging.WARNING, logger="some.library"):
        logging.getLogger("some.library").warning("request failed: %s", "Authorization: Bearer sk-abcdefgh12345")
        try:
            raise RuntimeError("token=hunter2-hunter2")
        except RuntimeError:
            logging.getLogger("some.library").exception("it broke")
    assert "sk-abcdefgh12345" not in caplog.text and "hunter2-hunter2" not in caplog.text and "it broke" in caplog.text


def _all_text(folder) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".md"))


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_an_endpoint_echoing_the_authorization_header_never_gets_the_key_printed_or_saved(tmp_path, monkeypatch, capsys, how):
    key = "opaque-key-without-shape-0042" if how == "argument" else "sk-live-with-dashes-1234-abcd"
    pool = ("collision_count",)
    family, index = mixture_sample("sft", 0, pool)
    scene = build_scene(family, index, 0, "train")
    good = template_completion(scene)
    out = tmp_path / "synrl"
    args = ["build", "--out", str(out), "--configs", "sft", "--cot", "model", "--cot-model", "m", "--mixture-families", "collision_count"]
    args += ["--mixture-size", "1", "--cot-frames", "2", "--resolution", "64", "--no-progress"]
    if how == "argument":
        args += ["--cot-api-key", key]
    else:
        monkeypatch.setenv("SYNRL_COT_API_KEY", key)
    with ScriptedServer(
        {scene.question.full_text: ("good", good, wrong(good, scene.question.answer))}, fail_first=10, status=401, echo_headers=True
    ) as server:
        assert main([*args, "--cot-base-url", server.base_url]) == 1
        assert server.headers[0]["Authorization"] == f"Bearer {key}"  # the key was sent, and echoed back
    printed = capsys.readouterr()
    assert "401" in printed.err and "request_headers" in printed.err  # the echo is reported ...
    assert key not in printed.out + printed.err and key not in _all_text(out)  # ... without the key
    stats = json.loads(next((out / "cot").glob("*.stats.json")).read_text())
    assert stats["errors"] == 1 and "***" in json.dumps(stats["error_examples"])


@pytest.fixture
def built(tmp_path):
    out = tmp_path / "synrl"
    build(BuildSpec(families=("direction",), per_task=1, resolution=64, splits=("train",)), out, progress=False)
    return out


def test_a_hub_echoing_the_request_never_shows_a_token_read_from_the_token_file(built, tmp_path, monkeypatch, capsys):
    """The token is not in the environment (huggingface_hub reads it from its token file): only its
    shape and the Authorization header give it away, for push and for build --general-qa alike."""
    token = "api_org_AbCdEf-123_xyz789"
    (tmp_path / "token").write_text(token)
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "token"))  # what HF_TOKEN_PATH sets at import
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    with fake_hub(fail_commits=True, echo_headers=True) as hub:
        assert main(["push", str(built), "--repo-id", "org/synrl"]) == 1
        with pytest.raises(SystemExit) as refused:
            main(["build", "--out", str(tmp_path / "mix"), "--configs", "sft", "--general-qa", "org/llava-video", "--mixture-size", "1"])
    assert any(r.headers.get("authorization") == f"Bearer {token}" for r in hub.requests)  # sent, then echoed in the errors
    printed = capsys.readouterr()
    assert refused.value.code == 2 and "request headers" in printed.out and "request headers" in printed.err
    assert "AbCdEf-123" not in printed.out + printed.err
