# The package's top-level names and their homes. ``__init__.py`` hands this file to
# lazy_loader, which imports each name from its home on first use; type checkers read it
# as the package's interface.

from .config import Config as Config
from .config import preset as preset
from .data.nights import Night as Night
from .data.nights import load_nights as load_nights
from .data.prepare import prepare as prepare
from .data.simulate import simulate_cohort as simulate_cohort
from .data.simulate import simulate_night as simulate_night
from .evaluation.cv import cross_validate as cross_validate
from .evaluation.report import evaluate_run as evaluate_run
from .models.trained import TrainedModel as TrainedModel
from .nn.checkpoint import load_model as load_model
from .nn.model import TinySleepNet as TinySleepNet
from .prediction.batch import stage_many as stage_many
from .prediction.online import Stager as Stager
from .prediction.result import StagingResult as StagingResult
from .prediction.stage import stage as stage
from .training.fit import fit as fit
from .training.fit import train as train
from .workflows.demo import run_pipeline as run_pipeline
from .workflows.reproduce import reproduce as reproduce

__version__: str
__all__: list[str]
