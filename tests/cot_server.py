"""A real HTTP server on 127.0.0.1 speaking OpenAI's /v1/chat/completions, with scripted replies.

Used by the CoT pipeline and mixture tests: the pipeline's httpx client talks to it exactly as it
would to ``vllm serve`` or a hosted API. Replies are scripted per sample (found by a key string in
the generation prompt, e.g. the question text): ``good`` answers right at once, ``fix`` answers
wrong until it receives verifier feedback, ``bad`` is always wrong. Polishing requests get the last
good reply back with a fluent opener; judge requests get ``judge_verdicts`` in turn (then PASS).
``fail_first`` requests are answered 503 (with ``status`` instead, e.g. 400, a non-retryable error);
with ``echo_headers`` those error bodies echo the request's headers, Authorization included, as some
proxies and debugging servers do; with ``slow_first`` only that many first requests take ``delay``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def wrong(completion: str, answer: str) -> str:
    """The same reasoning with a wrong final answer."""
    bad = "B" if answer != "B" else "C"
    if answer.startswith("["):
        bad = "[0.00, 0.10]"
    elif answer in ("yes", "no"):
        bad = "no" if answer == "yes" else "yes"
    elif answer.isdigit():
        bad = str(int(answer) + 7)
    return completion.rsplit("<answer>", 1)[0] + f"<answer>{bad}</answer>"


class ScriptedServer:
    def __init__(
        self,
        scripts: dict[str, tuple[str, str, str]] | None = None,
        *,
        delay: float = 0.0,
        fail_first: int = 0,
        status: int = 503,
        echo_headers: bool = False,
        slow_first: int = 0,
    ):
        self.scripts = dict(scripts or {})  # key in the prompt -> (behavior, good completion, bad completion)
        self.delay, self.fail_first, self.status, self.echo_headers = delay, fail_first, status, echo_headers
        self.slow_first = slow_first  # only the first N requests take ``delay`` (0: all of them)
        self.judge_verdicts: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    number = len(server.requests)
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                if number <= server.fail_first:
                    error = {"message": "scripted failure"}
                    if server.echo_headers:
                        error["request_headers"] = dict(self.headers)
                    return self._send(server.status, {"error": error})
                if server.delay and (not server.slow_first or number <= server.slow_first):
                    time.sleep(server.delay)
                text = server.reply(body)
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{number}",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": len(text.split()), "total_tokens": 100 + len(text.split())},
                    },
                )

            def _send(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def text_of(message: dict) -> str:
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "".join(p.get("text", "") for p in content if p.get("type") == "text")

    def script_for(self, prompt: str) -> tuple[str, str, str] | None:
        return next((v for k, v in self.scripts.items() if k in prompt), None)

    def reply(self, body: dict) -> str:
        messages = body["messages"]
        system = self.text_of(messages[0]) if messages and messages[0]["role"] == "system" else ""
        user = self.text_of(next(m for m in messages if m["role"] == "user"))
        if "editor" in system:  # polishing: same facts, a friendlier opener
            original = user.split("\n\n", 1)[1]
            return original.replace("<think>", "<think>\nLet me watch this carefully.", 1)
        if "check reasoning" in system:
            with self.lock:
                return self.judge_verdicts.pop(0) if self.judge_verdicts else "PASS"
        script = self.script_for(user)
        if script is None:
            return "I cannot tell. <answer>?</answer>"
        behavior, good, bad = script
        reflected = any(m["role"] == "assistant" for m in messages)
        if behavior == "good" or (behavior == "fix" and reflected):
            return good
        return bad

    def generations_for(self, key: str) -> int:
        """How many generation/reflection requests mentioned ``key`` in their first user message."""
        count = 0
        for body in self.requests:
            messages = body["messages"]
            system = self.text_of(messages[0]) if messages[0]["role"] == "system" else ""
            if "editor" in system or "check reasoning" in system:
                continue
            if key in self.text_of(next(m for m in messages if m["role"] == "user")):
                count += 1
        return count
