"""One secret redaction for everything synrl prints or writes about errors, logs and statistics.

:func:`redact` masks, in any text:

- the secrets this process knows: values registered with :func:`register_secret` (the CLI registers
  every ``--*key`` / ``--*token`` / ``--*secret`` / ``--*password`` argument), those passed in, and
  the environment's (``HF_TOKEN``, ``SYNRL_COT_API_KEY`` and any variable named ``*_TOKEN``,
  ``*_KEY``, ``*_SECRET``, ``*_PASSWORD``);
- whatever has the shape of a credential: the value of an ``Authorization`` header however it is
  printed (``Authorization: Bearer …``, ``'authorization': '…'``), a ``Bearer``/``Basic`` token,
  Hugging Face tokens (``hf_…``, ``api_org_…``), OpenAI-style keys (``sk-…``, dashes included),
  ``key=…`` / ``"token": "…"`` pairs, ``--…-key VALUE`` on an echoed command line, and the password
  of a ``scheme://user:password@host`` URL.

Statistics (token counts such as ``"prompt_tokens": 100``) are not secrets and stay readable.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

__all__ = ["MASK", "install_log_redaction", "redact", "redact_strings", "register_secret", "secret_values"]

MASK = "***"
SECRET_NAME = re.compile(r"(?:^|[_-])(?:token|key|secret|password)$", re.I)  # argument and variable names holding secrets
MIN_SECRET = 6  # shorter values are too likely to appear in ordinary text to be masked verbatim

_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
_PATTERNS = [
    # an Authorization header's value, in a header dump, a dict repr or JSON: up to the end of the value
    (re.compile(r"""(authorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]+""", re.I), rf"\g<1>{MASK}"),
    (re.compile(rf"\b(bearer|basic)(\s+){_TOKEN_CHARS}{{4,}}", re.I), rf"\1\2{MASK}"),
    (re.compile(r"\bhf_[A-Za-z0-9_-]{4,}"), f"hf_{MASK}"),
    (re.compile(r"\bapi_org_[A-Za-z0-9_-]{4,}"), f"api_org_{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), f"sk-{MASK}"),
    # key=value, "api_key": "value", token: value (not "prompt_tokens": 100: the name must end in the word)
    (
        re.compile(r"""((?:\b|_)(?:api[_-]?key|access[_-]?token|token|secret|password|passwd)["']?\s*[:=]\s*["']?)[^\s"',;&}]+""", re.I),
        rf"\g<1>{MASK}",
    ),
    # --cot-api-key VALUE / --hub-token=VALUE on an echoed command line
    (re.compile(r"(--[\w-]*(?:key|token|secret|password)(?:=|\s+))(?!-)\S+", re.I), rf"\g<1>{MASK}"),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), rf"\g<1>{MASK}@"),
]

_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret for every later :func:`redact` in this process."""
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _registered.add(value)


def secret_values(*extra: str | None) -> list[str]:
    """The secrets to mask verbatim, longest first: ``extra``, the registered ones, the environment's."""
    values = {v for v in extra if v and len(v) >= MIN_SECRET}
    with _lock:
        values |= _registered
    values |= {v for name, v in os.environ.items() if SECRET_NAME.search(name) and len(v) >= MIN_SECRET}
    return sorted(values, key=len, reverse=True)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (see the module docstring) replaced by ``***``."""
    text = str(text)
    for value in secret_values(*secrets):
        text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_strings(value: Any, *secrets: str | None) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string in it redacted."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, dict):
        return {key: redact_strings(item, *secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_strings(item, *secrets) for item in value]
    return value


def install_log_redaction() -> None:
    """Redact every log record this process creates, whichever logger and handler it goes through
    (a record factory: handlers that libraries add later are covered too). Idempotent."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.redacting = True
    logging.setLogRecordFactory(factory)
