import os
import sys

import pytest

# Tests never touch the network: the Hub is faked where needed, never reached.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(autouse=True)
def autograd_on():
    """lighteval's transformers model switches autograd off process-wide when imported; a training
    test that runs after the evaluation tests must still get gradients."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(True)
    yield
