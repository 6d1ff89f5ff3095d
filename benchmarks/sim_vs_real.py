"""Realism of the simulated Sleep-EDF nights, measured against one real night (SC4001E0).

Usage::

    python benchmarks/sim_vs_real.py --measure [REAL]      # the real night's statistics
    python benchmarks/sim_vs_real.py [REAL] [--png FILE]   # real vs simulated, side by side

``REAL`` is a folder holding a Sleep-EDF PSG and its hypnogram (default: the repository's
``tests/fixtures/sleep-edf-real/``, SC4001E0). Both are prepared as the package prepares
Sleep-EDF (30 min of wake kept around sleep: 841 epochs for SC4001E0), once per EEG/EOG
channel.

``--measure`` prints, per stage and channel, the statistics the simulator is calibrated
from (:mod:`tinysleepnet.data.simulate`): amplitude (SD, percentiles), Welch spectrum
(1/f slope, band powers), eye movements and blinks, spindles, K-complexes, slow waves,
the recording chain (quantisation step, clipping) and the correlation between channels.

Without ``--measure`` it simulates nights following the official hypnograms of other
subjects (1-2, both nights: nothing of SC4001E0's scoring), prepares them the same way and
prints, per stage, real and simulated side by side, draws both spectra on one figure, and
runs a two-sample test: a gradient-boosted classifier trained to tell real from simulated
epochs of the same stage, from 52 features of each epoch (log band powers in 1-2 Hz bands,
amplitude, shape and transient counts, on Fpz-Cz, Pz-Oz and the EOG). Its 5-fold
cross-validated AUC is 0.5 when the two cannot be told apart, 1.0 when always; beside it,
the three features that alone tell them apart best, the wake activity of both
(:func:`wake_activity`), and the same test between the simulated subjects (one against the
other): what between-subject differences alone give, since the real side is one subject.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt, welch
from scipy.stats import kurtosis, skew

from tinysleepnet.data.nights import load_nights
from tinysleepnet.data.prepare import prepare
from tinysleepnet.stages import STAGES

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "sleep-edf-real"
CHANNELS = ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal")
SFREQ = 100.0
#: Bands of the report, Hz.
BANDS = {
    "delta": (0.5, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 12.0),
    "sigma": (12.0, 16.0),
    "beta": (16.0, 30.0),
    "gamma": (30.0, 45.0),
}
#: Narrow bands of the classifier's features, Hz.
FEATURE_BANDS = [(0.5, 1), (1, 2), (2, 3), (3, 4), (4, 6), (6, 8), (8, 10), (10, 12),
                 (12, 14), (14, 16), (16, 20), (20, 25), (25, 30), (30, 40), (40, 49)]  # fmt: skip
SIM_SUBJECTS = (1, 2)
#: --fit simulates each of its 8 stage sequences as this many subjects (32 nights).
FIT_SUBJECTS_PER_NIGHT = 4


# ------------------------------------------------------------------------------- loading


def load(src: Path, work: Path) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Prepared epochs of every channel (uV, (n_epochs, 3000)), the stages of a folder and
    each epoch's subject (str)."""
    epochs, stages, subjects = {}, None, None
    for channel in CHANNELS:
        out = work / channel.replace(" ", "_")
        prepare(src, out, channel=channel, progress=False, n_jobs=1)
        nights = load_nights(out)
        epochs[channel] = np.concatenate([np.asarray(n.signal_uv) for n in nights])
        stages = np.concatenate([n.stages for n in nights])
        subjects = np.concatenate([np.full(len(n.stages), n.subject) for n in nights])
    assert stages is not None and subjects is not None
    return epochs, stages, subjects


def simulated(work: Path, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Simulated nights following other subjects' official hypnograms, prepared."""
    from tinysleepnet.data.simulate import simulate_cohort

    recordings = work / "recordings"
    simulate_cohort(recordings, SIM_SUBJECTS, from_official=True, seed=seed, quirks=False)
    return load(recordings, work / "prepared")


# ------------------------------------------------------------------------------- measures


def _bandpass(x: np.ndarray, low: float, high: float, order: int = 2) -> np.ndarray:
    sos = butter(order, [low, high], "bandpass", fs=SFREQ, output="sos")
    return sosfiltfilt(sos, x, axis=-1)


def spectra(epochs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of each epoch (4-s windows), uV^2/Hz."""
    return welch(epochs, fs=SFREQ, nperseg=400, axis=-1)


def band_powers(freqs: np.ndarray, psd: np.ndarray, bands=BANDS) -> dict[str, np.ndarray]:
    """Power in each band (uV^2) of each epoch."""
    df = freqs[1] - freqs[0]
    return {
        name: psd[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) * df
        for name, (lo, hi) in bands.items()
    }


def slope(freqs: np.ndarray, psd: np.ndarray, low: float = 2.0, high: float = 30.0) -> float:
    """Exponent of the median spectrum's power law between ``low`` and ``high`` Hz."""
    band = (freqs >= low) & (freqs <= high)
    return float(np.polyfit(np.log(freqs[band]), np.log(np.median(psd[:, band], 0)), 1)[0])


def events(epochs: np.ndarray, kind: str) -> list[np.ndarray]:
    """Per epoch, the amplitudes (uV) of detected events of one kind.

    ``blink``: positive 0.5-6 Hz deflections above 40 uV of 0.1-0.6 s at half height (Fpz-Cz).
    ``eye``: 0.3-2 s excursions of the 0.5-6 Hz signal above 40 uV peak to peak (EOG).
    ``spindle``: 11-16 Hz bursts whose envelope exceeds 8 uV for 0.5-2 s.
    ``k_complex``: 0.5-2 Hz negative waves below -40 uV followed within 1 s by a positive
    one, at least 75 uV peak to peak.
    ``slow_wave``: 0.5-2 Hz waves of at least 75 uV peak to peak (negative peak to next
    positive peak).
    """
    found = []
    if kind == "blink":
        x = _bandpass(epochs, 0.5, 6.0)
        for row in x:
            _, props = find_peaks(row, height=40, prominence=40, width=(10, 60))
            found.append(props["prominences"])
    elif kind == "eye":
        x = _bandpass(epochs, 0.5, 6.0)
        for row in x:
            _, props = find_peaks(np.abs(row), prominence=40, width=(15, 200), distance=30)
            found.append(props["prominences"])
    elif kind == "spindle":
        x = _bandpass(epochs, 11.0, 16.0, order=4)
        envelope = np.sqrt(2 * _smooth(x**2, 20))
        for row in envelope:
            above = np.diff(np.r_[0, (row > 8).astype(int), 0])
            starts, ends = np.flatnonzero(above == 1), np.flatnonzero(above == -1)
            keep = ((ends - starts) >= 50) & ((ends - starts) <= 200)
            found.append(
                np.array([row[s:e].max() for s, e in zip(starts[keep], ends[keep], strict=True)])
            )
    elif kind in ("k_complex", "slow_wave"):
        x = _bandpass(epochs, 0.5, 2.0)
        for row in x:
            troughs, _ = find_peaks(-row, height=40 if kind == "k_complex" else 20, distance=50)
            amplitudes = []
            for t in troughs:
                after = row[t : t + 100]
                ptp = after.max() - row[t]
                if ptp >= 75:
                    amplitudes.append(ptp)
            found.append(np.array(amplitudes))
    else:
        raise ValueError(kind)
    return found


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    kernel = np.ones(n) / n
    return np.apply_along_axis(lambda r: np.convolve(r, kernel, "same"), -1, x)


def spindle_frequency(epochs: np.ndarray) -> float:
    """Median peak frequency (Hz) of the 11-16 Hz power of the epochs, above the 1/f fit."""
    freqs, psd = spectra(epochs)
    band = (freqs >= 10) & (freqs <= 17)
    mean = psd[:, band].mean(axis=0)
    fit = np.polyval(np.polyfit(np.log(freqs[band]), np.log(mean), 1), np.log(freqs[band]))
    return float(freqs[band][np.argmax(np.log(mean) - fit)])


def stage_table(epochs: dict[str, np.ndarray], stages: np.ndarray) -> dict:
    """Every statistic per channel and stage: a nested dict of floats."""
    table: dict = {}
    for channel, x in epochs.items():
        freqs, psd = spectra(x)
        powers = band_powers(freqs, psd)
        rows = {}
        for stage, name in enumerate(STAGES):
            sel = stages == stage
            if not sel.any():
                continue
            sd = x[sel].std(axis=1)
            total = sum(p[sel] for p in powers.values())
            row = {
                "n": int(sel.sum()),
                "sd_pooled": float(x[sel].std()),
                "sd_median": float(np.median(sd)),
                "sd_p10": float(np.percentile(sd, 10)),
                "sd_p90": float(np.percentile(sd, 90)),
                "p1": float(np.percentile(x[sel], 1)),
                "p99": float(np.percentile(x[sel], 99)),
                "slope_2_30": slope(freqs, psd[sel]),
            }
            for band, p in powers.items():
                row[f"{band}_uv2"] = float(np.median(p[sel]))
                row[f"{band}_rel"] = float(np.median(p[sel] / total))
            minutes = sel.sum() / 2
            for kind in ("blink", "eye", "spindle", "k_complex", "slow_wave"):
                found = events(x[sel], kind)
                amplitudes = np.concatenate(found) if found else np.array([])
                row[f"{kind}_per_min"] = float(len(amplitudes) / minutes)
                row[f"{kind}_uv"] = float(np.median(amplitudes)) if len(amplitudes) else 0.0
            rows[name] = row
        table[channel] = rows
    return table


def chain(epochs: dict[str, np.ndarray], stages: np.ndarray) -> dict:
    """The recording chain: quantisation step, samples at the rails, channel correlations."""
    out = {}
    fpz = epochs["EEG Fpz-Cz"]
    for channel, x in epochs.items():
        values = np.unique(x[:50].ravel())
        step = float(np.median(np.diff(values)))
        rail = np.abs(x).max()
        centred = x - x.mean(axis=1, keepdims=True)
        power = np.abs(np.fft.rfft(centred, 2 * x.shape[1], axis=1)) ** 2
        autocorrelation = np.fft.irfft(power, axis=1)[:, :200].mean(axis=0)
        lag = 100 + int(np.argmin(autocorrelation[100:200]))  # 1-2 s
        out[channel] = {
            "step_uv": step,
            "max_abs_uv": float(rail),
            "at_rail_per_million": float(1e6 * np.mean(np.abs(x) >= rail - step)),
            "echo_lag_s": lag / SFREQ,
            "echo_autocorrelation": float(autocorrelation[lag] / autocorrelation[0]),
        }
        if channel != "EEG Fpz-Cz":
            for stage, name in enumerate(STAGES):
                sel = np.flatnonzero(stages == stage)
                r = [np.corrcoef(fpz[i], x[i])[0, 1] for i in sel]
                out[channel][f"corr_fpz_{name}"] = float(np.median(r))
    return out


def wake_activity(epochs: dict[str, np.ndarray], stages: np.ndarray) -> dict:
    """How wake varies from epoch to epoch, along one axis (``profile.wake_activity``).

    The activity of a wake epoch is the standardised sum of three standardised log powers:
    Fpz-Cz 0.5-2 Hz (eye movements), Fpz-Cz 20-40 Hz (muscle) and EOG 0.5-2 Hz. Returns its
    quantiles, its lag-1 autocorrelation over consecutive wake epochs, the correlations of
    the three and of Pz-Oz 8-12 Hz (alpha), and per channel the regression slope of each
    knot's log10 power on the activity (``spectra.WAKE_ACTIVITY_LOG10``).
    """
    from tinysleepnet.data.simulate.spectra import KNOTS_HZ

    wake = np.flatnonzero(stages == 0)

    def log_band(channel: str, low: float, high: float) -> np.ndarray:
        freqs, psd = spectra(epochs[channel][wake])
        return np.log10(band_powers(freqs, psd, {"b": (low, high)})["b"] + 1e-12)

    parts = {
        "fpz_0.5-2": log_band("EEG Fpz-Cz", 0.5, 2.0),
        "fpz_20-40": log_band("EEG Fpz-Cz", 20.0, 40.0),
        "eog_0.5-2": log_band("EOG horizontal", 0.5, 2.0),
    }
    z = sum((p - p.mean()) / p.std() for p in parts.values())
    z = (z - z.mean()) / z.std()
    consecutive = np.diff(wake) == 1
    alpha = log_band("EEG Pz-Oz", 8.0, 12.0)
    out: dict = {
        "quantiles_5_25_50_75_95": np.percentile(z, [5, 25, 50, 75, 95]).round(2).tolist(),
        "lag1": float(np.corrcoef(z[:-1][consecutive], z[1:][consecutive])[0, 1]),
        "corr": {k: float(np.corrcoef(p, z)[0, 1]) for k, p in parts.items()},
        "corr_pz_alpha": float(np.corrcoef(alpha, z)[0, 1]),
        "log10_per_sd": {},
    }
    for channel in CHANNELS:
        freqs, psd = welch(epochs[channel][wake], fs=SFREQ, nperseg=1000, axis=-1)
        row = []
        for k in KNOTS_HZ:
            near = (freqs >= k / 1.1) & (freqs <= k * 1.1) | (np.abs(freqs - k) < 0.06)
            row.append(float(np.cov(np.log10(psd[:, near].mean(axis=1) + 1e-12), z)[0, 1]))
        out["log10_per_sd"][channel] = row
    return out


def print_measures(epochs: dict[str, np.ndarray], stages: np.ndarray) -> None:
    table = stage_table(epochs, stages)
    for channel, rows in table.items():
        print(f"\n### {channel}\n")
        keys = list(next(iter(rows.values())))
        print("| statistic | " + " | ".join(rows) + " |")
        print("|---|" + "---|" * len(rows))
        for key in keys:
            print(f"| {key} | " + " | ".join(f"{rows[s][key]:.3g}" for s in rows) + " |")
    print("\n### Recording chain\n")
    for channel, row in chain(epochs, stages).items():
        print(channel, {k: round(v, 4) for k, v in row.items()})
    n2 = epochs["EEG Fpz-Cz"][stages == 2]
    print(f"\nN2 spindle-band peak frequency (Fpz-Cz): {spindle_frequency(n2):.2f} Hz")
    print("\n### Wake activity\n")
    activity = wake_activity(epochs, stages)
    slopes = activity.pop("log10_per_sd")
    print(activity)
    for channel, row in slopes.items():
        cells = ", ".join(f"{v:.2f}" for v in row)
        print(f"{channel} log10 PSD per s.d. of activity: [{cells}]")


# ------------------------------------------------------------------------------- fitting


def knot_log10_psd(epochs: np.ndarray, stages: np.ndarray) -> np.ndarray:
    """log10 median Welch PSD of each stage's epochs around each knot, shape (5, n_knots)."""
    from tinysleepnet.data.simulate.spectra import KNOTS_HZ

    freqs, psd = welch(epochs, fs=SFREQ, nperseg=1000, axis=-1)  # 0.1-Hz resolution
    rows = []
    for stage in range(len(STAGES)):
        log_median = np.log10(np.median(psd[stages == stage], axis=0) + 1e-12)
        near = [(freqs >= k / 1.1) & (freqs <= k * 1.1) | (np.abs(freqs - k) < 0.06)
                for k in KNOTS_HZ]  # fmt: skip
        rows.append([log_median[n].mean() for n in near])
    return np.array(rows)


def fit(
    real: dict[str, np.ndarray], real_stages: np.ndarray, iterations: int = 3, restart: bool = False
) -> None:
    """Fit the simulator's spectra (``spectra.LOG10_PSD``) to the real night's; print them.

    Start from the simulator's spectra (``restart``: from the real median spectra divided by
    the 0.5-Hz high-pass); then, repeatedly,
    simulate nights (other subjects' official stage sequences, transients included),
    measure them the same way and move each knot by the log ratio real / simulated.
    """
    from scipy.signal import sosfreqz

    from tinysleepnet.data.resources import official_hypnograms
    from tinysleepnet.data.simulate import channels as sim_channels
    from tinysleepnet.data.simulate import eeg
    from tinysleepnet.data.simulate import spectra as sim_spectra
    from tinysleepnet.data.simulate.hypnogram import read_scoring
    from tinysleepnet.stages import stages_from_annotations

    _, response = sosfreqz(butter(1, eeg.HIGH_PASS_HZ, "highpass", fs=SFREQ, output="sos"),
                           worN=sim_spectra.KNOTS_HZ, fs=SFREQ)  # fmt: skip
    high_pass = 2 * np.log10(np.abs(response))
    target = {c: knot_log10_psd(real[c], real_stages) for c in CHANNELS}
    if restart:
        table = {c: np.vstack([t - high_pass, t[0] - high_pass]) for c, t in target.items()}
    else:  # refine the simulator's current spectra
        table = {c: np.array(sim_spectra.LOG10_PSD[c], dtype=float) for c in CHANNELS}
    # 750 epochs of subjects 1-4's nights, each simulated as FIT_SUBJECTS_PER_NIGHT subjects:
    # simulated subjects differ (wake's 30-40 Hz power by 0.3 log10 s.d. between nights), and
    # a fit to few of them keeps their chance offset
    hypnograms = [p for p in official_hypnograms() if p.name[3:5] in ("01", "02", "03", "04")]
    sequences = [stages_from_annotations(read_scoring(p))[600:1350] for p in hypnograms]
    for iteration in range(iterations + 1):
        sim_spectra.LOG10_PSD.update(table)
        epochs: dict[str, list[np.ndarray]] = {c: [] for c in CHANNELS}
        for seed, stages in enumerate(sequences):
            for subject in range(FIT_SUBJECTS_PER_NIGHT):
                rng = np.random.default_rng([99, seed, subject])
                for ch in sim_channels.psg_channels(stages, SFREQ, rng, 1.0)[: len(CHANNELS)]:
                    epochs[ch.label].append(ch.data.reshape(len(stages), -1))
        sim_stages = np.concatenate([s for s in sequences for _ in range(FIT_SUBJECTS_PER_NIGHT)])
        error = 0.0
        for c in CHANNELS:
            measured = knot_log10_psd(np.concatenate(epochs[c]), sim_stages)
            step = target[c] - measured
            error = max(error, float(np.abs(step).max()))
            if iteration < iterations:
                table[c][:5] += 0.7 * step
                table[c][5] = table[c][0]
        print(f"iteration {iteration}: largest knot error {error:.3f} (log10 power)")
    print_table(table)


def print_table(table: dict[str, np.ndarray]) -> None:
    """The fitted spectra as the Python source of ``spectra.LOG10_PSD``."""
    print("LOG10_PSD = {")
    for c in CHANNELS:
        print(f'    "{c}": np.array([')
        for row, name in zip(table[c], [*STAGES, "unscored"], strict=True):
            cells = [f"{v:.2f}" for v in row]
            print(f"        # {name}")
            print("        [" + ", ".join(cells[:12]) + ",")
            print("         " + ", ".join(cells[12:]) + "],")
        print("    ]),")
    print("}")


# ------------------------------------------------------------------------------- report


def feature_names() -> list[str]:
    """Names of the columns of :func:`features`."""
    names = []
    for channel in CHANNELS:
        names += [f"{channel} {lo}-{hi} Hz" for lo, hi in FEATURE_BANDS]
        if channel == "EEG Fpz-Cz":
            shape = ("log SD", "kurtosis", "skewness", "log ptp", "mobility", "p99", "blinks")
            names += [f"{channel} {n}" for n in shape]
    return names


def features(epochs: dict[str, np.ndarray]) -> np.ndarray:
    """Features of each epoch for the two-sample test (all channels side by side)."""
    columns = []
    for channel, x in epochs.items():
        freqs, psd = spectra(x)
        bands = dict(enumerate(FEATURE_BANDS))
        columns += [np.log(p + 1e-6) for p in band_powers(freqs, psd, bands).values()]
        if channel != "EEG Fpz-Cz":
            continue
        d = np.diff(x, axis=1)
        columns += [
            np.log(x.std(axis=1) + 1e-6),
            kurtosis(x, axis=1),
            skew(x, axis=1),
            np.log(np.ptp(x, axis=1) + 1e-6),
            np.log(d.std(axis=1) / (x.std(axis=1) + 1e-6) + 1e-6),  # Hjorth mobility
            np.log(np.percentile(np.abs(x), 99, axis=1) + 1e-6),
            np.array([len(e) for e in events(x, "blink")]),
        ]
    return np.column_stack(columns)


def two_sample_auc(real: np.ndarray, sim: np.ndarray, seed: int = 0) -> float:
    """Cross-validated AUC of a classifier telling real from simulated rows (balanced)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    rng = np.random.default_rng(seed)
    n = min(len(real), len(sim))
    x = np.concatenate([real[rng.choice(len(real), n, replace=False)],
                        sim[rng.choice(len(sim), n, replace=False)]])  # fmt: skip
    y = np.r_[np.zeros(n), np.ones(n)]
    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_depth=3)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    return float(cross_val_score(model, x, y, cv=folds, scoring="roc_auc").mean())


def single_feature_aucs(real: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """AUC of each feature alone telling real (0) from simulated (1) rows: 0.5 = same."""
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.zeros(len(real)), np.ones(len(sim))]
    return np.array([roc_auc_score(y, np.r_[real[:, j], sim[:, j]]) for j in range(real.shape[1])])


def between_subjects(sim: dict[str, np.ndarray], stages: np.ndarray, subjects: np.ndarray) -> None:
    """The same two-sample test between simulated subjects: one against the others.

    Its AUC is what the test gives when both sides come from the same simulator, i.e. from
    between-subject differences alone: the level below which real vs simulated cannot be
    expected to fall when the real side is one subject's night.
    """
    x = features(sim)
    first = subjects == np.unique(subjects)[0]
    print(
        f"\n### Two-sample test between simulated subjects: {np.unique(subjects)[0]} vs the rest\n"
    )
    print("| stage | AUC |")
    print("|---|---|")
    for stage, name in enumerate(STAGES):
        a, b = x[first & (stages == stage)], x[~first & (stages == stage)]
        print(f"| {name} | {two_sample_auc(a, b):.2f} |")


def plot_spectra(real, real_stages, sim, sim_stages, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharex=True)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(STAGES)))
    for ax, channel in zip(axes, CHANNELS, strict=True):
        for stage, name in enumerate(STAGES):
            for epochs, stages, style in ((real, real_stages, "-"), (sim, sim_stages, "--")):
                freqs, psd = spectra(epochs[channel][stages == stage])
                ax.semilogy(freqs, np.median(psd, axis=0), style, color=colours[stage],
                            label=f"{name} {'real' if style == '-' else 'simulated'}")  # fmt: skip
        ax.set(title=channel, xlabel="Hz", xlim=(0, 45))
    axes[0].set_ylabel("median PSD (uV^2/Hz)")
    axes[-1].legend(fontsize=7, ncol=2)
    fig.suptitle("Welch spectra per stage: real SC4001E0 (solid) vs simulated (dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def report(real, real_stages, sim, sim_stages, png: Path | None) -> None:
    real_table, sim_table = stage_table(real, real_stages), stage_table(sim, sim_stages)
    for channel in CHANNELS:
        print(f"\n### {channel}: real / simulated\n")
        keys = ["sd_median", "sd_p10", "sd_p90", "p1", "p99", "slope_2_30",
                *(f"{b}_uv2" for b in BANDS), *(f"{b}_rel" for b in BANDS),
                "blink_per_min", "eye_per_min", "spindle_per_min", "k_complex_per_min",
                "slow_wave_per_min"]  # fmt: skip
        print("| statistic | " + " | ".join(STAGES) + " |")
        print("|---|" + "---|" * len(STAGES))
        for key in keys:
            cells = [
                f"{real_table[channel][s][key]:.3g} / {sim_table[channel][s][key]:.3g}"
                for s in STAGES
            ]
            print(f"| {key} | " + " | ".join(cells) + " |")
    print("\n### Recording chain: real / simulated\n")
    real_chain, sim_chain = chain(real, real_stages), chain(sim, sim_stages)
    for channel in CHANNELS:
        cells = {
            k: f"{v:.3g} / {sim_chain[channel][k]:.3g}" for k, v in real_chain[channel].items()
        }
        print(channel, cells)
    print("\n### Two-sample test: AUC of a classifier telling real from simulated epochs\n")
    x_real, x_sim = features(real), features(sim)
    print("| stage | real epochs | simulated epochs | AUC | strongest single features (AUC) |")
    print("|---|---|---|---|---|")
    names = feature_names()
    for stage, name in enumerate(STAGES):
        a, b = x_real[real_stages == stage], x_sim[sim_stages == stage]
        single = single_feature_aucs(a, b)
        top = np.argsort(-np.abs(single - 0.5))[:3]
        strongest = ", ".join(f"{names[j]} {single[j]:.2f}" for j in top)
        print(f"| {name} | {len(a)} | {len(b)} | {two_sample_auc(a, b):.2f} | {strongest} |")
    print("\n### Wake activity: real / simulated\n")
    real_wake, sim_wake = wake_activity(real, real_stages), wake_activity(sim, sim_stages)
    for key in ("quantiles_5_25_50_75_95", "lag1", "corr", "corr_pz_alpha"):
        print(f"{key}: {real_wake[key]} / {sim_wake[key]}")
    if png is not None:
        plot_spectra(real, real_stages, sim, sim_stages, png)
        print(f"\nspectra: {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("real", nargs="?", type=Path, default=FIXTURE)
    parser.add_argument("--measure", action="store_true", help="only the real night's statistics")
    parser.add_argument("--fit", action="store_true", help="refine the simulator's spectra")
    parser.add_argument("--restart", action="store_true", help="--fit from the real spectra")
    parser.add_argument("--iterations", type=int, default=3, help="--fit's iterations")
    parser.add_argument("--png", type=Path, default=None, help="save the spectra figure here")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated cohort")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        real, real_stages, _ = load(args.real, Path(tmp) / "real")
        if args.measure:
            print_measures(real, real_stages)
        elif args.fit:
            fit(real, real_stages, args.iterations, args.restart)
        else:
            sim, sim_stages, sim_subjects = simulated(Path(tmp) / "sim", args.seed)
            report(real, real_stages, sim, sim_stages, args.png)
            between_subjects(sim, sim_stages, sim_subjects)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n{wall:.0f} s wall, {cpu:.0f} s CPU")


if __name__ == "__main__":
    main()
