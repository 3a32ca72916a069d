"""Model CoT, the paper's four stages (§2.2): generation → verification → reflection → polishing.

For each sample:

1. **generation** — the backend gets the sampled frames (with their timestamps), the question, the
   ground-truth answer and the event timeline (events, operations, states, what each object id
   is), and writes ``<think>…</think><answer>…</answer>`` reasoning as a viewer would;
2. **verification** — :func:`synrl_hf.cot.verify.verify` (answer, cited times within one
   sampled-frame interval of a real event, chronological order, counts), plus an optional LLM judge;
3. **reflection** — on failure the verifier's feedback goes back to the generator in the same
   conversation; at most ``max_rounds`` generations in all, then the sample is filtered out (and
   counted, per failed check);
4. **polishing** — an LLM rewrites the accepted reasoning for fluency; the rewrite is verified
   again and kept only if it passes (otherwise the verified original stays, and that is counted).

Samples run concurrently (a thread pool; HTTP retries with backoff live in the backend). Every
finished sample, accepted or filtered out, is appended to a JSONL checkpoint (one line, flushed and
fsynced) keyed by its ``id``: a killed run resumes where it stopped, with no sample lost or done
twice (a torn last line is dropped and that sample redone). A sample whose requests fail for good
(server down) is *not* written, so the next run retries it; it is reported under ``errors``.
The statistics (accepted, rejected per check, rounds used, tokens, time) are printed and saved next
to the checkpoint (``<checkpoint>.stats.json``). A rejected sample is an outcome like an accepted one:
a re-run does not ask again, so a chunk whose samples all fail verification finishes (empty) instead
of failing on every run. Replies longer than ``max_reply_chars`` fail verification (the ``length``
check) and are never kept. Whatever is printed or written (errors, records, statistics) passes
through :func:`synrl_hf.redaction.redact`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..answers import LETTERS
from ..files import atomic_write_bytes
from ..frame_budget import FrameBudget
from ..redaction import redact, redact_strings
from .backends import Backend, BackendError
from .verify import MAX_REPLY_CHARS, Check, Verification, frame_interval, verify

__all__ = ["PipelineConfig", "PipelineResult", "annotate", "generation_prompt", "load_checkpoint", "run_pipeline", "timeline_text"]

SYSTEM = (
    "You write the step-by-step reasoning of a careful person watching a short video and answering a "
    "question about it. The reasoning follows what happens on screen, in the order it happens, with "
    "times in seconds, and arrives at the given correct answer."
)
POLISH_SYSTEM = "You are a careful editor. You improve wording and never change facts, numbers, times or answers."
JUDGE_SYSTEM = "You check reasoning about a video against the exact ground-truth record of that video."


@dataclass
class PipelineConfig:
    max_rounds: int = 5  # generations per sample (the first plus up to four reflections)
    concurrency: int = 8
    frame_budget: FrameBudget = FrameBudget(num_frames=16)  # the frames the generator sees
    max_tokens: int = 2048
    temperature: float = 0.7
    polish: bool = True
    judge: bool = False
    tolerance: float | None = None  # seconds; None: one sampled-frame interval
    max_reply_chars: int = MAX_REPLY_CHARS  # longer replies fail verification (and are never kept in a row)

    def __post_init__(self):
        if self.max_rounds < 1 or self.concurrency < 1:
            raise ValueError(f"max_rounds and concurrency must be >= 1, got {self.max_rounds} and {self.concurrency}")


@dataclass
class PipelineResult:
    records: dict[str, dict[str, Any]]  # id → checkpoint record, for every requested sample finished
    stats: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # id → why it failed for good this run

    def accepted(self, rows: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """(row, verified completion) for the accepted ones among ``rows``, in their order."""
        out = []
        for row in rows:
            record = self.records.get(row["id"])
            if record is not None and record["status"] == "accepted":
                out.append((row, record["cot"]))
        return out


# --- prompts ------------------------------------------------------------------------------------


def _state(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def timeline_text(row: dict[str, Any]) -> str:
    """The ground-truth record of a sample, as the generator (and the judge) read it."""
    lines = [f"Clip: {float(row['duration']):.2f} s, {row['num_frames']} frames at {row['fps']} fps (times below are exact)."]
    objects = row.get("objects") or []
    if objects:
        lines.append(
            "Objects: "
            + "; ".join(
                f"{o['id']} = {o['color']} {o['shape']}" + (f" labelled {o['label']!r}" if o.get("label") else "") for o in objects[:40]
            )
        )
    events = row.get("events") or []
    lines.append("Events:" if events else "Events: none recorded (the answer lies in how things move; describe that).")
    lines += [
        f"- {e['time']:.2f} s: {e['type']}"
        + (f" [{', '.join(e['objects'])}]" if e.get("objects") else "")
        + (f" {e['detail']}" if e.get("detail") else "")
        for e in events
    ]
    operations = row.get("operations") or []
    if operations:
        lines.append("Operations (each animated from its start to its end):")
        lines += [
            f"- operation {op['index'] + 1}: {op['start_time']:.2f} s to {op['end_time']:.2f} s, {op['name']} {op['args']}"
            for op in operations
        ]
    states = row.get("states") or []
    if states:
        lines.append("States (the initial one, then the one after each operation; only one of the first and last is ever shown):")
        lines += [f"- at {s['time']:.2f} s: {_state(s['state'])}" for s in states]
    return "\n".join(lines)


def _answer_line(row: dict[str, Any]) -> str:
    answer = str(row["answer"])
    if row["answer_type"] == "multiple_choice" and row.get("options"):
        letter = answer.strip().upper()[:1]
        if letter and letter in LETTERS[: len(row["options"])]:
            return f"{answer} ({row['options'][LETTERS.index(letter)]})"
    return answer


def generation_prompt(row: dict[str, Any], tolerance: float) -> str:
    return "\n".join(
        [
            "Question, as the viewer sees it:",
            str(row["question"]),
            "",
            f"Correct answer: {_answer_line(row)}",
            "",
            "Ground-truth record of the video (from the program that made it):",
            timeline_text(row),
            "",
            "Write the reasoning a careful viewer of these frames would give, arriving at the correct answer.",
            '- Narrate what happens in the order it happens, citing times in seconds with two decimals ("at 1.30 s").',
            f"- Cite only times of the events or operations above (or 0.00 s and the end of the clip); a cited time more than {tolerance:.2f} s off is wrong.",
            '- For a counting question, list each counted event with its time and state the total (e.g. "4 wall contacts").',
            "- Never mention the record, metadata, object ids or that you were given the answer.",
            f"- Reply exactly as <think>your reasoning</think><answer>{row['answer']}</answer>.",
        ]
    )


def reflection_prompt(verification: Verification) -> str:
    return (
        "Your reasoning did not pass verification:\n"
        f"{verification.feedback}\n"
        "Rewrite the complete reasoning, fixing these problems, in the same format <think>…</think><answer>…</answer>."
    )


def polish_prompt(text: str) -> str:
    return (
        "Rewrite the reasoning below so that it reads naturally and fluently, as one person thinking aloud. "
        "Keep every time (in seconds), every number, the order of events and the final answer exactly as they are, "
        "and keep the format <think>…</think><answer>…</answer>. Reply with the rewritten text only.\n\n" + text
    )


def judge_prompt(row: dict[str, Any], text: str) -> str:
    return "\n".join(
        [
            f"Question: {row['question']}",
            f"Correct answer: {_answer_line(row)}",
            "Ground-truth record:",
            timeline_text(row),
            "",
            "Reasoning to check:",
            text,
            "",
            "Does the reasoning reach the correct answer and follow the recorded events with the right timing and order? "
            "Reply PASS, or FAIL: followed by one sentence saying what is wrong.",
        ]
    )


# --- one sample ---------------------------------------------------------------------------------


def _frames(row: dict[str, Any], budget: FrameBudget):
    """The sampled frames of the row's video; None for a row without one (metadata-only runs)."""
    video = row.get("video")
    if isinstance(video, dict):
        if video.get("bytes"):
            return budget.read(video["bytes"])
        video = video.get("path")
    if isinstance(video, (bytes, bytearray)) and video:
        return budget.read(bytes(video))
    if isinstance(video, (str, os.PathLike)) and os.path.isfile(video):
        return budget.read(video)
    return None


def annotate(
    row: dict[str, Any], backend: Backend, config: PipelineConfig, *, judge: Backend | None = None, polisher: Backend | None = None
) -> dict[str, Any]:
    """Run the four stages on one sample; returns its checkpoint record (raises BackendError)."""
    start = time.monotonic()
    frames = _frames(row, config.frame_budget)
    # Without a video (metadata-only runs) the tolerance follows the frames the budget would pick.
    seen = len(frames.indices) if frames is not None else len(config.frame_budget.indices(int(row["num_frames"]), float(row["fps"])))
    tolerance = config.tolerance if config.tolerance is not None else frame_interval(row, seen)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": generation_prompt(row, tolerance)}]
    record: dict[str, Any] = {
        "id": row["id"],
        "status": "rejected",
        "cot": None,
        "rounds": 0,
        "failures": [],
        "feedback": "",
        "polished": False,
        "polish_rejected": False,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "retries": 0,
        "backend": getattr(backend, "name", type(backend).__name__),
        "tolerance": round(tolerance, 4),
    }

    def count(reply) -> None:
        record["prompt_tokens"] += reply.prompt_tokens
        record["completion_tokens"] += reply.completion_tokens
        record["retries"] += reply.retries

    accepted = None
    for round_number in range(1, config.max_rounds + 1):
        reply = backend.chat(messages, frames, max_tokens=config.max_tokens, temperature=config.temperature)
        count(reply)
        record["rounds"] = round_number
        result = verify(reply.text, row, tolerance=tolerance, max_chars=config.max_reply_chars)
        if result.passed and config.judge:
            result.checks.append(_judge(judge or backend, row, reply.text, config, count))
        record["failures"].append(result.failed)
        if result.passed:
            accepted = reply.text
            break
        record["feedback"] = result.feedback
        messages += [{"role": "assistant", "content": reply.text}, {"role": "user", "content": reflection_prompt(result)}]
    if accepted is not None:
        record.update(status="accepted", cot=accepted.strip(), feedback="")
        if config.polish:
            try:
                polished = (polisher or backend).chat(
                    [{"role": "system", "content": POLISH_SYSTEM}, {"role": "user", "content": polish_prompt(accepted.strip())}],
                    max_tokens=config.max_tokens,
                    temperature=0.3,
                )
            except BackendError:  # the verified reasoning stands; polishing is an improvement, not a gate
                record["polish_rejected"] = True
            else:
                count(polished)
                if verify(polished.text, row, tolerance=tolerance, max_chars=config.max_reply_chars).passed:
                    record.update(cot=polished.text.strip(), polished=True)
                else:
                    record["polish_rejected"] = True
    record["seconds"] = round(time.monotonic() - start, 3)
    return record


def _judge(backend: Backend, row: dict[str, Any], text: str, config: PipelineConfig, count) -> Check:
    reply = backend.chat(
        [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": judge_prompt(row, text)}], max_tokens=256, temperature=0.0
    )
    count(reply)
    verdict = reply.text.strip()
    passed = verdict.upper().startswith("PASS")
    return Check("judge", passed, "" if passed else f"the reviewer says: {verdict.removeprefix('FAIL').lstrip(': ')[:400]}")


# --- checkpoint ---------------------------------------------------------------------------------


def load_checkpoint(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Records by id. A torn last line (a run killed mid-write) is cut off the file and ignored."""
    path = Path(path)
    if not path.exists():
        return {}
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(keep)
        data = data[:keep]
    records: dict[str, dict[str, Any]] = {}
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        records.setdefault(record["id"], record)
    return records


class _Checkpoint:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(redact_strings(record), ensure_ascii=False) + "\n"
        with self.lock:
            self.handle.write(line)
            self.handle.flush()
            os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


# --- the run ------------------------------------------------------------------------------------


def _stats(
    records: list[dict[str, Any]],
    requested: int,
    resumed: int,
    errors: dict[str, str],
    wall: float,
    config: PipelineConfig,
    backend: Backend,
) -> dict[str, Any]:
    accepted = [r for r in records if r["status"] == "accepted"]
    rejected = [r for r in records if r["status"] == "rejected"]
    rounds: dict[str, int] = {}
    for r in accepted:
        rounds[str(r["rounds"])] = rounds.get(str(r["rounds"]), 0) + 1
    rejected_by: dict[str, int] = {}
    for r in rejected:
        for name in r["failures"][-1] if r["failures"] else []:
            rejected_by[name] = rejected_by.get(name, 0) + 1
    failures_by: dict[str, int] = {}
    for r in records:
        for failed in r["failures"]:
            for name in failed:
                failures_by[name] = failures_by.get(name, 0) + 1
    finished = len(records)
    return {
        "backend": getattr(backend, "name", type(backend).__name__),
        "config": asdict(config),
        "requested": requested,
        "finished": finished,
        "resumed_from_checkpoint": resumed,
        "accepted": len(accepted),
        "rejected": len(rejected),
        "errors": len(errors),
        "acceptance_rate": round(len(accepted) / finished, 4) if finished else None,
        "accepted_in_round": dict(sorted(rounds.items(), key=lambda kv: int(kv[0]))),
        "mean_rounds": round(sum(r["rounds"] for r in records) / finished, 3) if finished else None,
        "rejected_by_check": dict(sorted(rejected_by.items())),
        "failed_checks_all_rounds": dict(sorted(failures_by.items())),
        "polished": sum(r["polished"] for r in accepted),
        "polish_rejected": sum(r["polish_rejected"] for r in accepted),
        "tokens": {"prompt": sum(r["prompt_tokens"] for r in records), "completion": sum(r["completion_tokens"] for r in records)},
        "http_retries": sum(r["retries"] for r in records),
        "seconds": {"this_run_wall": round(wall, 3), "per_sample_total": round(sum(r.get("seconds", 0.0) for r in records), 3)},
    }


def _summary(stats: dict[str, Any]) -> str:
    rejected = ", ".join(f"{k} {v}" for k, v in stats["rejected_by_check"].items()) or "none"
    return (
        f"CoT [{stats['backend']}]: {stats['accepted']} accepted, {stats['rejected']} filtered out (failed checks: {rejected}), "
        f"{stats['errors']} errors; mean rounds {stats['mean_rounds']}, polished {stats['polished']}; "
        f"tokens {stats['tokens']['prompt']} in / {stats['tokens']['completion']} out; {stats['seconds']['this_run_wall']:.1f} s"
    )


def run_pipeline(
    rows: Iterable[dict[str, Any]],
    backend: Backend,
    checkpoint: str | os.PathLike,
    *,
    config: PipelineConfig | None = None,
    judge: Backend | None = None,
    polisher: Backend | None = None,
    stats_path: str | os.PathLike | None = None,
    progress: bool = False,
    verbose: bool = True,
) -> PipelineResult:
    """Annotate ``rows`` (each with a unique ``id``), resuming from ``checkpoint``; see the module docstring."""
    config = config or PipelineConfig()
    rows = list(rows)
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("row ids must be unique: the checkpoint is keyed by id")
    checkpoint = Path(checkpoint)
    done = load_checkpoint(checkpoint)
    wanted = set(ids)
    resumed = len(wanted & set(done))
    todo = [row for row in rows if row["id"] not in done]
    errors: dict[str, str] = {}
    start = time.monotonic()
    writer = _Checkpoint(checkpoint)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), initial=resumed, unit="sample", desc="synrl cot")
    pool = ThreadPoolExecutor(max_workers=config.concurrency)
    interrupted = False
    try:
        futures = {pool.submit(annotate, row, backend, config, judge=judge, polisher=polisher): row["id"] for row in todo}
        for future in as_completed(futures):
            sample = futures[future]
            try:
                record = future.result()
            except BackendError as error:
                errors[sample] = redact(error)
            except Exception as error:  # a bug or a bad row: report it, keep the others going
                errors[sample] = redact(f"{type(error).__name__}: {error}")
            else:
                writer.write(record)
                done[sample] = record
            if bar is not None:
                bar.update(1)
    except BaseException:  # Ctrl-C: drop queued samples, keep what is written, do not wait on requests
        interrupted = True
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if not interrupted:
            pool.shutdown(wait=True)
        writer.close()
        if bar is not None:
            bar.close()
    records = {i: done[i] for i in ids if i in done}
    stats = _stats(list(records.values()), len(rows), resumed, errors, time.monotonic() - start, config, backend)
    if errors:
        stats["error_examples"] = dict(list(errors.items())[:5])
    stats = redact_strings(stats)
    stats_path = Path(stats_path) if stats_path is not None else checkpoint.with_name(checkpoint.name + ".stats.json")
    atomic_write_bytes(stats_path, json.dumps(stats, indent=1).encode())
    if verbose:
        print(_summary(stats))
    return PipelineResult(records, stats, errors)
