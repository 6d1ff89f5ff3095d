"""The model-folder fixtures (a released model, a recording, an isolated model home)
serve the release and fine-tuning tests too."""

from ..models.conftest import cohort, model_home, recording, released  # noqa: F401
