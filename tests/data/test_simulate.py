"""Simulated nights: sleep architecture, calibrated EEG, Sleep-EDF-shaped files."""

from __future__ import annotations

import itertools
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt, welch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tinysleepnet.data.resources import official_hypnograms
from tinysleepnet.data.simulate import (
    SLEEP_EDF_CHANNELS,
    simulate_cohort,
    simulate_eeg,
    simulate_hypnogram,
    simulate_night,
    spectra,
)
from tinysleepnet.data.sleep_edf import find_sleep_edf_pairs
from tinysleepnet.errors import TinySleepNetError
from tinysleepnet.io.hypnogram import epoch_labels, read_hypnogram
from tinysleepnet.stages import UNSCORED, stage_from_annotation

SFREQ = 100.0
REAL_N3 = (
    Path(__file__).parents[1] / "fixtures" / "real-eeg" / "data_N3_no-spindles_30sec_100Hz.txt"
)
RK_TEXTS = {f"Sleep stage {s}" for s in "W1234R?"} | {"Movement time"}
W, N1, N2, N3, REM = range(5)
BANDS = [(0.5, 2), (2, 4), (4, 7), (8, 12), (11, 16), (16, 30), (30, 45)]  # Hz


def stage_ids(scoring):
    return np.array([stage_from_annotation(text) for text in scoring])


def band_powers(epochs, bands=BANDS):
    """Mean Welch power (uV^2/Hz) of each epoch in each band, shape (n_epochs, n_bands)."""
    freqs, power = welch(epochs, fs=SFREQ, nperseg=400, axis=-1)
    return np.stack([power[:, (freqs >= lo) & (freqs < hi)].mean(axis=1) for lo, hi in bands], 1)


def band_power(epochs, low, high):
    return band_powers(epochs, [(low, high)])[:, 0]


def simulated_epochs(seed, n_epochs=600, difficulty=1.0):
    stages = stage_ids(simulate_hypnogram(n_epochs, rng=seed))
    eeg = simulate_eeg(stages, SFREQ, rng=seed, difficulty=difficulty)
    return eeg.reshape(n_epochs, -1), stages


@pytest.fixture(scope="module")
def calibration():
    """Epochs of two default-difficulty nights, grouped by stage."""
    nights = [simulated_epochs(seed) for seed in (1, 2)]
    epochs = np.concatenate([x for x, _ in nights])
    stages = np.concatenate([y for _, y in nights])
    return {stage: epochs[stages == stage] for stage in range(5)}


@pytest.fixture(scope="module")
def short_night(tmp_path_factory):
    return simulate_night(tmp_path_factory.mktemp("night"), n_epochs=120, seed=3)


# --------------------------------------------------------------------------- stage sequence


def test_full_night_has_sleep_edf_architecture():
    scoring = simulate_hypnogram(2800, rng=0)
    stages = stage_ids(scoring)
    asleep = np.flatnonzero(np.isin(stages, [N1, N2, N3, REM]))
    # Hours of wake on both edges, a 7-8 h sleep period in between.
    assert asleep[0] > 4 * 120 and len(stages) - asleep[-1] > 4 * 120
    assert 7 * 120 <= asleep[-1] - asleep[0] <= 8.5 * 120
    sleep = stages[asleep[0] : asleep[-1] + 1]
    first, second = np.array_split(sleep, 2)
    assert (first == N3).sum() > 2 * (second == N3).sum()  # slow-wave sleep early
    assert (second == REM).sum() > 1.5 * (first == REM).sum()  # REM lengthens towards morning
    assert 0.04 <= np.isin(sleep, N1).sum() / np.isin(sleep, [N1, N2, N3, REM]).sum() <= 0.11
    assert {"Sleep stage 3", "Sleep stage 4", "Movement time", "Sleep stage ?"} <= set(scoring)
    assert set(scoring) <= RK_TEXTS


@pytest.mark.parametrize("seed", range(5))
def test_short_night_keeps_wake_edges_and_every_stage(seed):
    scoring = simulate_hypnogram(120, rng=seed)
    stages = stage_ids(scoring)
    assert len(scoring) == 120
    assert set(range(5)) <= set(stages.tolist())
    assert (stages[:5] == W).all() and set(stages[-5:]) <= {W, UNSCORED}
    assert 1 <= np.isin(scoring, ["Movement time", "Sleep stage ?"]).sum() <= 8


# --------------------------------------------------------------------------- EEG calibration


#: Median per-epoch SD (uV) of SC4001E0's Fpz-Cz per stage over its 841 prepared epochs
#: (measured by benchmarks/sim_vs_real.py --measure).
REAL_SD = {W: 22.8, N1: 9.8, N2: 16.6, N3: 31.0, REM: 9.5}


def test_amplitudes_are_those_of_the_real_night(calibration):
    std = {stage: np.median(epochs.std(axis=1)) for stage, epochs in calibration.items()}
    for stage, real in REAL_SD.items():
        assert 0.7 * real <= std[stage] <= 1.4 * real, (stage, std[stage])
    assert std[N3] > std[W] > std[N2] > max(std[N1], std[REM])
    real_n3_std = np.loadtxt(REAL_N3).std()
    assert real_n3_std / 3 <= std[N3] <= 3 * real_n3_std


def test_spectra_carry_each_stage_signature(calibration):
    def median(stage, low, high):
        return np.median(band_power(calibration[stage], low, high))

    def relative(stage, low, high):
        epochs = calibration[stage]
        return np.median(band_power(epochs, low, high) / band_power(epochs, 0.5, 45))

    # As on SC4001E0's Fpz-Cz: eye movements fill wake's delta, muscle its high frequencies;
    # alpha is no higher in wake than in N1 or REM on this frontal derivation.
    assert relative(W, 0.5, 4) > 0.75
    assert all(median(W, 30, 45) > 3 * median(s, 30, 45) for s in (N1, N2, N3, REM))
    assert all(relative(s, 8, 12) > 3 * relative(N3, 8, 12) for s in (N1, REM))
    assert all(median(N2, 12, 16) > median(s, 12, 16) for s in (W, N1, N3, REM))  # spindles
    assert all(relative(N3, 0.5, 2) > relative(s, 0.5, 2) for s in (W, N1, N2, REM))  # delta
    assert relative(N1, 4, 8) > 2 * relative(W, 4, 8)  # theta
    assert relative(REM, 4, 8) > 2 * relative(W, 4, 8)


def test_slow_waves_of_n3_reach_75_uv(calibration):
    sos = butter(2, [0.5, 2.0], "bandpass", fs=SFREQ, output="sos")

    def slow_wave_time(stage):
        """Median fraction of an epoch's 2-s windows holding a >= 75 uV 0.5-2 Hz wave."""
        epochs = calibration[stage]
        slow = sosfiltfilt(sos, epochs, axis=1).reshape(len(epochs), -1, 200)
        return np.median((np.ptp(slow, axis=2) >= 75).mean(axis=1))

    # AASM: N3 when slow waves of at least 75 uV fill 20 % of the epoch or more. On Fpz-Cz
    # wake's eye movements make such waves too: on SC4001E0 the median wake epoch has them
    # in 7 % of its 2-s windows (N3 50 %, N1, N2 and REM 0 %), and 32 % of wake epochs pass
    # the 20 % bound, so wake is held only well below N3.
    assert slow_wave_time(N3) >= 0.2
    assert all(slow_wave_time(stage) < 0.2 for stage in (N1, N2, REM))
    assert slow_wave_time(W) < slow_wave_time(N3) / 2


def test_background_falls_off_as_a_power_law(calibration):
    for epochs in calibration.values():
        freqs, power = welch(epochs, fs=SFREQ, nperseg=400, axis=1)
        band = (freqs >= 2) & (freqs <= 40)
        slope = np.polyfit(np.log(freqs[band]), np.log(power[:, band].mean(axis=0)), 1)[0]
        assert slope < -0.5


def test_synthesis_gives_the_requested_spectrum():
    rng = np.random.default_rng(0)
    log10_psd = np.tile(np.log10(50.0 / (spectra.KNOTS_HZ + 0.5) ** 2), (200, 1))
    noise = spectra.complex_noise(rng, 200, SFREQ)
    x = spectra.synthesise(log10_psd, noise, SFREQ, warp=1.0)
    assert x.dtype == np.float32 and x.shape == (200 * 3000,)
    freqs, power = welch(x, fs=SFREQ, nperseg=400)
    for f in (1.0, 5.0, 10.0, 30.0):
        assert power[freqs == f][0] == pytest.approx(50.0 / (f + 0.5) ** 2, rel=0.15)
    # the crossfade between epochs keeps the power: the same around boundaries as inside
    per_epoch = x.reshape(200, 3000)
    edges, middle = per_epoch[:, np.r_[:300, -300:0]].std(), per_epoch[:, 1200:1800].std()
    assert edges == pytest.approx(middle, rel=0.05)


def test_derivations_relate_as_on_the_real_night(short_night):
    raw = mne.io.read_raw_edf(short_night.psg, verbose="error")
    fpz, pz, eog = (
        raw.get_data(picks=name, units="uV")[0].reshape(120, -1)
        for name in ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal")
    )
    stages = epoch_labels(read_hypnogram(short_night.hypnogram), 120)

    def correlation(a, b, stage):
        pairs = zip(a[stages == stage], b[stages == stage], strict=True)
        return np.median([np.corrcoef(x, y)[0, 1] for x, y in pairs])

    def sd(x, stage):
        return np.median(x[stages == stage].std(axis=1))

    # SC4001E0: Pz-Oz shares the Cz-Pz sources with the opposite sign (N3: -0.47); the
    # horizontal EOG carries the eye movements that the midline Fpz-Cz hardly sees (REM EOG
    # SD 25 vs Fpz-Cz 9.5 uV), uncorrelated with Fpz-Cz's vertical ones and blinks in W.
    assert correlation(fpz, pz, N3) < -0.25
    assert abs(correlation(fpz, eog, W)) < 0.15
    assert sd(eog, REM) > 1.5 * sd(fpz, REM) and sd(eog, W) > 2 * sd(fpz, W)


def test_recording_chain_is_sleep_edfs(tmp_path):
    night = simulate_night(tmp_path, n_epochs=60, seed=5)
    raw = mne.io.read_raw_edf(night.psg, verbose="error")
    for name, (low, high) in {"EEG Fpz-Cz": (-192, 192), "EOG horizontal": (-1009, 1009)}.items():
        x = raw.get_data(picks=name, units="uV")[0]
        step = (high - low) / 4095  # 12-bit samples over the physical range
        levels = (x - low) / step
        np.testing.assert_allclose(levels, np.round(levels), atol=0.05)
        assert low <= x.min() and x.max() <= high
    # the cassette chain's inverted echo: autocorrelation dips at ~1.25 s, as in SC4001E0
    x = raw.get_data(picks="EEG Fpz-Cz", units="uV")[0].reshape(60, -1)
    x = x - x.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(x, 6000, axis=1)) ** 2
    autocorrelation = np.fft.irfft(power, axis=1)[:, :200].mean(axis=0)
    lag = 100 + np.argmin(autocorrelation[100:200])
    assert 1.15 <= lag / SFREQ <= 1.4 and autocorrelation[lag] / autocorrelation[0] < -0.15


def test_simulated_subjects_differ():
    stages = np.repeat([W, N2, N3, REM], 60)
    nights = [simulate_eeg(stages, SFREQ, rng=seed).reshape(len(stages), -1) for seed in range(6)]
    delta = [np.median(band_power(x[stages == N3], 0.5, 2)) for x in nights]
    assert np.std(np.log(delta)) > 0.1  # band powers: a range, not a point

    def alpha_peak(x):
        freqs, power = welch(x[stages == REM], fs=SFREQ, nperseg=1000, axis=1)
        band = (freqs >= 7) & (freqs <= 13)
        return freqs[band][np.argmax(np.median(power[:, band], axis=0) * freqs[band] ** 2)]

    assert len({alpha_peak(x) for x in nights}) > 1


def test_wake_ranges_from_quiet_to_active_as_on_the_real_night():
    # SC4001E0's wake: Fpz-Cz SD 9.3-32.9 uV (10th-90th percentile), its 0.5-2 Hz (eye
    # movements) and 20-40 Hz (muscle) log powers correlating at 0.80, persisting over minutes.
    stages = np.full(400, W)
    x = simulate_eeg(stages, SFREQ, rng=5).reshape(len(stages), -1)
    sd = x.std(axis=1)
    assert np.percentile(sd, 90) > 2.5 * np.percentile(sd, 10)
    eyes, muscle = np.log(band_power(x, 0.5, 2)), np.log(band_power(x, 20, 40))
    assert np.corrcoef(eyes, muscle)[0, 1] > 0.5
    assert np.corrcoef(eyes[:-1], eyes[1:])[0, 1] > 0.4
    textbook = simulate_eeg(stages, SFREQ, rng=5, difficulty=0.0).reshape(len(stages), -1)
    assert np.percentile(textbook.std(axis=1), 90) < 2 * np.percentile(textbook.std(axis=1), 10)


def test_stages_blend_over_seconds_at_a_transition():
    stages = np.tile([W, W, N3, N3], 20)  # twenty W -> N3 transitions, 60 s into each cycle
    eeg = simulate_eeg(stages, SFREQ, rng=0, difficulty=0.0)
    delta = sosfiltfilt(butter(2, [0.5, 2.0], "bandpass", fs=SFREQ, output="sos"), eeg)
    # Median over the cycles of the delta amplitude in each second: robust to eye movements.
    rms = np.median(np.sqrt((delta.reshape(20, 120, 100) ** 2).mean(axis=2)), axis=0)
    wake, deep = np.median(rms[35:50]), np.median(rms[70:85])
    before, after = rms[58:60].mean(), rms[60:62].mean()
    margin = 0.15 * (deep - wake)
    assert wake + margin < before < after < deep - margin  # intermediate on both sides


def test_simulation_is_determined_by_its_seed():
    stages = np.repeat([W, N1, N2, N3, REM, UNSCORED], 2)
    first = simulate_eeg(stages, SFREQ, rng=7)
    assert first.dtype == np.float32 and first.shape == (len(stages) * 3000,)
    np.testing.assert_array_equal(first, simulate_eeg(stages, SFREQ, rng=7))
    assert not np.allclose(first, simulate_eeg(stages, SFREQ, rng=8))
    np.testing.assert_array_equal(simulate_hypnogram(200, rng=7), simulate_hypnogram(200, rng=7))


def test_band_power_classifier_finds_n1_hardest_but_learns():
    def shape(epochs):
        """log relative band powers: simulated subjects differ in amplitude, as real ones do."""
        power = band_powers(epochs)
        return np.log(power / power.sum(axis=1, keepdims=True))

    train = [simulated_epochs(seed) for seed in (10, 11, 12)]
    x_test, y_test = simulated_epochs(13, n_epochs=1200)
    x_train = np.concatenate([shape(x) for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    scored = y_train != UNSCORED
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        x_train[scored], y_train[scored]
    )
    scored = y_test != UNSCORED
    predicted = model.predict(shape(x_test[scored]))
    f1 = f1_score(y_test[scored], predicted, average=None, labels=range(5))
    assert np.argmin(f1) == N1
    assert balanced_accuracy_score(y_test[scored], predicted) > 0.5  # chance: 0.2


def test_bad_stages_and_settings_are_refused():
    with pytest.raises(TinySleepNetError, match="class ids"):
        simulate_eeg(np.array([0, 7]))
    with pytest.raises(TinySleepNetError, match="sfreq"):
        simulate_eeg(np.array([0, 1]), sfreq=100.5)
    with pytest.raises(TinySleepNetError, match="difficulty"):
        simulate_eeg(np.array([0, 1]), difficulty=-1)


# --------------------------------------------------------------------------- files


def test_psg_has_the_sleep_edf_channels(short_night):
    assert short_night.psg.name == "SC4001E0-PSG.edf"
    edf = edfio.read_edf(short_night.psg)
    assert [s.label for s in edf.signals] == list(SLEEP_EDF_CHANNELS)
    rates = [s.sampling_frequency for s in edf.signals]
    assert rates == [100.0, 100.0, 100.0, 1.0, 1.0, 1.0, 1.0]
    assert edf.data_record_duration == 30
    raw = mne.io.read_raw_edf(short_night.psg, verbose="error")
    assert raw.n_times == 120 * 3000
    fpz = raw.get_data(picks="EEG Fpz-Cz", units="uV")[0]
    assert 5 < fpz.std() < 100  # read back in microvolts


def test_hypnogram_holds_rk_runs_past_the_signal(short_night):
    assert short_night.hypnogram.name == "SC4001EC-Hypnogram.edf"
    annotations = read_hypnogram(short_night.hypnogram)
    assert set(annotations.description) <= RK_TEXTS
    texts = annotations.description.tolist()
    assert all(a != b for a, b in itertools.pairwise(texts))  # one per run
    end = annotations.onset[-1] + annotations.duration[-1]
    assert end == short_night.hypnogram_epochs * 30 > 120 * 30
    labels = epoch_labels(annotations, 120)
    assert set(range(5)) <= set(labels.tolist())


def test_sixty_second_records_hold_whole_records(tmp_path):
    night = simulate_night(tmp_path, "SC4362F0", n_epochs=121, record_sec=60, seed=0)
    assert night.n_epochs == 122  # padded to whole 60-s records
    assert edfio.read_edf(night.psg).data_record_duration == 60
    raw = mne.io.read_raw_edf(night.psg, verbose="error")
    assert raw.n_times == 122 * 3000
    assert epoch_labels(read_hypnogram(night.hypnogram), 122)[-1] == UNSCORED


def test_night_follows_an_official_hypnogram_at_its_official_length(tmp_path):
    official = official_hypnograms()[0]  # SC4001EC: 2650 epochs of signal
    night = simulate_night(tmp_path, hypnogram=official, seed=0)
    assert (night.psg.name, night.hypnogram.name) == ("SC4001E0-PSG.edf", official.name)
    assert night.n_epochs == 2650 and night.hypnogram_epochs == 2880
    raw = mne.io.read_raw_edf(night.psg, verbose="error")
    assert raw.n_times == 2650 * 3000
    expected = epoch_labels(read_hypnogram(official), 2880)
    written = read_hypnogram(night.hypnogram)
    np.testing.assert_array_equal(epoch_labels(written, 2880), expected)
    epochs = raw.get_data(picks="EEG Fpz-Cz", units="uV")[0].reshape(2650, -1)
    stages = expected[:2650]
    assert np.median(band_power(epochs[stages == N3], 0.5, 2)) > 3 * np.median(
        band_power(epochs[stages == N2], 0.5, 2)
    )


def test_named_night_keeps_the_official_scorer_letter(tmp_path):
    official = next(p for p in official_hypnograms() if p.name == "SC4011EH-Hypnogram.edf")
    night = simulate_night(tmp_path, "SC4011E0", hypnogram=official, n_epochs=60, seed=0)
    assert (night.psg.name, night.hypnogram.name) == ("SC4011E0-PSG.edf", official.name)
    assert find_sleep_edf_pairs(tmp_path)["name"].tolist() == ["SC4011E0"]


def test_night_from_a_stage_array(tmp_path):
    stages = np.repeat([W, N1, N2, N3, REM, W], 5)
    night = simulate_night(tmp_path, "SC4121E0", hypnogram=stages, seed=0)
    assert night.n_epochs == 30 and night.hypnogram.name == "SC4121EC-Hypnogram.edf"
    np.testing.assert_array_equal(epoch_labels(read_hypnogram(night.hypnogram), 30), stages)


def test_cohort_is_sleep_edf_named_and_pairs(tmp_path):
    cohort = simulate_cohort(tmp_path, subjects=[0, 3], n_epochs=60, seed=1)
    assert cohort["name"].tolist() == ["SC4001E0", "SC4002E0", "SC4031E0", "SC4032E0"]
    assert cohort["record_sec"].tolist() == [30.0, 30.0, 30.0, 60.0]
    assert (cohort["hypnogram_epochs"] > cohort["n_epochs"]).all()
    pairs = find_sleep_edf_pairs(tmp_path)
    assert pairs["name"].tolist() == cohort["name"].tolist()
    assert pairs["subject"].tolist() == ["00", "00", "03", "03"]
    again = simulate_cohort(tmp_path / "again", subjects=[3], nights=[2], n_epochs=60, seed=1)
    assert again["psg"][0].read_bytes() == cohort["psg"][3].read_bytes()


def test_cohort_refuses_what_it_cannot_do(tmp_path):
    with pytest.raises(TinySleepNetError, match="real length"):
        simulate_cohort(tmp_path, [0], from_official=True, n_epochs=100)
    with pytest.raises(TinySleepNetError, match="subject 8 night 1"):
        simulate_cohort(tmp_path, [8], from_official=True)
    with pytest.raises(TinySleepNetError, match="record_sec"):
        simulate_night(tmp_path, n_epochs=60, record_sec=45)


def test_simulated_night_resembles_the_real_one(real_prepared):
    """Simulated EEG following the real night's stages, against that night (SC4001E0)."""
    from tinysleepnet.data.nights import load_nights

    (real,) = load_nights(real_prepared)
    stages = real.stages
    simulated = [simulate_eeg(stages, SFREQ, rng=seed).reshape(len(stages), -1) for seed in (0, 1)]
    for stage in range(5):
        real_sd = np.median(np.asarray(real.signal_uv)[stages == stage].std(axis=1))
        sim_sd = np.median([np.median(x[stages == stage].std(axis=1)) for x in simulated])
        assert 0.6 * real_sd <= sim_sd <= 1.6 * real_sd, (stage, real_sd, sim_sd)
        real_delta = np.median(
            band_power(np.asarray(real.signal_uv)[stages == stage], 0.5, 4)
            / band_power(np.asarray(real.signal_uv)[stages == stage], 0.5, 45)
        )
        sim_delta = np.median(
            band_power(simulated[0][stages == stage], 0.5, 4)
            / band_power(simulated[0][stages == stage], 0.5, 45)
        )
        # delta's share of the mean spectral density (band_power: mean over the band)
        assert 0.75 * real_delta <= sim_delta <= 1.33 * real_delta, (stage, real_delta, sim_delta)
