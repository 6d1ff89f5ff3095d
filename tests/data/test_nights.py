"""Prepared nights on disk: round trip, manifest, and the errors for what is not one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.data.nights import Night, load_night, load_nights, save_night
from tinysleepnet.errors import RecordingError


def _night(name: str, n_epochs: int = 4) -> Night:
    rng = np.random.default_rng(0)
    return Night(
        signal_uv=rng.normal(0, 20, (n_epochs, 3000)).astype(np.float32),
        stages=rng.integers(0, 5, n_epochs),
        sfreq=100.0,
        channel="EEG Fpz-Cz",
        subject="07",
        night=2,
        start="1989-04-24T16:13:00",
        name=name,
    )


def test_save_and_load_round_trip(tmp_path):
    night = _night("SC4072E0")
    save_night(tmp_path / "SC4072E0.npz", night)
    loaded = load_night(tmp_path / "SC4072E0.npz")
    np.testing.assert_array_equal(loaded.signal_uv, night.signal_uv)
    np.testing.assert_array_equal(loaded.stages, night.stages)
    assert loaded.stages.dtype == np.int64 and loaded.signal_uv.dtype == np.float32
    for field in ("sfreq", "channel", "subject", "night", "start", "name"):
        assert getattr(loaded, field) == getattr(night, field)
    assert loaded.n_epochs == 4
    assert [p.name for p in tmp_path.iterdir()] == ["SC4072E0.npz"]  # no temporary file left


def test_load_nights_follows_the_manifest(tmp_path):
    for name in ("b", "a"):
        save_night(tmp_path / f"{name}.npz", _night(name))
    save_night(tmp_path / "not-listed.npz", _night("not-listed"))
    pd.DataFrame({"name": ["b", "a"], "file": ["b.npz", "a.npz"]}).to_csv(
        tmp_path / "manifest.csv", index=False
    )
    assert [night.name for night in load_nights(tmp_path)] == ["b", "a"]


def test_folder_without_manifest_is_not_a_prepared_dataset(tmp_path):
    with pytest.raises(RecordingError, match=r"not a prepared dataset \(no manifest\.csv\)"):
        load_nights(tmp_path)


def test_load_night_errors(tmp_path):
    with pytest.raises(RecordingError, match="file not found"):
        load_night(tmp_path / "absent.npz")
    (tmp_path / "damaged.npz").write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(RecordingError, match=r"damaged\.npz: not a prepared night"):
        load_night(tmp_path / "damaged.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(RecordingError, match=r"other\.npz: not a prepared night"):
        load_night(tmp_path / "other.npz")
