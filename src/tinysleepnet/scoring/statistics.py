"""Sleep statistics of a hypnogram, with the AASM definitions.

The definitions follow the AASM scoring manual and YASA's ``sleep_statistics`` where they
agree; REM latency is counted from sleep onset (AASM), not from the start of the recording.
Durations are in minutes and shares in percent; the unit is part of every key.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..stages import EPOCH_SEC, N_STAGES, REM, STAGES, UNSCORED, WAKE, stage_runs


def transition_matrix(stages: np.ndarray) -> np.ndarray:
    """Counts of stage changes between consecutive epochs.

    Returns
    -------
    ndarray of int, shape (5, 5)
        ``[i, j]`` counts epochs of stage ``i`` followed by an epoch of stage ``j``
        (stage order :data:`~tinysleepnet.stages.STAGES`); pairs with an unscored epoch are
        left out. The diagonal counts epochs followed by the same stage.
    """
    stages = np.asarray(stages)
    before, after = stages[:-1], stages[1:]
    scored = (before != UNSCORED) & (after != UNSCORED)
    counts = np.zeros((N_STAGES, N_STAGES), dtype=int)
    np.add.at(counts, (before[scored], after[scored]), 1)
    return counts


def sleep_statistics(
    stages: np.ndarray,
    epoch_sec: float = EPOCH_SEC,
    *,
    min_awakening_sec: float | None = None,
    excluded: np.ndarray | None = None,
) -> dict[str, Any]:
    """Standard sleep statistics of one night.

    Definitions (one epoch lasts ``epoch_sec``; "sleep" is N1, N2, N3 or REM):

    - ``tib_min``: time in bed, the whole hypnogram (unscored epochs included).
    - ``excluded_min``: the part of TIB excluded because its signal was unscorable
      (``excluded``); ``excluded_epochs``: the same in epochs.
    - ``sol_min``: sleep onset latency, from the first epoch to the first sleep epoch.
    - ``spt_min``: sleep period time, from the first to the last sleep epoch, inclusive.
    - ``waso_min``: wake after sleep onset, the W epochs within the sleep period.
    - ``tst_min``: total sleep time, all sleep epochs.
    - ``se_pct``: sleep efficiency, ``100 * tst / (tib - excluded)``: of the time whose
      signal could be staged.
    - ``sme_pct``: sleep maintenance efficiency, ``100 * tst / (spt - excluded)``, the
      excluded epochs counted being those within the sleep period.
    - ``rem_latency_min``: from the first sleep epoch to the first REM epoch.
    - ``<stage>_min`` for W, N1, N2, N3, REM (W over the whole night) and ``<stage>_pct``
      for the sleep stages, in percent of TST.
    - ``n_awakenings``: runs of W within the sleep period lasting at least
      ``min_awakening_sec`` (so the wake before sleep onset and the final awakening do not
      count).
    - ``n_transitions``: changes of stage between consecutive scored epochs, and
      ``transitions``: the full count matrix (rows: from, columns: to, see
      :func:`transition_matrix`).

    Latencies, SPT, WASO and SME are ``None`` when the night holds no sleep (and REM
    latency when it holds no REM); stage percentages are ``None`` when TST is zero.
    Latencies and SPT are clock times: an unscorable stretch before sleep onset counts in
    SOL (sleep may have begun in it), one within the sleep period counts in SPT but not in
    SME's denominator, as it does not in SE's.

    Parameters
    ----------
    stages : ndarray of int, shape (n_epochs,)
        Class ids 0..4 (W, N1, N2, N3, REM) in time order; :data:`~tinysleepnet.stages.UNSCORED`
        epochs count only in TIB and ``unscored_min``.
    epoch_sec : float
        Length of one epoch, in seconds.
    min_awakening_sec : float or None
        Shortest run of wake counted as an awakening, in seconds; None: one epoch (20 s for
        a model of 20-s epochs).
    excluded : ndarray of bool, shape (n_epochs,) or None
        Epochs whose signal was unscorable (their stage must be ``UNSCORED``); they count
        in ``excluded_min`` instead of ``unscored_min``, and not in sleep efficiency.

    Returns
    -------
    dict
        The values above, JSON-serialisable (floats, ints, ``None`` and nested lists).

    Examples
    --------
    >>> stats = sleep_statistics(np.array([0, 0, 1, 2, 2, 0, 2, 4, 4, 0]))
    >>> stats["sol_min"], stats["waso_min"], stats["rem_latency_min"]
    (1.0, 0.5, 2.5)
    """
    stages = np.asarray(stages, dtype=int)
    excluded = np.zeros(stages.size, bool) if excluded is None else np.asarray(excluded, bool)
    epoch_min = epoch_sec / 60.0
    asleep = (stages > WAKE) & (stages != UNSCORED)
    sleep_epochs = np.flatnonzero(asleep)
    tst = float(asleep.sum() * epoch_min)
    tib = float(stages.size * epoch_min)
    stageable = float((stages.size - excluded.sum()) * epoch_min)

    stats: dict[str, Any] = {
        "n_epochs": int(stages.size),
        "epoch_sec": float(epoch_sec),
        "tib_min": tib,
        "excluded_epochs": int(excluded.sum()),
        "excluded_min": float(excluded.sum() * epoch_min),
        "tst_min": tst,
        "se_pct": 100.0 * tst / stageable if stageable else None,
        "sol_min": None,
        "spt_min": None,
        "waso_min": None,
        "sme_pct": None,
        "rem_latency_min": None,
        "n_awakenings": 0,
    }
    if sleep_epochs.size:
        onset, last = sleep_epochs[0], sleep_epochs[-1]
        period = stages[onset : last + 1]
        spt = float(period.size * epoch_min)
        stageable_spt = float((period.size - excluded[onset : last + 1].sum()) * epoch_min)
        _, length, stage = stage_runs(period)
        rem = np.flatnonzero(stages == REM)
        stats.update(
            sol_min=float(onset * epoch_min),
            spt_min=spt,
            waso_min=float(np.sum(period == WAKE) * epoch_min),
            sme_pct=100.0 * tst / stageable_spt,
            rem_latency_min=float((rem[0] - onset) * epoch_min) if rem.size else None,
            n_awakenings=int(
                np.sum((stage == WAKE) & (length * epoch_sec >= (min_awakening_sec or epoch_sec)))
            ),
        )
    for class_id, name in enumerate(STAGES):
        minutes = float(np.sum(stages == class_id) * epoch_min)
        stats[f"{name.lower()}_min"] = minutes
        if class_id != WAKE:
            stats[f"{name.lower()}_pct"] = 100.0 * minutes / tst if tst else None
    stats["unscored_min"] = float(np.sum((stages == UNSCORED) & ~excluded) * epoch_min)
    transitions = transition_matrix(stages)
    stats["n_transitions"] = int(transitions.sum() - np.trace(transitions))
    stats["transitions"] = transitions.tolist()
    return stats


#: Rows of :func:`statistics_table`: key, label.
_TABLE_ROWS = (
    ("tib_min", "Time in bed (min)"),
    ("excluded_min", "Unscorable signal, excluded (min)"),
    ("tst_min", "Total sleep time (min)"),
    ("se_pct", "Sleep efficiency (%)"),
    ("sol_min", "Sleep onset latency (min)"),
    ("spt_min", "Sleep period time (min)"),
    ("waso_min", "Wake after sleep onset (min)"),
    ("sme_pct", "Sleep maintenance efficiency (%)"),
    ("rem_latency_min", "REM latency from sleep onset (min)"),
    ("n_awakenings", "Awakenings"),
    ("n_transitions", "Stage transitions"),
)


def statistics_table(stats: dict[str, Any]) -> str:
    """A short plain-text table of :func:`sleep_statistics`' results, for people to read,
    headed by what produced them when ``stats`` holds a ``provenance``."""
    provenance = stats.get("provenance", {})
    lines = [f"# {key}: {value}" for key, value in provenance.items()]
    lines += [""] if provenance else []
    lines += [f"{label:<36}{_format(stats[key])}" for key, label in _TABLE_ROWS]
    lines += ["", f"{'Stage':<8}{'min':>8}{'% TST':>8}"]
    for name in STAGES:
        pct = stats.get(f"{name.lower()}_pct")
        lines.append(f"{name:<8}{stats[f'{name.lower()}_min']:>8.1f}{_format(pct):>8}")
    return "\n".join(lines) + "\n"


def _format(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.1f}"
