"""An in-process Hugging Face Hub for tests: huggingface_hub's real client, a fake transport.

Only the lowest layer is faked (the HTTP transport, via huggingface_hub's client factory), so the
real create_repo / create_commit / list_repo_files code runs and its requests are answered here.
"""

from __future__ import annotations

import base64
import json
import re
from contextlib import contextmanager
from pathlib import Path

import httpx2
from huggingface_hub.utils import set_client_factory
from huggingface_hub.utils._http import default_client_factory


class FakeHub:
    def __init__(self, fail_commits: bool = False, fail_message: str = "fake hub: storage is down", echo_headers: bool = False):
        self.repos: dict[str, dict[str, bytes]] = {}
        self.private: dict[str, bool] = {}
        self.requests: list[httpx2.Request] = []
        self.fail_commits = fail_commits
        self.fail_message = fail_message
        self.echo_headers = echo_headers  # error messages quote the request's headers, Authorization included

    def _error(self, message: str, request: httpx2.Request) -> str:
        return f"{message}; request headers: {dict(request.headers)}" if self.echo_headers else message

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/validate-yaml":
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if path == "/api/repos/create":
            body = json.loads(request.content)
            repo = f"{body.get('organization') or 'user'}/{body['name']}"
            self.repos.setdefault(repo, {})
            self.private[repo] = body.get("visibility", "private" if body.get("private") else "public") == "private"
            prefix = "" if body.get("type", "model") == "model" else f"{body['type']}s/"
            return httpx2.Response(200, json={"url": f"https://huggingface.co/{prefix}{repo}", "name": repo})
        match = re.match(r"/api/(models|datasets|spaces)/([^/]+/[^/]+)/(preupload|commit|tree|revision)/?([^/]*)(.*)", path)
        if not match:
            return httpx2.Response(404, json={"error": self._error(f"fake hub: no route for {request.method} {path}", request)})
        kind, repo, action, _revision, _rest = match.groups()
        if repo not in self.repos:
            return httpx2.Response(
                404, headers={"X-Error-Code": "RepoNotFound"}, json={"error": self._error("Repository not found", request)}
            )
        if action == "preupload":
            files = json.loads(request.content)["files"]
            return httpx2.Response(
                200, json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]}
            )
        if action == "commit":
            if self.fail_commits:
                return httpx2.Response(500, json={"error": self._error(self.fail_message, request)})
            for line in request.content.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    self.repos[repo][item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                elif item["key"] == "deletedFile":
                    self.repos[repo].pop(item["value"]["path"], None)
            return httpx2.Response(
                200,
                json={
                    "success": True,
                    "commitOid": "0" * 40,
                    "commitUrl": f"https://huggingface.co/{'' if kind == 'models' else kind + '/'}{repo}/commit/{'0' * 40}",
                },
            )
        if action == "tree":
            entries = [{"type": "file", "path": p, "size": len(b), "oid": "0" * 40} for p, b in sorted(self.repos[repo].items())]
            return httpx2.Response(200, json=entries)
        return httpx2.Response(200, json={"id": repo, "sha": "0" * 40, "siblings": [{"rfilename": p} for p in self.repos[repo]]})

    def materialise(self, repo: str, folder: Path) -> Path:
        """Write a repo's files to ``folder``, as a clone of it would look."""
        for rel, data in self.repos[repo].items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return folder


@contextmanager
def fake_hub(**kwargs):
    hub = FakeHub(**kwargs)
    set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub.handler)))
    try:
        yield hub
    finally:
        set_client_factory(default_client_factory)  # huggingface_hub's own, which honours HF_HUB_OFFLINE
