"""SynRL Space: watch a video VLM reason over time.

Generate a synthetic clip (task family, difficulty preset, seed) or upload a short video, ask, and
watch the model's ``<think>`` reasoning and ``<answer>`` stream in. Synthetic clips come with their
ground truth and event timeline (table, plot, captions on the video), so the answer is graded.

Run locally:  ``python spaces/synrl-reasoning/app.py``  (see README.md for the install).
"""

from __future__ import annotations

# ZeroGPU: `spaces` must be imported before torch; off a Space it is absent or a no-op.
import sys

try:
    import spaces

    if not hasattr(spaces, "GPU"):  # the repo's own spaces/ folder, seen as a namespace package
        sys.modules.pop("spaces", None)
        spaces = None
except ImportError:  # pragma: no cover - depends on the environment
    spaces = None

import atexit
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules next to this file
    sys.path.insert(0, str(HERE))
try:
    import synrl_hf  # noqa: F401
except ImportError:  # a clone that was not pip-installed: the repo root is two levels up
    sys.path.insert(0, str(HERE.parent.parent))

import gradio as gr  # noqa: E402
from inference import (  # noqa: E402
    TINY_MODEL,
    GenerationSettings,
    ModelRegistry,
    ModelUnavailable,
    allow_local_models,
    build_prompt,
    check_model_choice,
    default_model_from_readme,
    model_choices,
    parse_budget_flags,
    split_reasoning,
    stream_generate,
)
from media import BadVideo, check_video, prune, write_video  # noqa: E402
from timeline_view import TABLE_HEADERS, events_plot, events_table, subtitles  # noqa: E402

from synrl_hf import FAMILIES, families_in, generate_sample  # noqa: E402
from synrl_hf.answers import INTERVAL_PASS_IOU, parse_interval, score_answer  # noqa: E402
from synrl_hf.families.base import PRESETS  # noqa: E402
from synrl_hf.frame_budget import choose_budget  # noqa: E402

log = logging.getLogger("synrl_space")

TITLE = "SynRL: watch a video model reason over time"
QUEUE_MAX_SIZE = 16  # waiting requests beyond this are turned away with a "queue is full" message
MAX_VIDEO_MB = 25.0
MAX_VIDEO_SECONDS = 30.0
MAX_QUESTION_CHARS = 2000  # the longest synthetic question is under 400; a longer one only holds the model while others queue
RESOLUTION = 224  # synthetic clips, pixels per side
VIDEO_MAX_AGE_S = 3600  # generated clips are deleted after an hour
NO_ANSWER = "no `<answer>` given"
RIGHT, WRONG = "✓ **Right**", "✗ **Wrong**"

# --- the app's own temporary folder (the only place files are served from) ---------------------------

_TEMP_ROOT: Path | None = None


def app_temp_dir() -> Path:
    """This process's temporary folder: Gradio's upload/cache dir, generated videos, the tiny model.

    Gradio serves only files inside its cache folder (``GRADIO_TEMP_DIR``) plus ``allowed_paths``
    (left empty), so pointing that folder here keeps everything the app serves in one place,
    removed when the process exits.
    """
    global _TEMP_ROOT
    if _TEMP_ROOT is None:
        _TEMP_ROOT = Path(tempfile.mkdtemp(prefix="synrl-space-")).resolve()
        atexit.register(shutil.rmtree, _TEMP_ROOT, ignore_errors=True)
    for sub in ("gradio", "videos", "models"):
        (_TEMP_ROOT / sub).mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(_TEMP_ROOT / "gradio")
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(_TEMP_ROOT / "gradio" / "cached_examples")
    return _TEMP_ROOT


def remove_temp_dir_on_sigterm() -> None:
    """Exit cleanly on SIGTERM (how Spaces and containers stop an app), so that the temporary folder is
    removed as on any other exit (Python's default for SIGTERM skips the exit handlers)."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def default_model() -> str:
    """``$SYNRL_SPACE_MODEL``, else the first model in this Space's README, else the tiny model."""
    return os.environ.get("SYNRL_SPACE_MODEL") or default_model_from_readme(HERE / "README.md") or TINY_MODEL


def budget_flags_from_env() -> dict[str, Any]:
    """``$SYNRL_SPACE_FRAME_BUDGET`` (e.g. ``fps=2,max_frames=16``): frame budget fields set over every model's own."""
    return parse_budget_flags(os.environ.get("SYNRL_SPACE_FRAME_BUDGET"))


# --- inference (the one function that needs a GPU) -----------------------------------------------------

_MODELS: ModelRegistry | None = None


def models() -> ModelRegistry:
    """The process's model registry (one model in memory at a time, shared by every page)."""
    global _MODELS
    if _MODELS is None:
        _MODELS = ModelRegistry(app_temp_dir() / "models")
    return _MODELS


def _gpu(fn):
    """``spaces.GPU`` on a ZeroGPU Space, the function itself anywhere else."""
    if spaces is None:
        return fn
    return spaces.GPU(duration=120)(fn)


@_gpu
def run_model(model_name: str, video_path: str, prompt: str, settings: dict) -> Iterator[str]:
    """Stream the completion of the (already loaded) model ``model_name``. Plain arguments only:
    on ZeroGPU this runs in a GPU worker process."""
    loaded = models().peek(model_name)
    if loaded is None:
        raise ModelUnavailable(f"{model_name} is not loaded")
    yield from stream_generate(loaded, video_path, prompt, GenerationSettings(**settings))


# --- handlers ------------------------------------------------------------------------------------------


def _error(message: str) -> str:
    return f"⚠️ **{message}**"


def _sample_state(row: dict[str, Any], path: Path) -> dict[str, Any]:
    return {
        "source": "synthetic",
        "video": str(path),
        "id": row["id"],
        "task": row["task"],
        "question": row["question"],
        "answer": row["answer"],
        "answer_type": row["answer_type"],
        "options": list(row["options"]),
        "events": row["events"],
        "operations": row["operations"],
        "duration": float(row["duration"]),
    }


def _interval(text: str | None) -> tuple[float, float] | None:
    interval = parse_interval(text) if text else None
    return tuple(interval) if interval else None


def _plot_for(state: dict | None, predicted: str | None = None):
    if not state or state.get("source") != "synthetic":
        return None
    truth = predicted_interval = None
    if state["answer_type"] == "interval":
        truth = _interval(state["answer"])
        predicted_interval = _interval(predicted)
    return events_plot(state["events"], state["operations"], state["duration"], truth_interval=truth, predicted_interval=predicted_interval)


def _grade(state: dict | None, question: str, final: str | None) -> str:
    """The verdict block under the answer: final answer, ground truth, right or wrong."""
    lines = [f"**Final answer:** {final if final is not None else NO_ANSWER}"]
    if not state or state.get("source") != "synthetic":
        lines.append("*Your own video: there is no ground truth to compare with.*")
        return "\n\n".join(lines)
    if question.strip() != state["question"].strip():
        lines.append(f"*You edited the question, so the ground truth ({state['answer']}) may not apply.*")
        return "\n\n".join(lines)
    lines.append(f"**Ground truth:** {state['answer']}  ({state['answer_type'].replace('_', ' ')})")
    if final is None:
        lines.append(f"{WRONG}: the model gave no final answer.")
        return "\n\n".join(lines)
    score = score_answer(final, state["answer"], state["answer_type"], options=state["options"])
    if state["answer_type"] == "interval":
        right = score >= INTERVAL_PASS_IOU
        lines.append(f"{RIGHT if right else WRONG} (temporal IoU {score:.2f}; {INTERVAL_PASS_IOU} or more counts as right)")
    else:
        lines.append(RIGHT if score >= 1.0 else WRONG)
    return "\n\n".join(lines)


def build_demo(
    model: str | None = None,
    *,
    resolution: int = RESOLUTION,
    max_video_mb: float = MAX_VIDEO_MB,
    max_video_seconds: float = MAX_VIDEO_SECONDS,
    settings: GenerationSettings | None = None,
    budget_flags: dict[str, Any] | None = None,
    stream_fn=None,
) -> gr.Blocks:
    """The Space's UI.

    ``model``: the model preselected in the page (default: :func:`default_model`). The model sees
    the frames its checkpoint records (else the default budget), with ``budget_flags`` (FrameBudget
    fields; default: :func:`budget_flags_from_env`) set over them. ``stream_fn``
    replaces the model call (``(model_name, video_path, prompt, settings_dict) -> iterator of the
    growing completion``), e.g. with a scripted one in tests; by default :func:`run_model`.
    """
    temp = app_temp_dir()
    model = model or default_model()
    choices = model_choices(model, HERE / "README.md")
    allow_local = allow_local_models()
    registry = models()
    defaults = settings or GenerationSettings()
    flags = budget_flags_from_env() if budget_flags is None else budget_flags
    stream = stream_fn or run_model
    max_bytes = int(max_video_mb * 1e6)
    families = sorted(FAMILIES)
    videos_dir = temp / "videos"

    def generate(family: str, preset: str, seed: float | None):
        """Render the synthetic clip for (family, preset, seed): video, question, timeline."""
        blank = ("", "", "")  # reasoning, answer, verdict
        try:
            if family not in FAMILIES:
                raise ValueError(f"unknown task family {family!r}")
            if preset not in PRESETS:
                raise ValueError(f"unknown difficulty preset {preset!r}")
            seed = int(seed if seed is not None else 0)
            if seed < 0:
                raise ValueError("the seed must be 0 or more")
            row = generate_sample(family, 0, seed, "test", preset=preset, resolution=resolution)
        except ValueError as error:
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *blank, _error(str(error)))
        except Exception as error:  # noqa: BLE001 - a generator bug must not take the page down
            log.exception("generating %s/%s/%s failed", family, preset, seed)
            message = f"Could not generate this sample ({type(error).__name__}); try another seed."
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *blank, _error(message))
        prune(videos_dir, VIDEO_MAX_AGE_S)
        path = write_video(row["video"]["bytes"], videos_dir, f"{row['id']}-{preset}.mp4")
        state = _sample_state(row, path)
        video = gr.Video(value=str(path), subtitles=subtitles(row["events"], row["operations"], row["duration"]) or None)
        status = (
            f"Generated **{row['task']}** ({preset}, seed {seed}): {row['duration']:.1f} s, {len(row['events'])} events. Press **Ask**."
        )
        return (video, row["question"], state, events_table(row["events"]), _plot_for(state), *blank, status)

    def load_upload(file):
        """Check an uploaded file and show it in the player; a clear message when it is refused."""
        path = getattr(file, "name", file)
        blank = ("", "", "")
        if not path:
            return (gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *blank, gr.skip())
        try:
            info = check_video(path, max_bytes=max_bytes, max_seconds=max_video_seconds)
        except BadVideo as error:
            return (None, gr.skip(), None, [], None, *blank, _error(str(error)))
        except Exception as error:  # noqa: BLE001
            log.exception("checking the upload %s failed", path)
            return (None, gr.skip(), None, [], None, *blank, _error(f"Could not read that file ({type(error).__name__})."))
        state = {"source": "upload", "video": str(path)}
        status = f"Loaded your video ({info.duration:.1f} s, {info.width}×{info.height}). Type a question and press **Ask**."
        return (gr.Video(value=str(path), subtitles=None), "", state, [], None, *blank, status)

    def ask(state: dict | None, question: str, model_name: str, max_new_tokens: float, temperature: float):
        """Stream (reasoning, answer, verdict, status, plot) while the model answers."""
        question = (question or "").strip()
        if not state or not state.get("video"):
            yield "", "", "", _error("Generate a synthetic video or upload your own first."), gr.skip()
            return
        if not question:
            yield "", "", "", _error("Please type a question about the video."), gr.skip()
            return
        if len(question) > MAX_QUESTION_CHARS:
            message = f"The question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. Please shorten it."
            yield "", "", "", _error(message), gr.skip()
            return
        if not Path(state["video"]).is_file():
            yield "", "", "", _error("That video has expired; please generate or upload it again."), gr.skip()
            return
        try:
            model_name = check_model_choice((model_name or "").strip() or model, choices, allow_local=allow_local)
        except ModelUnavailable as error:
            yield "", "", "", _error(str(error)), gr.skip()
            return
        yield "", "", "", f"Loading **{model_name}** …", gr.skip()
        try:
            loaded = registry.get(model_name, default=model)
        except ModelUnavailable as error:
            yield "", "", "", _error(f"Could not load {model_name}: {error}"), gr.skip()
            return
        except Exception as error:  # noqa: BLE001 - e.g. out of memory while loading
            log.exception("loading %s failed", model_name)
            yield "", "", "", _error(f"Could not load {model_name}: {type(error).__name__}: {error}"), gr.skip()
            return
        note = f"\n\n{loaded.note}" if loaded.note else ""
        synthetic = state.get("source") == "synthetic" and question == state["question"].strip()
        prompt = build_prompt(question, state["answer_type"] if synthetic else None)
        try:
            budget = choose_budget(loaded.budget, **flags)
        except ValueError as error:  # the Space's settings do not fit this model's recorded budget
            yield "", "", "", _error(f"Frame budget for {model_name}: {error}"), gr.skip()
            return
        run_settings = dict(max_new_tokens=int(max_new_tokens), temperature=float(temperature), frame_budget=budget.budget.to_dict())
        text, parts = "", split_reasoning("")
        try:
            yield "", "", "", f"**{model_name}** is thinking …{note}", gr.skip()
            for text in stream(model_name, state["video"], prompt, run_settings):
                parts = split_reasoning(text)
                yield parts.thinking, parts.answer, "", f"**{model_name}** is thinking …{note}", gr.skip()
        except Exception as error:  # noqa: BLE001 - the page gets a message, the log the traceback
            log.exception("generation failed")
            yield parts.thinking, parts.answer, "", _error(f"Generation failed: {type(error).__name__}: {error}"), gr.skip()
            return
        parts = split_reasoning(text)
        verdict = _grade(state, question, parts.final)
        done = f"Done. Frames the model saw: {budget.describe()}.{note}"
        yield parts.thinking, parts.answer, verdict, done, _plot_for(state, parts.final)

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(600, VIDEO_MAX_AGE_S)) as demo:
        gr.Markdown(
            f"# {TITLE}\n"
            "Generate a synthetic clip from one of the [SynRL](https://github.com/synrl-hf/synrl-hf) task families "
            "(its answer is known by construction) or upload your own short video, then press **Ask** and watch the "
            "model's reasoning stream in."
        )
        sample = gr.State(None)
        with gr.Row():
            with gr.Column(scale=5):
                with gr.Tab("Synthetic video"):
                    family = gr.Dropdown(families, value=families_in("short_term")[0], label="Task family")
                    with gr.Row():
                        preset = gr.Radio(list(PRESETS), value=PRESETS[0], label="Difficulty preset")
                        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
                    generate_btn = gr.Button("Generate video", variant="secondary", elem_id="generate")
                with gr.Tab("Your video"):
                    upload = gr.File(
                        label=f"Upload a short video (MP4/WebM/MOV, at most {max_video_mb:g} MB and {max_video_seconds:g} s)",
                        file_count="single",
                        type="filepath",
                        elem_id="upload",
                    )
                question = gr.Textbox(
                    label="Question",
                    lines=5,
                    max_length=MAX_QUESTION_CHARS,
                    placeholder="Ask something about time in the video …",
                    elem_id="question",
                )
                model_box = gr.Dropdown(
                    choices,
                    value=model,
                    allow_custom_value=allow_local,
                    label="Model" + (" (or a local model folder)" if allow_local else ""),
                    elem_id="model",
                )
                with gr.Accordion("Generation settings", open=False):
                    max_new_tokens = gr.Slider(8, 2048, value=defaults.max_new_tokens, step=8, label="Max new tokens")
                    temperature = gr.Slider(0.0, 1.5, value=defaults.temperature, step=0.05, label="Temperature (0 = greedy)")
                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask")
            with gr.Column(scale=6):
                video = gr.Video(label="Video", interactive=False, autoplay=True, loop=True, elem_id="video")
                status = gr.Markdown("Generate a video or upload one to start.", elem_id="status")
        with gr.Row():
            reasoning = gr.Textbox(label="Reasoning (<think>)", lines=8, max_lines=20, interactive=False, elem_id="reasoning")
            answer = gr.Textbox(label="Answer (<answer>)", lines=2, interactive=False, elem_id="answer")
        verdict = gr.Markdown(elem_id="verdict")
        with gr.Accordion("Event timeline (ground truth: reveals the answer)", open=False, elem_id="timeline"):
            plot = gr.Plot(label="When each event happens", elem_id="plot")
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Events", interactive=False, wrap=True, elem_id="events")
        gr.Markdown(
            "The model sees the frames only, sampled as in its training (the frame budget its checkpoint records; "
            "the status line says which budget and where it came from); the captions on the video are the event log, for you."
        )

        generate_outputs = [video, question, sample, table, plot, reasoning, answer, verdict, status]
        generate_btn.click(generate, [family, preset, seed], generate_outputs, api_name="generate", concurrency_limit=2)
        upload.upload(load_upload, [upload], generate_outputs, api_name="load_video", concurrency_limit=2)
        ask_inputs = [sample, question, model_box, max_new_tokens, temperature]
        ask_outputs = [reasoning, answer, verdict, status, plot]
        # One generation at a time: the model is the scarce resource.
        ask_btn.click(ask, ask_inputs, ask_outputs, api_name="ask", concurrency_limit=1, concurrency_id="model")
    return demo


LAUNCH_KWARGS = dict(max_file_size=f"{int(MAX_VIDEO_MB * 2)}mb", ssr_mode=False)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    remove_temp_dir_on_sigterm()
    model = default_model()
    demo = build_demo(model)
    if os.environ.get("SPACE_ID"):  # on a Space, load the model before the first visitor arrives
        try:
            models().get(model, default=model)
        except Exception:  # noqa: BLE001 - the page will show the reason on Ask
            log.exception("preloading the model failed")
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=1).launch(**LAUNCH_KWARGS)
