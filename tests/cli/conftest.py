"""The staging tests' network, checkpoint and recordings serve the command-line tests too."""

from ..prediction.conftest import checkpoint, make_recording, model, recording  # noqa: F401
