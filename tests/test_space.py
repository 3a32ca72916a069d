"""The Gradio Space (spaces/synrl-reasoning): its helpers, and the app launched on 127.0.0.1 and
driven through ``gradio_client`` (generate, ask with streamed updates, bad input, file serving)."""

from __future__ import annotations

import importlib.util
import os
import signal
import struct
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from tests.space_app import SPACE, free_port, load_app

pytest.importorskip("gradio", reason="the Space needs the [space] extra (gradio)")
pytest.importorskip("gradio_client")
pytest.importorskip("transformers")
pytest.importorskip("trl")

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]


def launch(demo, app):
    port = free_port()
    demo.queue(max_size=app.QUEUE_MAX_SIZE, default_concurrency_limit=1).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH_KWARGS
    )
    return f"http://127.0.0.1:{port}/"


app = load_app()
from inference import TINY_MODEL, GenerationSettings, ModelRegistry, build_prompt, parse_budget_flags, split_reasoning  # noqa: E402
from media import BadVideo, check_video  # noqa: E402
from timeline_view import events_plot, events_table, subtitles  # noqa: E402

from synrl_hf import generate_sample  # noqa: E402
from synrl_hf.video import encode_mp4  # noqa: E402

FAMILY, PRESET, SEED, RESOLUTION = "collision_count", "round1", 3, 128
MAX_SECONDS, MAX_MB = 8.0, 0.4
SETTINGS = GenerationSettings(max_new_tokens=24)
BUDGET_FLAGS = {"fps": 2.0, "max_frames": 8, "max_pixels": 128 * 128}  # few, small frames: the tiny model runs on CPU


def understate_duration(path: Path, seconds: float) -> Path:
    """Rewrite an MP4's movie, track and media header durations to claim ``seconds`` (the frames stay)."""
    data = bytearray(path.read_bytes())
    movie = data.find(b"mvhd") + 4  # version 0 boxes: flags, created, modified, timescale, duration
    movie_scale = struct.unpack_from(">I", data, movie + 12)[0]
    struct.pack_into(">I", data, movie + 16, int(seconds * movie_scale))
    struct.pack_into(">I", data, data.find(b"tkhd") + 4 + 20, int(seconds * movie_scale))
    media = data.find(b"mdhd") + 4
    struct.pack_into(">I", data, media + 16, int(seconds * struct.unpack_from(">I", data, media + 12)[0]))
    path.write_bytes(data)
    return path


def write_clip(path: Path, seconds: float, size: int = 128, noise: bool = False) -> Path:
    rng = np.random.default_rng(0)
    count = int(seconds * 30)
    if noise:  # incompressible: many bytes per second
        frames = (rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(count))
    else:
        frames = (np.full((size, size, 3), (i * 4) % 256, dtype=np.uint8) for i in range(count))
    path.write_bytes(encode_mp4(frames, 30, size, size))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    text = folder / "notes.mp4"  # a text file with a video's name
    text.write_text("this is not a video\n" * 50)
    png = folder / "still.png"
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(png)
    return {
        "ok": write_clip(folder / "ok.mp4", 2.0),
        "long": write_clip(folder / "long.mp4", MAX_SECONDS + 2),
        "lying": understate_duration(write_clip(folder / "lying.mp4", MAX_SECONDS + 2), 1.0),  # its header claims 1 s
        "big": write_clip(folder / "big.mp4", 1.0, size=256, noise=True),
        "text": text,
        "png": png,
    }


# --- helpers (no server) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, thinking, answer, final",
    [
        ("<think>It bounces twice.</think>\n<answer>C</answer>", "It bounces twice.", "C", "C"),
        ("<think>It bounces", "It bounces", "", None),  # still streaming
        ("<think>It bounces twice.</think><ans", "It bounces twice.", "", None),  # a tag half-arrived
        ("<think>x</think><answer>[1.5, 3", "x", "[1.5, 3", None),  # answer not closed yet
        ("no tags at all", "no tags at all", "", None),
        ("<answer>A</answer> then <answer>B</answer>", "A then", "B", "B"),
        ("", "", "", None),
    ],
)
def test_split_reasoning_never_shows_tags(text, thinking, answer, final):
    parts = split_reasoning(text)
    assert (parts.thinking, parts.answer, parts.final) == (thinking, answer, final)
    for shown in (parts.thinking, parts.answer):
        assert "<think>" not in shown and "</answer>" not in shown and "<answer>" not in shown


def test_build_prompt_asks_for_the_format():
    prompt = build_prompt("  How many bounces?\nA. 1\nB. 2 ", "multiple_choice")
    assert prompt.startswith("How many bounces?\nA. 1\nB. 2\n")
    assert "option's letter" in prompt and "<think>" in prompt and "<answer>" in prompt
    assert "letter" not in build_prompt("What happens first?")


def test_timeline_views_cover_every_event():
    row = generate_sample("card_stack", 0, 0, resolution=128)
    events, ops = row["events"], row["operations"]
    assert len(events_table(events)) == len(events)
    caps = subtitles(events, ops, row["duration"])
    assert caps and all(c["timestamp"][0] < c["timestamp"][1] <= row["duration"] + 1e-6 for c in caps)
    assert all(a["timestamp"][1] <= b["timestamp"][0] + 1e-6 for a, b in zip(caps[:-1], caps[1:], strict=True))  # no overlap
    fig = events_plot(events, ops, row["duration"], truth_interval=(1.0, 2.0), predicted_interval=(1.5, 2.5))
    assert len(fig.axes) == 1 and fig.axes[0].get_xlim()[1] == pytest.approx(row["duration"])
    events_plot([], [], 3.0)  # a family without events still draws


def test_check_video(clips):
    limits = dict(max_bytes=int(MAX_MB * 1e6), max_seconds=MAX_SECONDS)
    info = check_video(clips["ok"], **limits)
    assert info.duration == pytest.approx(2.0, abs=0.1) and (info.width, info.height) == (128, 128)
    for name, words in [
        ("text", "not a video"),
        ("png", "not a video"),
        ("long", "limit is 8 s"),
        ("lying", "limit is 8 s"),
        ("big", "limit is 0.4 MB"),
    ]:
        with pytest.raises(BadVideo, match=words):
            check_video(clips[name], **limits)
    import av

    with av.open(str(clips["lying"])) as container:  # the header does say 1 s: only decoding tells the truth
        assert container.duration / 1e6 == pytest.approx(1.0, abs=0.05)


def test_default_model_comes_from_the_readme_and_falls_back_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNRL_SPACE_MODEL", raising=False)
    assert app.default_model() == "synrl-hf/Qwen3-VL-4B-SynRL-GRPO-round2"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    registry = ModelRegistry(tmp_path)
    started = time.monotonic()
    loaded = registry.get(None, default="synrl-hf/Qwen3-VL-4B-SynRL-GRPO-round2")
    assert loaded.is_tiny and "could not be loaded" in loaded.note
    assert time.monotonic() - started < 60
    with pytest.raises(Exception, match="neither a model folder nor a Hub id"):
        registry.get("not a model")
    folder = str(tmp_path / "tiny-qwen2_5_vl")  # a local model folder loads by its path
    assert registry.get(folder).source == folder and registry.peek(folder) is not None


def test_zerogpu_decorator_is_used_when_spaces_is_installed(monkeypatch):
    assert app.spaces is None  # not on a Space: run_model is the plain function
    decorated = []
    fake = types.ModuleType("spaces")

    def GPU(duration=None):  # noqa: N802 - the real name
        def wrap(fn):
            decorated.append((fn.__name__, duration))
            fn.on_zerogpu = True
            return fn

        return wrap

    fake.GPU = GPU
    monkeypatch.setitem(sys.modules, "spaces", fake)
    spec = importlib.util.spec_from_file_location("synrl_space_app_zerogpu", SPACE / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert decorated == [("run_model", 120)] and module.run_model.on_zerogpu


# --- the launched app ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    demo = app.build_demo(
        TINY_MODEL, resolution=RESOLUTION, max_video_mb=MAX_MB, max_video_seconds=MAX_SECONDS, settings=SETTINGS, budget_flags=BUDGET_FLAGS
    )
    url = launch(demo, app)
    yield url, demo
    demo.close()


@pytest.fixture()
def client(server):
    from gradio_client import Client

    return Client(server[0], verbose=False, download_files=False)


def _status(outputs) -> str:
    return outputs[-1]


def _video_path(video) -> str:
    """The served path of a gr.Video output (an update dict when the handler returned gr.Video(...))."""
    return (video.get("value") or video.get("video"))["path"]


def test_endpoints_and_queue_limit(server, client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/generate", "/load_video", "/ask"} <= set(endpoints)
    assert server[1]._queue.max_size == app.QUEUE_MAX_SIZE


def test_generate_then_ask_streams_and_grades(client):
    row = generate_sample(FAMILY, 0, SEED, "test", preset=PRESET, resolution=RESOLUTION)
    video, question, table, plot, reasoning, answer, verdict, status = client.predict(FAMILY, PRESET, SEED, api_name="/generate")
    assert question == row["question"]
    assert "Generated" in status and FAMILY in status
    assert _video_path(video).startswith(str(app.app_temp_dir())) and _video_path(video).endswith(".mp4")
    assert video["subtitles"] and video["subtitles"]["path"].endswith(".vtt")
    assert len(table["data"]) == len(row["events"])
    assert plot and plot["type"] == "matplotlib"

    job = client.submit(question, TINY_MODEL, 24, 0.0, api_name="/ask")
    updates = list(job)
    assert len(updates) >= 4, updates  # loading, thinking, at least one streamed piece, done
    streamed = [u[0] for u in updates[2:-1]]
    assert any(streamed), "no streamed text arrived"
    for update in updates:
        assert "<think>" not in update[0] and "<answer>" not in update[1]
    reasoning, answer, verdict, status, plot = job.outputs()[-1]
    assert verdict.startswith("**Final answer:**")
    assert f"**Ground truth:** {row['answer']}" in verdict
    assert ("Right" in verdict) != ("Wrong" in verdict)
    assert "Done." in status and "noise" in status


def test_streamed_answer_is_parsed_and_graded(tmp_path):
    """A scripted stand-in for the model (the tiny one writes noise): the answer is parsed and graded."""
    from gradio_client import Client

    row = generate_sample(FAMILY, 0, SEED, "test", preset=PRESET, resolution=RESOLUTION)
    script = {"text": f"<think>The star touches the left wall, then the right wall.</think>\n<answer>{row['answer']}</answer>"}
    seen = {}

    def scripted(model_name, video_path, prompt, settings):
        seen.update(model=model_name, video=video_path, prompt=prompt, settings=settings)
        text = script["text"]
        for end in range(4, len(text) + 4, 4):
            time.sleep(0.005)
            yield text[:end]

    demo = app.build_demo(TINY_MODEL, resolution=RESOLUTION, settings=SETTINGS, budget_flags=BUDGET_FLAGS, stream_fn=scripted)
    url = launch(demo, app)
    try:
        client = Client(url, verbose=False, download_files=False)
        client.predict(FAMILY, PRESET, SEED, api_name="/generate")
        job = client.submit(row["question"], TINY_MODEL, 24, 0.0, api_name="/ask")
        updates = list(job)
        assert len(updates) > 10
        thinking_seen = [u[0] for u in updates]
        assert "The star touches the left wall" in thinking_seen[-1]
        assert any(t and t != thinking_seen[-1] for t in thinking_seen), "reasoning did not grow step by step"
        reasoning, answer, verdict, status, plot = updates[-1]
        assert reasoning == "The star touches the left wall, then the right wall." and answer == row["answer"]
        assert f"**Final answer:** {row['answer']}" in verdict and app.RIGHT in verdict
        assert "option's letter" not in seen["prompt"] or row["answer_type"] == "multiple_choice"
        assert seen["prompt"].startswith(row["question"]) and "<answer>" in seen["prompt"]
        assert seen["settings"]["max_new_tokens"] == 24

        script["text"] = "<think>Hmm.</think>"  # no answer at all
        reasoning, answer, verdict, status, plot = client.predict(row["question"], TINY_MODEL, 24, 0.0, api_name="/ask")
        assert "no `<answer>` given" in verdict and "Wrong" in verdict and answer == ""

        verdict = client.predict(row["question"] + " (edited)", TINY_MODEL, 24, 0.0, api_name="/ask")[2]
        assert "edited the question" in verdict
    finally:
        demo.close()


def test_models_come_from_a_fixed_list_and_local_folders_only_when_allowed(tmp_path, monkeypatch):
    from inference import ENV_ALLOW_LOCAL, ENV_MODELS, ModelUnavailable, allow_local_models, check_model_choice, model_choices

    monkeypatch.setenv(ENV_MODELS, "org/extra-model, ./ckpt")
    choices = model_choices("org/default", SPACE / "README.md")
    assert choices == ["org/default", "synrl-hf/Qwen3-VL-4B-SynRL-GRPO-round2", "org/extra-model", "./ckpt", TINY_MODEL]
    assert check_model_choice(" org/extra-model ", choices) == "org/extra-model"
    for name in ("org/any-model", str(tmp_path), "", "../../etc"):
        with pytest.raises(ModelUnavailable, match="not one of this Space's models"):
            check_model_choice(name, choices)
    assert not allow_local_models()
    monkeypatch.setenv(ENV_ALLOW_LOCAL, "1")
    assert allow_local_models()
    assert check_model_choice(str(tmp_path), choices, allow_local=True) == str(tmp_path)
    with pytest.raises(ModelUnavailable):  # still no Hub id a visitor types
        check_model_choice("org/any-model", choices, allow_local=True)


def test_sigterm_removes_the_temporary_folder(tmp_path):
    """The app run as a Space runs it (python app.py), stopped as a Space stops it (SIGTERM)."""
    import httpx

    temp, port = tmp_path / "tmp", free_port()
    temp.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "SYNRL_SPACE_MODEL": TINY_MODEL,
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen([sys.executable, str(SPACE / "app.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        (folder,) = temp.glob("synrl-space-*")
        assert (folder / "gradio").is_dir()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not folder.exists(), proc.stderr.read().decode()[-2000:]


def test_parse_budget_flags():
    assert parse_budget_flags("fps=2, max_frames=8,max_pixels=50176") == {"fps": 2.0, "max_frames": 8, "max_pixels": 50176}
    assert parse_budget_flags("") == parse_budget_flags(None) == {}
    for bad, words in (("frames=8", "key among"), ("fps=fast", "not a number"), ("num_frames=0", "positive"), ("fps", "key=value")):
        with pytest.raises(ValueError, match=words):
            parse_budget_flags(bad)


def test_the_model_sees_its_checkpoints_budget_unless_the_space_sets_one(tmp_path):
    """A checkpoint folder with a recorded budget: the Space decodes with it, says so, and its own setting wins."""
    from gradio_client import Client

    from synrl_hf.frame_budget import FrameBudget
    from synrl_hf.modeling import build_tiny_model

    folder = str(build_tiny_model(tmp_path / "trained", "qwen2_5_vl"))
    trained = FrameBudget(fps=3.0, max_frames=6, max_pixels=64 * 64)
    trained.save(folder)
    row = generate_sample(FAMILY, 0, SEED, "test", preset=PRESET, resolution=RESOLUTION)
    seen = []

    def scripted(model_name, video_path, prompt, settings):
        seen.append(settings["frame_budget"])
        yield f"<answer>{row['answer']}</answer>"

    for flags, expected, words in (
        ({}, trained, "the checkpoint's recorded budget"),
        ({"num_frames": 4}, FrameBudget(num_frames=4, max_pixels=64 * 64), "set by num_frames; the rest from the checkpoint's"),
    ):
        demo = app.build_demo(folder, resolution=RESOLUTION, settings=SETTINGS, budget_flags=flags, stream_fn=scripted)
        url = launch(demo, app)
        try:
            client = Client(url, verbose=False, download_files=False)
            client.predict(FAMILY, PRESET, SEED, api_name="/generate")
            status = client.predict(row["question"], folder, 24, 0.0, api_name="/ask")[3]
        finally:
            demo.close()
        assert app.models().peek(folder).budget == trained
        assert FrameBudget.from_dict(seen[-1]) == expected
        assert expected.describe() in status and words in status


def test_bad_input_gives_messages_and_the_app_stays_up(server, client, clips):
    from gradio_client import Client, handle_file

    fresh = Client(server[0], verbose=False, download_files=False)
    assert "Generate a synthetic video or upload" in fresh.predict("What happens?", TINY_MODEL, 8, 0.0, api_name="/ask")[3]

    for name, words in [("text", "is not a video"), ("png", "is not a video"), ("long", "limit is 8 s"), ("big", "limit is 0.4 MB")]:
        outputs = client.predict(handle_file(str(clips[name])), api_name="/load_video")
        assert words in _status(outputs), (name, outputs)
        assert outputs[0] is None  # nothing left in the player
        assert "Traceback" not in _status(outputs)

    outputs = client.predict(handle_file(str(clips["ok"])), api_name="/load_video")
    assert "Loaded your video" in _status(outputs) and _video_path(outputs[0]).startswith(str(app.app_temp_dir()))
    assert "type a question" in client.predict("   ", TINY_MODEL, 8, 0.0, api_name="/ask")[3].lower()
    reasoning, answer, verdict, status, plot = client.predict("Does the screen get brighter?", TINY_MODEL, 8, 0.0, api_name="/ask")
    assert "no ground truth" in verdict and "Done." in status

    refusals = []  # Gradio checks the dropdown's choices itself; check_model_choice is the app's own check behind it
    for name in ("no/such-model", str(ROOT / "tests"), str(ROOT / "no-such-folder")):  # a Hub id, a server folder, no folder
        with pytest.raises(Exception, match="not in the list of choices") as refused:
            client.predict("What happens?", name, 8, 0.0, api_name="/ask")
        refusals.append(str(refused.value).replace(name, "NAME"))
    assert refusals[1] == refusals[2]  # nothing tells which server folders exist
    too_long = client.predict("Why? " * (app.MAX_QUESTION_CHARS // 5 + 1), TINY_MODEL, 8, 0.0, api_name="/ask")[3]
    assert f"the limit is {app.MAX_QUESTION_CHARS:,}" in too_long
    with pytest.raises(Exception, match="not in the list of choices"):  # Gradio checks choices itself
        client.predict(FAMILY, "round9", 1, api_name="/generate")
    assert "Generated" in _status(client.predict(FAMILY, "round2", 1, api_name="/generate"))  # still up


def test_serves_nothing_outside_its_temp_folder(server, client, tmp_path):
    import httpx

    url = server[0]
    video = client.predict(FAMILY, PRESET, SEED, api_name="/generate")[0]
    served = _video_path(video)
    assert httpx.get(f"{url}gradio_api/file={served}").status_code == 200
    outside = tmp_path / "outside.txt"
    outside.write_text("content-that-must-not-leak")
    app.models().get(TINY_MODEL)
    model_file = app.app_temp_dir() / "models" / "tiny-qwen2_5_vl" / "config.json"  # inside the temp dir, not Gradio's cache
    for path in (outside, ROOT / "pyproject.toml", Path("/etc/passwd"), SPACE / "app.py", model_file):
        response = httpx.get(f"{url}gradio_api/file={path}")
        assert response.status_code in (403, 404), (path, response.status_code)
        assert b"content-that-must-not-leak" not in response.content
