"""The Space in a real headless browser (Debian's chromium driven by Playwright, no downloaded browser):
generate a clip and see it play, ask and wait for the streamed answer, upload a non-video and see the
message. Screenshots are kept under artifacts/space/."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.space_app import free_port, load_app

CHROMIUM = os.environ.get("SYNRL_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium): no browser to drive", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package; never `playwright install`)")
pytest.importorskip("gradio", reason="the Space needs the [space] extra (gradio)")
pytest.importorskip("trl")

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "space"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server():
    app = load_app()
    from inference import TINY_MODEL, GenerationSettings

    demo = app.build_demo(
        TINY_MODEL,
        resolution=192,
        settings=GenerationSettings(max_new_tokens=48),
        budget_flags={"fps": 2.0, "max_frames": 8, "max_pixels": 128 * 128},
    )
    port = free_port()
    demo.queue(max_size=app.QUEUE_MAX_SIZE, default_concurrency_limit=1).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **app.LAUNCH_KWARGS
    )
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="synrl-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1000},
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        try:
            yield page
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_generate_play_ask_and_refuse_a_non_video(server, page, tmp_path):
    page.goto(server)
    page.get_by_role("button", name="Generate video").click()

    # The clip arrives, with its question, and plays.
    page.wait_for_function("() => !!document.querySelector('#video video')?.currentSrc")
    question = page.locator("#question textarea")
    page.wait_for_function("() => document.querySelector('#question textarea').value.length > 10")
    assert "?" in question.input_value()
    page.wait_for_function(
        "() => { const v = document.querySelector('#video video'); return v && v.readyState >= 2 && v.currentTime > 0.2; }"
    )
    duration = page.evaluate("() => document.querySelector('#video video').duration")
    assert duration > 1.0
    tracks = page.evaluate("() => document.querySelectorAll('#video video track').length")
    assert tracks >= 1, "the event captions are missing"
    page.get_by_text("Generated").first.wait_for()

    # Ask: the reasoning streams in, then the verdict with the ground truth.
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator("#verdict").get_by_text("Final answer:", exact=True).wait_for()
    page.locator("#verdict").get_by_text("Ground truth:", exact=True).wait_for()
    verdict = page.locator("#verdict").inner_text()
    assert ("Right" in verdict) != ("Wrong" in verdict)
    reasoning = page.locator("#reasoning textarea").input_value()
    answer = page.locator("#answer textarea").input_value()
    for shown in (reasoning, answer):
        assert "<think>" not in shown and "<answer>" not in shown
    page.locator("#status").get_by_text("Done.").wait_for()
    page.get_by_text("Event timeline").click()
    page.locator("#events").wait_for()

    # Captions: pause on the second event's caption and check that the browser shows it.
    page.wait_for_function("() => document.querySelector('#video video').textTracks[0]?.cues?.length > 0")
    caption = page.evaluate(
        """() => { const v = document.querySelector('#video video'); const cues = v.textTracks[0].cues;
                   const cue = cues[Math.min(1, cues.length - 1)]; v.pause(); v.currentTime = cue.startTime + 0.05;
                   return cue.text; }"""
    )
    assert "wall_contact" in caption
    page.wait_for_function(
        "() => { const t = document.querySelector('#video video').textTracks[0]; return t.mode === 'showing' && t.activeCues.length > 0; }"
    )
    page.wait_for_timeout(300)
    path = shot(page, "space")
    assert path.stat().st_size > 20_000

    # A non-video upload: a clear message in the page, no traceback, the app still works.
    fake = tmp_path / "holiday.mp4"
    fake.write_text("definitely not a video\n" * 20)
    page.get_by_role("tab", name="Your video").click()
    page.locator("#upload input[type=file]").set_input_files(str(fake))
    message = page.locator("#status").get_by_text("is not a video")
    message.wait_for()
    assert "holiday.mp4" in message.inner_text()
    assert "Traceback" not in page.content()
    shot(page, "space-bad-upload")
    assert page.evaluate("() => document.querySelector('#video video')") is None  # the player was cleared

    page.get_by_role("tab", name="Synthetic video").click()
    page.get_by_role("button", name="Generate video").click()
    page.locator("#status").get_by_text("Generated").wait_for()
    assert not page.errors, page.errors
