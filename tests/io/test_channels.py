"""Channel specs: alternative names, derivations (channel minus reference), their errors."""

from __future__ import annotations

import datetime as dt
import logging

import mne
import numpy as np
import pytest

from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.channels import ChannelSpec, read_channel, recording_from_spec
from tinysleepnet.io.edf_writer import EdfChannel, write_edf

START = dt.datetime(2000, 1, 1, 22, 30)
SFREQ = 256.0
RANGE = (-500.0, 500.0)


@pytest.fixture
def psg(tmp_path):
    """A MASS-like PSG: F4 named with the LER reference, the left EOG, 60 s at 256 Hz."""
    rng = np.random.default_rng(0)
    f4, eog = (rng.normal(0, 30, int(60 * SFREQ)) for _ in range(2))
    path = tmp_path / "01-03-0002 PSG.edf"
    write_edf(
        path,
        [
            EdfChannel("EEG F4-LER", f4, SFREQ, "uV", RANGE),
            EdfChannel("EOG Left Horiz", eog, SFREQ, "uV", RANGE),
            EdfChannel("EMG Chin", rng.normal(0, 5, int(60 * SFREQ)), SFREQ, "uV", RANGE),
        ],
        START,
        record_sec=1.0,
    )
    raw = mne.io.read_raw_edf(path, verbose="error")
    return (
        path,
        raw.get_data(["EEG F4-LER"], units="uV")[0],
        raw.get_data(["EOG Left Horiz"], units="uV")[0],
    )


@pytest.mark.parametrize(
    ("text", "names", "reference"),
    [
        ("EEG Fpz-Cz", ("EEG Fpz-Cz",), None),
        ("EEG F4-CLE|EEG F4-LER", ("EEG F4-CLE", "EEG F4-LER"), None),
        ("EEG F4-CLE minus EOG Left Horiz", ("EEG F4-CLE",), "EOG Left Horiz"),
        (" EEG F4-CLE | EEG F4-LER  minus  EOG Left Horiz", ("EEG F4-CLE", "EEG F4-LER"),
         "EOG Left Horiz"),
    ],
)  # fmt: skip
def test_spec_text_round_trip(text, names, reference):
    spec = ChannelSpec.parse(text)
    assert (spec.names, spec.reference) == (names, reference)
    assert ChannelSpec.parse(spec.text) == spec
    # the '-' inside a name is never read as a derivation
    assert ChannelSpec.parse("EEG Fpz-Cz").is_plain


def test_reference_flag_and_text_agree():
    flag = ChannelSpec.parse("EEG F4-CLE", "EOG Left Horiz")
    assert flag == ChannelSpec.parse("EEG F4-CLE minus EOG Left Horiz")
    with pytest.raises(TinySleepNetError, match="already names its reference"):
        ChannelSpec.parse("EEG F4-CLE minus EOG Left Horiz", "EOG Right Horiz")
    for bad in ("EEG F4-CLE|", "EEG F4-CLE minus ", ""):
        with pytest.raises(TinySleepNetError, match="expected 'NAME'"):
            ChannelSpec.parse(bad)


def test_derivation_is_channel_minus_reference(psg):
    path, f4, eog = psg
    recording = read_channel(path, "EEG F4-LER minus EOG Left Horiz")
    np.testing.assert_allclose(recording.signal_uv, (f4 - eog).astype(np.float32), atol=1e-3)
    assert recording.channel == "EEG F4-LER minus EOG Left Horiz"
    assert recording.sfreq == SFREQ  # 256 Hz stays 256 Hz


def test_alternative_names_take_the_one_present_and_say_which(psg, caplog):
    path, f4, eog = psg
    spec = "EEG F4-CLE|EEG F4-LER minus EOG Left Horiz"
    with caplog.at_level(logging.INFO, logger="tinysleepnet"):
        recording = read_channel(path, spec)
    np.testing.assert_allclose(recording.signal_uv, (f4 - eog).astype(np.float32), atol=1e-3)
    assert recording.channel == spec  # the same for subjects with either name
    assert "channel 'EEG F4-LER' used for" in caplog.text


def test_derivation_from_a_raw(psg):
    path, f4, eog = psg
    raw = mne.io.read_raw_edf(path, verbose="error")
    recording = recording_from_spec(
        raw, ChannelSpec.parse("EEG F4-CLE|EEG F4-LER minus EOG Left Horiz")
    )
    np.testing.assert_allclose(recording.signal_uv, (f4 - eog).astype(np.float32), atol=1e-3)


def test_missing_channel_or_reference_names_what_is_there(psg):
    path, _, _ = psg
    with pytest.raises(PathError, match=r"channel 'EEG F4-CLE' or 'EEG F4-M2' not found; "
                       r"EEG channels present: 'EEG F4-LER'"):  # fmt: skip
        read_channel(path, "EEG F4-CLE|EEG F4-M2 minus EOG Left Horiz")
    with pytest.raises(PathError, match=r"channel reference 'EOG Right Horiz' not found"):
        read_channel(path, "EEG F4-LER minus EOG Right Horiz")


@pytest.mark.parametrize(
    ("eeg_sfreq", "reference_sfreq", "slow"), [(64.0, 256.0, "EEG C3"), (256.0, 64.0, "EOG L")]
)
def test_a_derivation_is_not_a_way_round_the_upsampling_refusal(
    tmp_path, eeg_sfreq, reference_sfreq, slow
):
    # MNE reads the two together at the faster rate: the slower one would come back upsampled
    path = tmp_path / "mixed.edf"
    rng = np.random.default_rng(1)
    write_edf(
        path,
        [
            EdfChannel("EEG C3", rng.normal(0, 30, int(60 * eeg_sfreq)), eeg_sfreq, "uV", RANGE),
            EdfChannel(
                "EOG L", rng.normal(0, 30, int(60 * reference_sfreq)), reference_sfreq, "uV", RANGE
            ),
        ],
        START,
        record_sec=1.0,
    )
    with pytest.raises(
        PathError,
        match=rf"^{path}: channel '{slow}' is sampled at 64 Hz, below the 100 Hz required",
    ):
        read_channel(path, "EEG C3 minus EOG L", 100.0)
    with pytest.raises(PathError, match=rf"channel '{slow}' is sampled at 64 Hz, below the 256 Hz"):
        read_channel(path, "EEG C3 minus EOG L")  # no rate asked: the faster one's
    fine = read_channel(path, "EEG C3 minus EOG L", 64.0)  # both at least as fast as asked
    assert fine.sfreq == 64.0 and fine.signal_uv.size == 60 * 64
