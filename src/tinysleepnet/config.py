"""Settings of a TinySleepNet run as one typed dataclass, saved beside every checkpoint.

The defaults are the authors' published recipe (their TensorFlow code where it differs from
the paper; see the README's "Deviations and options"). Named presets change several fields
at once; every field can also be set on the command line (``--lr 3e-4``).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import PathError, TinySleepNetError, check_number
from .io.atomic import read_json, write_json

#: What a setting is for, declared by every :class:`Config` field (its ``metadata``); the
#: run folders derive from it which settings a stored run may be continued with:
#:
#: - ``"data"``: describes the nights, not the recipe; training takes it from them and a
#:   checkpoint carries it to staging (:data:`DATA_FIELDS`).
#: - ``"recipe"``: decides what training computes; a run is continued only with the same.
#: - ``"resumable"``: when to stop; a training run may be resumed with other values.
#: - ``"call"``: chosen by each call that runs part of a run (threads, what to do on a
#:   stall); the folds of one cross-validation may differ in it, a release may not.
#: - ``"runtime"``: never part of a run's identity (the device, free-form notes).
ROLES = ("data", "recipe", "resumable", "call", "runtime")
DATA, RECIPE, RESUMABLE, CALL, RUNTIME = ({"role": role} for role in ROLES)


@dataclass
class Config:
    """Model and training settings.

    Attributes are grouped as: signal, model, minibatch, optimisation, augmentation,
    stopping, cross-validation and runtime. Times are in seconds, rates in Hz.
    """

    # signal: set from the prepared nights by training (see DATA_FIELDS)
    sfreq: float = field(default=100.0, metadata=DATA)
    """Sampling rate the model works at, in Hz; recordings are resampled to it."""
    epoch_sec: float = field(default=30.0, metadata=DATA)
    """Length of one scored epoch, in seconds."""
    channel: str = field(default="EEG Fpz-Cz", metadata=DATA)
    """EEG channel the model was trained on (a default for prediction)."""
    highpass_hz: float = field(default=0.5, metadata=RECIPE)
    """Lower edge (Hz) of the training nights' EEG band: Sleep-EDF's amplifier high-pass (its
    EDF header says ``HP:0.5Hz``). Staging removes what lies below it from a recording (a
    high-pass at a fifth of it) and notches out mains (:mod:`tinysleepnet.io.filtering`), so
    a DC offset or a slow drift is removed; 0: no high-pass."""

    # model
    n_filters: int = field(default=128, metadata=RECIPE)
    lstm_units: int = field(default=128, metadata=RECIPE)
    dropout: float = field(default=0.5, metadata=RECIPE)
    batch_norm: Literal["affine", "batch"] = field(default="affine", metadata=RECIPE)
    """``"affine"``: a learned per-channel scale and shift, as the authors' TF code runs
    (its batch-norm layers never leave inference mode). ``"batch"``: ordinary batch norm."""
    batch_norm_eps: float = field(default=1e-3, metadata=RECIPE)
    """Batch norm's epsilon (TF's default, the authors'). Their inference-mode layers divide
    by ``sqrt(moving_variance + eps)`` with the moving variance fixed at 1, so the
    ``"affine"`` scale is ``gamma / sqrt(1 + eps)``; 0 gives the plain affine layer."""
    peepholes: bool = field(default=True, metadata=RECIPE)
    """Peephole connections in the LSTM, as in the authors' TF cell (``LSTMCell(use_peepholes=
    True)``). ``False`` uses PyTorch's fused ``nn.LSTM``, which ONNX export needs."""
    init: Literal["authors", "pytorch"] = field(default="authors", metadata=RECIPE)
    """Initial weights: ``"authors"`` are TF's defaults as the authors' code leaves them
    (truncated-normal variance scaling over fan-in for conv and dense kernels, glorot-uniform
    LSTM kernels, zero biases); ``"pytorch"``: PyTorch's default initialisation."""
    input_scale: float = field(default=1.0, metadata=RECIPE)
    """Factor applied to the microvolt signal before the network. 1.0 feeds raw microvolts,
    as the authors did; then the first layers' outputs are large enough to saturate the LSTM
    early in training, which it takes several passes at lr 1e-4 to leave. The ``fast`` preset
    uses 0.05 (units of 20 uV, about one EEG standard deviation)."""

    # minibatch
    batch_nights: int = field(default=15, metadata=RECIPE)
    """Nights side by side in one minibatch (paper: 20)."""
    seq_len: int = field(default=20, metadata=RECIPE)
    """Consecutive epochs per chunk; the LSTM state is carried between chunks (paper: 15)."""
    segment_epochs: int = field(default=0, metadata=RECIPE)
    """Training only: each night is cut into near-equal consecutive segments of at most this
    many epochs, each starting from a fresh LSTM state (0: whole nights, as the authors).
    Validation and prediction always carry the state through whole nights."""

    # optimisation
    lr: float = field(default=1e-4, metadata=RECIPE)
    adam_beta1: float = field(default=0.9, metadata=RECIPE)
    adam_beta2: float = field(default=0.999, metadata=RECIPE)
    adam_eps: float = field(default=1e-8, metadata=RECIPE)
    adam: Literal["tf", "torch"] = field(default="tf", metadata=RECIPE)
    """Where Adam adds ``adam_eps``. ``"tf"``: TensorFlow's ``ApplyAdam``, as the authors
    trained: to the uncorrected ``sqrt(v)`` ("epsilon hat"), which in PyTorch's formula is
    ``adam_eps / sqrt(1 - adam_beta2**t)`` at step ``t`` (3.2e-7 at the first step).
    ``"torch"``: ``torch.optim.Adam``, to the bias-corrected ``sqrt(v_hat)``."""
    class_weights: tuple[float, float, float, float, float] = field(
        default=(1.0, 1.5, 1.0, 1.0, 1.0), metadata=RECIPE
    )
    l2_weight: float = field(default=1e-3, metadata=RECIPE)
    """Factor of the L2 penalty ``sum(w**2) / 2`` on the conv kernels, added to the loss."""
    clip_norm: float = field(default=5.0, metadata=RECIPE)
    """Gradients are clipped to this global norm."""
    grad_centralize: bool = field(default=False, metadata=RECIPE)
    """Gradient centralization of the conv kernels (Yong et al., ECCV 2020): before each
    step, each output channel's mean gradient over its kernel is subtracted from it, so no
    step moves a channel's kernel weights all one way. Blocks 2-4 convolve ReLU outputs
    (all >= 0), so without it every weight of a channel's kernel gets a gradient of one
    sign, and Adam moves each by about the learning rate; when one night is replayed in
    nearly the same chunks pass after pass, kernel sums drift below zero and the channels
    die (the ``fast`` preset uses it; ``benchmarks/README.md``, "Why `fast` collapses on
    the whole night"). The authors had none (``False``)."""
    schedule: Literal["constant", "onecycle"] = field(default="constant", metadata=RECIPE)
    """Learning-rate schedule; ``"onecycle"`` peaks at ``lr`` (the ``fast`` preset)."""

    # augmentation
    max_skip_epochs: int = field(default=4, metadata=RECIPE)
    """Each pass drops 0..max_skip_epochs epochs at the start of each night."""
    max_shift_frac: float = field(default=0.1, metadata=RECIPE)
    """Each pass shifts each night's signal by up to this fraction of an epoch."""

    # stopping
    max_passes: int = field(default=200, metadata=RESUMABLE)
    """Passes over the training nights (``--epochs`` on the command line)."""
    patience: int = field(default=50, metadata=RESUMABLE)
    """Stop once more than this many passes have gone by since the last kept pass (the
    authors' rule: with 50, the last pass run is the kept pass + 51)."""
    monitor: Literal["authors", "mf1", "acc"] = field(default="authors", metadata=RECIPE)
    """Rule that keeps a pass as the best checkpoint. ``"authors"``: validation accuracy
    strictly higher than the best so far and validation macro-F1 not lower (their
    ``train.py``); ``"mf1"`` or ``"acc"``: the higher score, ties broken by the other."""
    on_stall: Literal["warn", "rescale"] = field(default="rescale", metadata=CALL)
    """What to do when training stalls (validation predictions nearly one stage, a training
    loss no lower than guessing the stages' frequencies, or a flat one; see
    :mod:`tinysleepnet.training.stall`). Every stalled pass is logged as a warning and
    recorded. ``"rescale"`` (the default) restarts the run once, after
    :data:`~tinysleepnet.training.stall.RESTART_AFTER_PASSES` stalled passes in a row, with
    :data:`STALL_REMEDY` (the signal in 20-uV units, 3-h training segments): the paper's
    recipe stalled on one real night for 4,284 optimizer steps, and the restarted run fitted
    from its second pass (``benchmarks/README.md``, "Training on one real night"). ``"warn"`` only
    warns, so the run stays the authors' recipe whatever happens (``--on-stall warn``)."""

    # cross-validation
    valid_frac: float = field(default=0.1, metadata=RECIPE)
    """Fraction of each fold's training subjects held out for validation."""

    # runtime
    seed: int = field(default=42, metadata=RECIPE)
    device: str = field(default="auto", metadata=RUNTIME)
    """``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``..."""
    threads: int = field(default=0, metadata=CALL)
    """Torch threads on the CPU. 0: on the command line, chosen for the machine when the
    command starts (:func:`~tinysleepnet.nn.device.default_threads`: its cores less those
    other work keeps busy); from Python, torch's current setting. Results are bit-identical
    from run to run only at one thread count."""
    precision: Literal["auto", "float32", "bfloat16"] = field(default="float32", metadata=RECIPE)
    """Arithmetic of the CNN in training and validation (the LSTM and classifier always run
    in float32): ``"float32"``, as the authors trained, ``"bfloat16"`` autocast, or
    ``"auto"``: bfloat16 on CUDA, float32 on CPU. On a CPU without native bfloat16
    instructions, ``"bfloat16"`` falls back to float32 with a warning (emulated bfloat16 is
    slower)."""

    extra: dict[str, Any] = field(default_factory=dict, metadata=RUNTIME)
    """Free-form notes kept with the run (preset name, command line)."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Refuse a setting outside its range, in one line naming it and the range.

        Runs whenever a Config is made (presets, flags, :meth:`replace`, saved settings), so
        a bad value stops a command before it writes anything.

        Raises
        ------
        TinySleepNetError
            ``"dropout=1.5 is out of range: must be a number >= 0 and < 1"``.
        """
        for name, hint in typing.get_type_hints(Config).items():
            value = getattr(self, name)
            if typing.get_origin(hint) is Literal and value not in typing.get_args(hint):
                raise TinySleepNetError(
                    f"{name}={value!r} is not one of {', '.join(typing.get_args(hint))}"
                )
            if hint is bool and not isinstance(value, bool):
                raise TinySleepNetError(f"{name}={value!r} must be true or false")
            if hint is str and not (isinstance(value, str) and value.strip()):
                raise TinySleepNetError(f"{name}={value!r} must be a non-empty text")
        for name, bounds in RANGES.items():
            check_number(name, getattr(self, name), **bounds)
        weights = self.class_weights
        if not (
            isinstance(weights, tuple)
            and len(weights) == N_CLASS_WEIGHTS
            and all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in weights)
            and sum(weights) > 0
        ):
            raise TinySleepNetError(
                f"class_weights={weights!r} is out of range: must be {N_CLASS_WEIGHTS} numbers "
                "(W, N1, N2, N3, REM) >= 0, not all 0"
            )
        if self.highpass_hz >= self.sfreq / 2:
            raise TinySleepNetError(
                f"highpass_hz={self.highpass_hz:g} is out of range: must be below half of "
                f"sfreq={self.sfreq:g}"
            )
        if self.epoch_samples < MIN_EPOCH_SAMPLES:
            raise TinySleepNetError(
                f"sfreq={self.sfreq:g} x epoch_sec={self.epoch_sec:g} gives "
                f"{self.epoch_samples} samples per epoch; the network needs at least "
                f"{MIN_EPOCH_SAMPLES}"
            )

    @property
    def epoch_samples(self) -> int:
        """Samples in one epoch at :attr:`sfreq`."""
        return round(self.sfreq * self.epoch_sec)

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every setting by name, as :meth:`save` writes them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        """Build from a dict, ignoring unknown keys (settings of other versions).

        Settings saved by a version before ``adam`` and ``batch_norm_eps`` existed ran
        PyTorch's Adam and an affine norm without epsilon; they keep doing so.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in values.items() if k in names}
        if "n_filters" in values:  # a saved run's settings, not a few overrides
            values.setdefault("adam", "torch")
            affine = values.get("batch_norm", "affine") == "affine"
            values.setdefault("batch_norm_eps", 0.0 if affine else 1e-3)
        if "class_weights" in values:
            values["class_weights"] = tuple(values["class_weights"])
        return cls(**values)

    def differences(self, other: Config, ignore: Iterable[str] = ()) -> str:
        """The fields where this config differs from ``other``, for an error message.

        Returns ``"name=value (run has other_value), ..."``, or ``""`` when the two agree on
        every field not in ``ignore``.
        """
        new, old, skipped = self.to_dict(), other.to_dict(), set(ignore)
        return ", ".join(
            f"{k}={new[k]!r} (run has {old[k]!r})"
            for k in new
            if k not in skipped and new[k] != old[k]
        )

    def save(self, path: str | Path) -> None:
        """Write as indented JSON (atomically)."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Config:
        """Settings saved by :meth:`save` (one-line error if the file is missing or damaged)."""
        values = read_json(path, "settings file")
        try:
            return cls.from_dict(values)
        except (TinySleepNetError, TypeError) as err:
            raise PathError(path, f"not usable settings: {err}") from err


#: Allowed range of every numeric setting, as :func:`~tinysleepnet.errors.check_number`'s
#: keywords; :meth:`Config.validate` checks them.
RANGES: dict[str, dict[str, Any]] = {
    "sfreq": {"low": 2},  # the first convolution spans sfreq / 2 samples
    "epoch_sec": {"low": 0, "low_open": True},
    "highpass_hz": {"low": 0},
    "n_filters": {"low": 1, "whole": True},
    "lstm_units": {"low": 1, "whole": True},
    "dropout": {"low": 0, "high": 1, "high_open": True},
    "input_scale": {"low": 0, "low_open": True},
    "batch_nights": {"low": 1, "whole": True},
    "seq_len": {"low": 1, "whole": True},
    "segment_epochs": {"low": 0, "whole": True},
    "lr": {"low": 0},  # 0: weights stay as they are
    "adam_beta1": {"low": 0, "high": 1, "high_open": True},
    "adam_beta2": {"low": 0, "high": 1, "high_open": True},
    "adam_eps": {"low": 0, "low_open": True},
    "batch_norm_eps": {"low": 0},  # 0: no epsilon (PyTorch's affine form)
    "l2_weight": {"low": 0},
    "clip_norm": {"low": 0, "low_open": True},
    "max_skip_epochs": {"low": 0, "whole": True},
    "max_shift_frac": {"low": 0, "high": 1, "high_open": True},
    "max_passes": {"low": 1, "whole": True},
    "patience": {"low": 0, "whole": True},
    "valid_frac": {"low": 0, "high": 1, "low_open": True, "high_open": True},
    "seed": {"low": 0, "high": 2**32 - 1, "whole": True},
    "threads": {"low": 0, "high": 1024, "whole": True},  # 0: chosen for the machine
}
#: One class weight per stage (W, N1, N2, N3, REM).
N_CLASS_WEIGHTS = 5
#: Fewest samples in one epoch the network's convolutions and pooling take.
MIN_EPOCH_SAMPLES = 1


def fields_with_role(*roles: str) -> tuple[str, ...]:
    """The :class:`Config` fields whose declared role is one of ``roles`` (see :data:`ROLES`)."""
    if unknown := set(roles) - set(ROLES):
        raise ValueError(f"unknown roles {sorted(unknown)}; choose from {ROLES}")
    return tuple(f.name for f in dataclasses.fields(Config) if f.metadata["role"] in roles)


#: Fields that describe the data rather than the recipe: training takes them from the
#: prepared nights, and a checkpoint carries them to prediction.
DATA_FIELDS = fields_with_role("data")

#: Fields a rerun of a stored run (cv, fine-tuning) may change: how it is called and where
#: it runs (roles ``call`` and ``runtime``); any other difference is refused.
RERUN_FREE_FIELDS = fields_with_role("call", "runtime")

# How a trained network runs when it stages; here, beside the settings, so that the command
# line offers the choices without loading torch.
#: Precisions of :func:`~tinysleepnet.nn.inference.predict_proba`; ``"bfloat16"`` runs the
#: CNN in bfloat16 (fast on CPUs with AVX512-BF16 or AMX, and on GPUs) and the LSTM in float32.
PRECISIONS = ("float32", "bfloat16")
#: Engines that can run the network (:func:`~tinysleepnet.prediction.stage.stage`).
BACKENDS = ("torch", "onnx")

#: The remedy for a stalled run (``on_stall="rescale"``), also part of the ``fast`` preset:
#: the signal in units of 20 uV keeps the LSTM out of saturation, and 3-h training segments
#: keep its state from drifting into it on real-length nights (benchmarks/README.md).
STALL_REMEDY: dict[str, Any] = {"input_scale": 0.05, "segment_epochs": 360}

#: Named presets: changes applied on top of the paper's defaults.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Time to accuracy (benchmarks/time_to_accuracy.py): one-cycle schedule to a 5x peak
    # rate, 2 nights per minibatch (7x the optimizer steps per pass), the signal in units
    # of 20 uV (keeps the LSTM out of saturation), nights cut into segments of at most 3 h
    # for training (at a high rate, a state carried through whole nights drifts into
    # saturation and training stalls), gradient centralization of the conv kernels (without
    # it their channels die when one night is replayed in many small steps; with it at the
    # earlier peak of 1e-3 the LSTM saturated there), bfloat16 where the hardware has it;
    # the fused LSTM with PyTorch's initialisation, Adam and affine norm and the
    # best-macro-F1 checkpoint, as it was measured.
    "fast": {
        "peepholes": False,
        "init": "pytorch",
        "adam": "torch",
        "batch_norm_eps": 0.0,
        "monitor": "mf1",
        "schedule": "onecycle",
        "lr": 5e-4,
        "grad_centralize": True,
        "batch_nights": 2,
        **STALL_REMEDY,
        "max_passes": 12,
        "patience": 12,
        "precision": "bfloat16",
    },
}


def preset(name: str, **overrides: Any) -> Config:
    """The configuration of a named preset (``"paper"`` or ``"fast"``), with overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return Config(**{**PRESETS[name], **overrides}, extra={"preset": name})
