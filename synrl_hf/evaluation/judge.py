"""An optional LLM judge for open-ended answers, beside the rule-based scores.

Some benchmarks' official scores use an LLM (VCR-Bench: GPT-4o extracts the final answer and checks
it against the gold one); open answers scored by rules alone are under-scored ("...: the kitchen."
against "Kitchen"). A benchmark declares ``judge(spec, reply, ask)`` (see
:class:`~.common.tasks.Benchmark`); after the lighteval run, :func:`judge_details` calls it for
every answered question with :meth:`Judge.ask` and reports ``acc_judged`` next to ``acc``
(questions the benchmark does not send to the judge keep their rule-based score).

The judge is any OpenAI-compatible chat-completions endpoint, reached with the CoT pipeline's own
client (:class:`synrl_hf.cot.backends.OpenAIBackend`: retries, backoff, the key never printed),
greedy. Every reply is cached on disk, keyed by the judge model and the exact request (which holds
the question, the gold answer and the model's answer), so a re-run or a second model with the same
answer costs no request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from pathlib import Path

from synrl_hf.cot.backends import OpenAIBackend

from .common.tasks import Benchmark, doc_spec

logger = logging.getLogger(__name__)

ENV_BASE_URL, ENV_MODEL, ENV_API_KEY = "SYNRL_JUDGE_BASE_URL", "SYNRL_JUDGE_MODEL", "SYNRL_JUDGE_API_KEY"
CACHE_FILE = "judge_cache.jsonl"


class Judge:
    """Cached, greedy chat requests to one judge model (``ask`` is what benchmarks call)."""

    def __init__(self, backend: OpenAIBackend, cache_dir: str | os.PathLike):
        self.backend = backend
        self.cache_path = Path(cache_dir) / CACHE_FILE
        self.cache: dict[str, str] = {}
        if self.cache_path.is_file():
            for line in self.cache_path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line) if line.strip() else None
                if entry:
                    self.cache[entry["key"]] = entry["reply"]
        self.requests = self.hits = 0

    @classmethod
    def connect(cls, base_url: str | None, model: str | None, cache_dir: str | os.PathLike, *, timeout: float = 120.0) -> Judge:
        """A judge at ``base_url`` (else ``$SYNRL_JUDGE_BASE_URL``) named ``model`` (else
        ``$SYNRL_JUDGE_MODEL``); the key comes from ``$SYNRL_JUDGE_API_KEY`` only (never a flag)."""
        base_url = base_url or os.environ.get(ENV_BASE_URL)
        model = model or os.environ.get(ENV_MODEL)
        if not base_url or not model:
            raise ValueError(f"the judge needs an endpoint and a model: --judge-base-url/--judge-model or ${ENV_BASE_URL}/${ENV_MODEL}")
        backend = OpenAIBackend(base_url=base_url, model=model, api_key=os.environ.get(ENV_API_KEY, ""), timeout=timeout)
        return cls(backend, cache_dir)

    @property
    def model(self) -> str:
        return self.backend.model

    def ask(self, messages: list[dict], max_tokens: int = 256) -> str:
        request = {"model": self.backend.model, "messages": messages, "max_tokens": max_tokens}
        key = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        if key in self.cache:
            self.hits += 1
            return self.cache[key]
        reply = self.backend.chat(messages, max_tokens=max_tokens, temperature=0.0).text
        self.requests += 1
        self.cache[key] = reply
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.cache_path, "a", encoding="utf-8") as handle:  # one line per reply: a killed run keeps what it paid for
            handle.write(json.dumps({"key": key, "reply": reply}, ensure_ascii=False) + "\n")
        return reply


def reply_text(response) -> str:
    """The reply lighteval scored (reasoning tags removed when it did so)."""
    texts = getattr(response, "final_text", None) or getattr(response, "text", None) or [""]
    return texts[0] if isinstance(texts[0], str) else ""


def judge_details(bench: Benchmark, details: list, judge: Judge) -> tuple[dict[str, float], list[float | None]]:
    """``({"acc_judged": ..., "llm_judged": n}, per-sample judged scores)`` for one task's lighteval
    details; a sample the benchmark keeps rule-based contributes its ``acc``, one without a score
    (an empty open answer lmms-eval drops) nothing."""
    scores: list[float | None] = []
    asked = 0
    for detail in details:
        judged = bench.judge(doc_spec(detail.doc), reply_text(detail.model_response), judge.ask) if bench.judge else None
        if judged is None:
            rule = (detail.metric or {}).get("acc")
            judged = float(rule) if rule is not None and not (isinstance(rule, float) and math.isnan(rule)) else None
        else:
            asked += 1
        scores.append(judged)
    kept = [s for s in scores if s is not None]
    return {"acc_judged": sum(kept) / len(kept) if kept else float("nan"), "llm_judged": float(asked)}, scores
