"""``synrl push``: upload a built dataset folder to the Hub as a dataset repo.

The folder is checked (manifest, card, every shard's sha256, and that the audit of this build, if
there is one, did not fail) before anything is sent, the upload
is one commit (shards, card, manifest, previews; shards of an older build on the Hub are deleted in
the same commit), the folder's lock is held meanwhile (no build changes it under the upload), and a
failure leaves the local folder untouched and names what failed, never the token
(:func:`synrl_hf.redaction.redact`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .argtypes import HUB_REPO_ID, existing_dir, hub_repo_id, text_arg
from .dataset_dir import MANIFEST, manifest_fingerprint, read_audit_report, read_manifest, shard_is_intact
from .folder_lock import folder_lock
from .redaction import redact

UPLOADED = ("README.md", MANIFEST, "data/*/*.parquet", "previews/*.png", "audit/*")


def check_folder(folder: Path, allow_failed_audit: bool = False) -> dict[str, Any]:
    if not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is not a directory; build one with `synrl build --out {folder}`")
    for name in ("README.md", MANIFEST):
        if not (folder / name).is_file():
            raise ValueError(f"{str(folder)!r} has no {name}: not a finished synrl build (run `synrl build` or `synrl merge`)")
    manifest = read_manifest(folder / MANIFEST)
    broken = [rel for rel, entry in manifest["shards"].items() if not shard_is_intact(folder, rel, entry)]
    if broken:
        raise ValueError(f"{len(broken)} shard(s) missing or damaged, e.g. {broken[0]}; re-run `synrl build` to repair")
    failed = failed_audit(folder, manifest)
    if failed and not allow_failed_audit:
        raise ValueError(
            f"the audit of this build failed ({'; '.join(failed[:3])}); fix the data, or push anyway with --allow-failed-audit"
        )
    return manifest


def failed_audit(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The failures of the audit report made for this very build (same shard hashes); none if the
    audit passed or there is no such report."""
    report = read_audit_report(folder)
    if report is None or report.get("fingerprint") != manifest_fingerprint(manifest) or report.get("passed", True):
        return []
    return list(report.get("failures", [])) or ["failed"]


def push_dataset(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    revision: str | None = None,
    allow_failed_audit: bool = False,
) -> str:
    """Upload ``folder`` to the dataset repo ``repo_id``; returns the commit URL. A build whose audit
    failed is refused unless ``allow_failed_audit``."""
    folder = Path(folder)
    if not HUB_REPO_ID.match(repo_id):
        raise ValueError(f"repo id {repo_id!r} must look like 'org/name'")
    if not folder.is_dir():
        raise ValueError(f"{str(folder)!r} is not a directory; build one with `synrl build --out {folder}`")
    with folder_lock(folder, "synrl push"):
        check_folder(folder, allow_failed_audit)
        return _upload(folder, repo_id, private=private, token=token, revision=revision)


def _upload(folder: Path, repo_id: str, *, private: bool, token: str | None, revision: str | None) -> str:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    api = HfApi(token=token)
    local = sorted({p.relative_to(folder).as_posix() for pattern in UPLOADED for p in folder.glob(pattern) if p.is_file()})
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        try:
            remote = api.list_repo_files(repo_id, repo_type="dataset", revision=revision)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            remote = []
        stale = [path for path in remote if path.startswith(("data/", "previews/", "audit/")) and path not in local]
        operations = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(folder / rel)) for rel in local]
        operations += [CommitOperationDelete(path_in_repo=path) for path in stale]
        info = api.create_commit(
            repo_id,
            operations,
            repo_type="dataset",
            revision=revision,
            commit_message=f"synrl push: {len(local)} files, {len(stale)} stale removed",
        )
    except Exception as error:  # the Hub's errors vary; report them without the token
        raise RuntimeError(f"upload of {folder} to {repo_id} failed: {redact(error, token)}; the local folder is unchanged") from None
    return info.commit_url


def add_push_parser(subparsers) -> None:
    p = subparsers.add_parser("push", help="upload a built dataset folder to the Hub")
    p.add_argument("folder", type=existing_dir, help="a folder made by `synrl build`")
    p.add_argument("--repo-id", required=True, type=hub_repo_id, help="org/name of the dataset repo")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--revision", type=text_arg, default=None, help="branch to commit to")
    p.add_argument("--allow-failed-audit", action="store_true", help="push even though the audit of this build failed")
    p.set_defaults(run=run_push)


def run_push(args) -> int:
    try:
        url = push_dataset(
            args.folder, args.repo_id, private=args.private, revision=args.revision, allow_failed_audit=args.allow_failed_audit
        )
    except RuntimeError as error:
        print(f"synrl push: error: {redact(error)}")
        return 1
    print(f"pushed {args.folder} → {url}\nload it with load_dataset({args.repo_id!r}, 'short_term')")
    return 0
