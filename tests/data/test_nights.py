"""Prepared nights on disk: round trip, memory maps, the earlier layout, and the errors for
what is not one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinysleepnet.data import nights
from tinysleepnet.data.nights import Night, load_night, load_nights, save_night
from tinysleepnet.errors import PathError, TinySleepNetError
from tinysleepnet.io.mapped import release_pages


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
    # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SC4072E0.npy", "SC4072E0.npz"]


def test_signal_is_a_read_only_memory_map_of_the_written_one(tmp_path):
    night = _night("SC4072E0", n_epochs=6)
    save_night(tmp_path / "SC4072E0.npz", night)
    with np.load(tmp_path / "SC4072E0.npz") as npz:
        assert "signal_uv" not in npz.files  # the signal lives only in the .npy
    signal = load_night(tmp_path / "SC4072E0.npz").signal_uv
    assert isinstance(signal, np.memmap) and Path(signal.filename) == tmp_path / "SC4072E0.npy"
    np.testing.assert_array_equal(signal, night.signal_uv)
    with pytest.raises(ValueError, match="read-only"):
        signal[0, 0] = 1.0
    release_pages(signal)  # pages leave the resident set; the values are read again from the file
    release_pages(signal[2:])
    np.testing.assert_array_equal(signal, night.signal_uv)


def _save_earlier_layout(path, night):
    """A night as ``prepare`` wrote it before signals had their own file."""
    np.savez(
        path,
        signal_uv=night.signal_uv,
        stages=night.stages,
        **{key: getattr(night, key) for key in ("sfreq", "channel", "subject", "night", "start")},
        name=night.name,
    )


def test_earlier_layout_is_converted_on_first_use(tmp_path):
    night = _night("SC4072E0")
    _save_earlier_layout(tmp_path / "SC4072E0.npz", night)
    pd.DataFrame({"name": ["SC4072E0"], "file": ["SC4072E0.npz"]}).to_csv(
        tmp_path / "manifest.csv", index=False
    )
    (loaded,) = load_nights(tmp_path)
    assert isinstance(loaded.signal_uv, np.memmap)
    np.testing.assert_array_equal(loaded.signal_uv, night.signal_uv)
    np.testing.assert_array_equal(loaded.stages, night.stages)
    assert (loaded.name, loaded.subject, loaded.night) == ("SC4072E0", "07", 2)
    with np.load(tmp_path / "SC4072E0.npz") as npz:
        assert "signal_uv" not in npz.files
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["SC4072E0.npy", "SC4072E0.npz", "manifest.csv"]  # nothing left over
    again = load_night(tmp_path / "SC4072E0.npz")  # now read in the current layout
    np.testing.assert_array_equal(again.signal_uv, night.signal_uv)


def test_earlier_layout_in_a_read_only_folder_is_read_into_memory(tmp_path, monkeypatch, caplog):
    night = _night("SC4072E0")
    _save_earlier_layout(tmp_path / "SC4072E0.npz", night)

    def read_only(path, night):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(nights, "save_night", read_only)
    loaded = load_night(tmp_path / "SC4072E0.npz")
    assert not isinstance(loaded.signal_uv, np.memmap)
    np.testing.assert_array_equal(loaded.signal_uv, night.signal_uv)
    assert "signal kept in memory" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SC4072E0.npz"]


def test_signal_file_missing_or_not_matching_the_night(tmp_path):
    save_night(tmp_path / "a.npz", _night("a", n_epochs=4))
    (tmp_path / "a.npy").unlink()
    with pytest.raises(PathError, match=r"a\.npy: signal file not found"):
        load_night(tmp_path / "a.npz")
    np.save(tmp_path / "a.npy", np.zeros((5, 3000), dtype=np.float32))
    with pytest.raises(PathError, match=r"a\.npy: holds float32 of shape \(5, 3000\)"):
        load_night(tmp_path / "a.npz")


def test_open_file_limit_is_raised_for_many_maps_or_refused(monkeypatch):
    resource = pytest.importorskip("resource")
    limits = {"now": (1024, 4096)}
    monkeypatch.setattr(resource, "getrlimit", lambda _: limits["now"])
    monkeypatch.setattr(resource, "setrlimit", lambda _, value: limits.update(now=value))
    nights._allow_open_files(3000)
    assert limits["now"] == (3000 + nights._SPARE_FILES, 4096)
    with pytest.raises(TinySleepNetError, match=r"5000 memory-mapped nights need 5256 open"):
        nights._allow_open_files(5000)


def test_load_nights_follows_the_manifest(tmp_path):
    for name in ("b", "a"):
        save_night(tmp_path / f"{name}.npz", _night(name))
    save_night(tmp_path / "not-listed.npz", _night("not-listed"))
    pd.DataFrame({"name": ["b", "a"], "file": ["b.npz", "a.npz"]}).to_csv(
        tmp_path / "manifest.csv", index=False
    )
    assert [night.name for night in load_nights(tmp_path)] == ["b", "a"]


def test_folder_without_manifest_is_not_a_prepared_dataset(tmp_path):
    with pytest.raises(PathError, match=r"not a prepared dataset \(no manifest\.csv\)"):
        load_nights(tmp_path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", r"not a readable manifest \(EmptyDataError"),
        (b"name,subject\nSC4001E0,00\n", r"not a manifest of nights: no file column"),
        (
            b"name,file\nSC4001E0,SC4001E0.npz\nSC4002E0,SC4002E0.npz\nSC4001E0,SC4001E0.npz\n",
            r"lists a night twice \(name SC4001E0\); prepare again",
        ),
        (b"name,file\na,x.npz\nb,x.npz\n", r"lists a night twice \(file x.npz\)"),
    ],
)
def test_damaged_manifest_is_one_line_naming_it(tmp_path, content, problem):
    (tmp_path / "manifest.csv").write_bytes(content)
    with pytest.raises(PathError, match=rf"manifest\.csv: {problem}"):
        load_nights(tmp_path)


def test_load_night_errors(tmp_path):
    with pytest.raises(PathError, match="file not found"):
        load_night(tmp_path / "absent.npz")
    (tmp_path / "damaged.npz").write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(PathError, match=r"damaged\.npz: not a prepared night"):
        load_night(tmp_path / "damaged.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(PathError, match=r"other\.npz: not a prepared night"):
        load_night(tmp_path / "other.npz")


def test_prepared_data_owns_its_files_and_refuses_other_settings(tmp_path):
    prepared = nights.PreparedData(tmp_path)
    assert prepared.settings is None  # nothing recorded yet
    settings = {"channel": "EEG Fpz-Cz", "sfreq": 100.0, "wake_edge_min": 30.0,
                "trim": "authors", "epoch_sec": 30.0, "epochs_from": "signal"}  # fmt: skip
    prepared.claim(settings)
    assert prepared.settings_path == tmp_path / "prepare.json"
    assert prepared.settings == settings
    prepared.claim(settings)  # the same settings: the folder is resumed
    with pytest.raises(PathError, match="prepared with other settings"):
        prepared.claim({**settings, "trim": "none"})
    assert prepared.settings == settings  # the refused settings are not recorded
    save_night(prepared.night_path("a"), _night("a"))
    prepared.write_manifest(pd.DataFrame({"name": ["a"], "file": ["a.npz"]}))
    assert prepared.manifest_path == tmp_path / nights.MANIFEST
    assert list(prepared.manifest["name"]) == ["a"]
    assert [night.name for night in prepared.nights()] == ["a"]


def test_settings_recorded_before_epoch_settings_read_as_sleep_edf_epochs(tmp_path):
    (tmp_path / "prepare.json").write_text('{"channel": "EEG Fpz-Cz", "trim": "authors"}')
    assert nights.PreparedData(tmp_path).settings == {
        "channel": "EEG Fpz-Cz", "trim": "authors", "epoch_sec": 30.0, "epochs_from": "signal"
    }  # fmt: skip
