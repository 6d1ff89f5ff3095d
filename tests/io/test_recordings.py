"""Reading one EEG channel: rate, units, start time and every bad-input error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest

from tinysleepnet.errors import PathError
from tinysleepnet.io.edf_writer import write_annotations_edf
from tinysleepnet.io.quality import epoch_quality
from tinysleepnet.io.recordings import (
    check_complete,
    is_annotation_only,
    read_eeg,
    recording_from_raw,
)

SLEEP_EDF_RATES = {"EEG Fpz-Cz": 100.0, "EEG Pz-Oz": 100.0, "Temp rectal": 1.0}


def _edfio_signal(path, label):
    """The signal as edfio decodes it, in the header's physical unit (uV here)."""
    return next(s for s in edfio.read_edf(path).signals if s.label == label).data


def test_reads_the_chosen_channel_in_microvolts(edf_fixture):
    path = edf_fixture("generator")
    recording = read_eeg(path, "sine 8 Hz")
    assert recording.channel == "sine 8 Hz"
    assert recording.sfreq == 200.0
    assert recording.signal_uv.dtype == np.float32
    assert recording.signal_uv.shape == (600 * 200,)
    np.testing.assert_allclose(recording.signal_uv, _edfio_signal(path, "sine 8 Hz"), atol=1e-3)
    assert recording.start == dt.datetime(2011, 4, 4, 12, 57, 2, tzinfo=dt.UTC)
    assert recording.path == path


def test_start_keeps_the_sub_second_part(edf_fixture):
    recording = read_eeg(edf_fixture("subsecond"), "Fp1")
    assert recording.start == dt.datetime(2020, 1, 24, 4, 5, 56, 394531, tzinfo=dt.UTC)
    assert recording.sfreq == 128.0


def test_utf8_annotations_do_not_stop_reading(edf_fixture):
    recording = read_eeg(edf_fixture("utf8"), "Fp1")
    assert recording.signal_uv.size == 698 * 128


@pytest.mark.parametrize("channel", sorted(SLEEP_EDF_RATES))
def test_mixed_rates_give_the_channel_its_own_rate(write_recording, channel):
    # MNE would bring every signal of a mixed-rate EDF to the highest rate.
    path = write_recording(SLEEP_EDF_RATES, duration_sec=120)
    recording = read_eeg(path, channel)
    assert recording.sfreq == SLEEP_EDF_RATES[channel]
    np.testing.assert_allclose(recording.signal_uv, _edfio_signal(path, channel), atol=1e-2)


def test_downsamples_to_the_requested_rate(write_recording):
    recording = read_eeg(write_recording({"EEG Fpz-Cz": 200.0}, duration_sec=60), sfreq=100.0)
    assert recording.sfreq == 100.0
    assert recording.signal_uv.shape == (6000,)


def test_reads_other_formats_than_edf(tmp_path):
    info = mne.create_info(["EEG Fpz-Cz", "EOG horizontal"], 100.0, ["eeg", "eog"])
    data = np.random.default_rng(0).normal(0, 20e-6, (2, 3000))
    path = tmp_path / "night_raw.fif"
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    recording = read_eeg(path, "EEG Fpz-Cz")
    np.testing.assert_allclose(recording.signal_uv, data[0] * 1e6, rtol=1e-5)
    assert recording.start is None


def test_recording_from_raw_leaves_the_raw_unchanged():
    info = mne.create_info(["EEG Fpz-Cz", "EMG submental"], 200.0, "eeg")
    sine = 50e-6 * np.sin(2 * np.pi * 2.0 * np.arange(12000) / 200.0)  # 2 Hz, 50 uV
    raw = mne.io.RawArray(np.stack([sine, sine]), info, verbose="error")
    recording = recording_from_raw(raw, "EEG Fpz-Cz", sfreq=100.0)
    assert recording.sfreq == 100.0 and recording.signal_uv.shape == (6000,)
    expected = 50 * np.sin(2 * np.pi * 2.0 * np.arange(6000) / 100.0)
    np.testing.assert_allclose(recording.signal_uv[100:-100], expected[100:-100], atol=0.5)
    assert str(recording.path) == "<Raw>"
    assert raw.info["sfreq"] == 200.0 and raw.ch_names == ["EEG Fpz-Cz", "EMG submental"]
    with pytest.raises(PathError, match="<Raw>: channel 'C3' not found"):
        recording_from_raw(raw, "C3")


def _error(path, **kwargs) -> str:
    with pytest.raises(PathError) as info:
        read_eeg(path, **kwargs)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_absent_channel_lists_the_eeg_channels_present(write_recording):
    message = _error(write_recording(SLEEP_EDF_RATES, duration_sec=30), channel="C3")
    assert "'C3' not found; EEG channels present: 'EEG Fpz-Cz', 'EEG Pz-Oz'" in message


def test_absent_channel_lists_all_channels_when_none_is_named_eeg(edf_fixture):
    message = _error(edf_fixture("subsecond"), channel="EEG Fpz-Cz")
    assert message.endswith("channels present: 'Fp1'")


def test_refuses_to_upsample(write_recording):
    message = _error(write_recording({"EEG Fpz-Cz": 100.0}, duration_sec=30), sfreq=128.0)
    assert "sampled at 100 Hz, below the 128 Hz" in message


def test_missing_file(tmp_path):
    assert _error(tmp_path / "absent.edf").endswith("file not found")


@pytest.mark.parametrize("corrupt", ["garbage", "truncated header", "bad header field"])
def test_corrupt_edf_header(write_recording, corrupt):
    path = write_recording({"EEG Fpz-Cz": 100.0}, duration_sec=30)
    content = path.read_bytes()
    if corrupt == "garbage":
        content = b"not an EDF file " * 64
    elif corrupt == "truncated header":
        content = content[:300]
    else:  # the number of data records, bytes 236-243
        content = content[:236] + b"many    " + content[244:]
    path.write_bytes(content)
    assert "not a readable recording" in _error(path)


def test_recording_shorter_than_one_epoch_of_its_length(write_recording):
    path = write_recording({"EEG Fpz-Cz": 100.0}, duration_sec=20, record_sec=10.0)
    recording = read_eeg(path)
    with pytest.raises(PathError, match="empty recording: 20 s of signal, less than one 30-s"):
        recording.epochs(3000)
    assert recording.epochs(2000).shape == (1, 2000)  # one 20-s epoch (MASS SS4/SS5)


def _cut(path, keep_fraction, name="cut.edf"):
    """A copy of ``path`` cut short, as ``head -c`` leaves it."""
    data = path.read_bytes()
    cut = path.with_name(name)
    cut.write_bytes(data[: round(len(data) * keep_fraction)])
    return cut


def test_truncated_edf_is_refused_naming_the_records(write_recording):
    path = _cut(write_recording({"EEG Fpz-Cz": 100.0}, 20 * 30.0), 0.5)
    with pytest.raises(PathError, match="--allow-truncated") as info:
        read_eeg(path, "EEG Fpz-Cz")
    assert str(info.value).startswith(f"{path}: truncated: the header declares 20 data records")
    assert "the file holds 9" in str(info.value)


def test_truncated_edf_is_read_with_allow_truncated_and_a_warning(write_recording, caplog):
    path = _cut(write_recording({"EEG Fpz-Cz": 100.0}, 20 * 30.0), 0.5)
    with caplog.at_level("WARNING", logger="tinysleepnet"):
        recording = read_eeg(path, "EEG Fpz-Cz", allow_truncated=True)
    assert recording.signal_uv.size == 9 * 30 * 100
    assert "truncated" in caplog.text and "reading the part present" in caplog.text


def test_complete_files_pass(edf_fixture, write_recording):
    check_complete(edf_fixture("generator"))
    check_complete(write_recording({"EEG Fpz-Cz": 100.0}, 60.0))


def test_annotation_only_edf_is_recognised(write_recording, tmp_path):
    hypnogram = tmp_path / "night-Hypnogram.edf"
    write_annotations_edf(hypnogram, [(0.0, 30.0, "Sleep stage W")], dt.datetime(2024, 1, 1))
    assert is_annotation_only(hypnogram)
    assert not is_annotation_only(write_recording({"EEG Fpz-Cz": 100.0}, 60.0))
    (tmp_path / "notes.txt").write_text("not an EDF")
    assert not is_annotation_only(tmp_path / "notes.txt")


def test_nan_survives_resampling_in_place(tmp_path):
    signal = np.random.default_rng(0).normal(0, 20e-6, 200 * 90)
    signal[200 * 40 : 200 * 41] = np.nan  # one second of NaN at 40 s
    raw = mne.io.RawArray(signal[None], mne.create_info(["EEG"], 200.0, "eeg"), verbose="error")
    recording = recording_from_raw(raw, "EEG", sfreq=100.0)
    nan = np.flatnonzero(np.isnan(recording.signal_uv))
    assert nan.min() == 100 * 40 and nan.max() == 100 * 41 - 1
    assert np.isfinite(recording.signal_uv[: 100 * 40]).all()


def test_clipped_plateaus_survive_resampling():
    t = np.arange(256 * 60) / 256.0
    signal = np.clip(400 * np.sin(2 * np.pi * 0.5 * t), -250, 250) * 1e-6  # clipped at +-250 uV
    raw = mne.io.RawArray(signal[None], mne.create_info(["EEG"], 256.0, "eeg"), verbose="error")
    recording = recording_from_raw(raw, "EEG", sfreq=100.0)
    assert epoch_quality(recording.epochs(3000)).tolist() == ["clipped", "clipped"]


def _bdf(path: Path, signal_uv: np.ndarray, sfreq: float, label: str = "EEG Fpz-Cz") -> Path:
    """A one-signal BDF file (24-bit samples, 1-s records, +-1000 uV), written byte by byte."""
    per_record = int(sfreq)
    n_records = signal_uv.size // per_record
    low, high = -(2**23), 2**23 - 1
    digital = np.round((signal_uv[: n_records * per_record] + 1000) / 2000 * (high - low) + low)

    def field(value: object, width: int) -> bytes:
        return str(value).ljust(width)[:width].encode("latin-1")

    header = b"\xff" + field("BIOSEMI", 7) + field("X", 80) + field("Y", 80)
    header += field("24.04.89", 8) + field("16.13.00", 8) + field(512, 8) + field("24BIT", 44)
    header += field(n_records, 8) + field(1, 8) + field(1, 4) + field(label, 16) + field("", 80)
    header += field("uV", 8) + field(-1000, 8) + field(1000, 8) + field(low, 8) + field(high, 8)
    header += field("", 80) + field(per_record, 8) + field("", 32)
    samples = (digital.astype(np.int64) & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)
    path.write_bytes(header + samples[:, :3].tobytes())
    return path


def test_a_bdf_is_read_as_bdf_and_refused_under_an_edf_name(tmp_path):
    signal = np.random.default_rng(0).normal(0, 30, 100 * 90)
    bdf = _bdf(tmp_path / "night.bdf", signal, 100.0)
    recording = read_eeg(bdf)
    assert recording.signal_uv.size == signal.size
    np.testing.assert_allclose(recording.signal_uv, signal, atol=1e-3)
    # read as 16-bit EDF, the same bytes would give a night 1.5 times as long
    misnamed = tmp_path / "night.edf"
    misnamed.write_bytes(bdf.read_bytes())
    with pytest.raises(
        PathError,
        match=rf"^{misnamed}: the header is BDF \(24-bit\)'s but the file is named as EDF; "
        r"rename it to night.bdf$",
    ):
        read_eeg(misnamed)


def test_an_edf_under_a_bdf_name_is_refused(write_recording, tmp_path):
    edf = write_recording({"EEG Fpz-Cz": 100.0}, 60)
    misnamed = tmp_path / "night.bdf"
    misnamed.write_bytes(edf.read_bytes())
    with pytest.raises(
        PathError,
        match=r"the header is EDF \(16-bit\)'s but the file is named as BDF; rename it to "
        "night.edf",
    ):
        read_eeg(misnamed)


def _discontinuous(path: Path, gap_after: int | None, gap_sec: int = 600) -> Path:
    """``path`` (EDF+C, 30-s records) marked EDF+D, its records from ``gap_after`` on
    starting ``gap_sec`` later (None: marked EDF+D but contiguous)."""
    data = bytearray(path.read_bytes())
    assert data[192:197] == b"EDF+C"
    data[192:197] = b"EDF+D"
    n_records = int(data[236:244])
    for record in range(gap_after or n_records, n_records):
        old = f"+{30 * record}\x14\x14\x00".encode()
        new = f"+{30 * record + gap_sec}\x14\x14\x00".encode()
        at = data.index(old)
        # the annotation signal is padded with zeros: the longer onset takes their place
        data[at : at + len(new)] = new
    path.write_bytes(bytes(data))
    return path


def test_an_edf_plus_d_with_gaps_is_refused(write_recording):
    path = _discontinuous(write_recording({"EEG Fpz-Cz": 100.0}, 300), gap_after=4)
    assert not edfio.read_edf(path, lazy_load_data=True).is_continuous
    with pytest.raises(PathError, match=rf"^{path}: discontinuous EDF\+ \(EDF\+D\): its data "
                       "records leave gaps"):  # fmt: skip
        read_eeg(path)


def test_an_edf_plus_d_without_gaps_is_read(write_recording):
    path = _discontinuous(write_recording({"EEG Fpz-Cz": 100.0}, 300), gap_after=None)
    assert read_eeg(path).signal_uv.size == 300 * 100
