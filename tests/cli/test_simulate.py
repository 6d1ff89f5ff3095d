"""``tinysleepnet simulate``: writes Sleep-EDF-named pairs and says what it wrote."""

from __future__ import annotations

from tinysleepnet.cli import main
from tinysleepnet.data.resources import official_hypnograms


def test_simulate_short_cohort(tmp_path, capsys):
    out = tmp_path / "sim"
    argv = ["simulate", str(out), "--subjects", "0,2-3", "--n-epochs", "60", "--seed", "1"]
    assert main(argv) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written[:2] == ["SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf"]
    assert len(written) == 12
    printed = capsys.readouterr().out
    assert "SC4032E0-PSG.edf" in printed and "60.0" in printed


def test_simulate_from_a_hypnogram_file(tmp_path, capsys):
    hypnogram = official_hypnograms()[0]
    renamed = tmp_path / "my-scoring.edf"
    renamed.write_bytes(hypnogram.read_bytes())
    argv = ["simulate", str(tmp_path / "out"), "--hypnogram", str(renamed), "--n-epochs", "300"]
    assert main(argv) == 0
    assert (
        "SC4001E0-PSG.edf" in capsys.readouterr().out
    )  # numbered: the file is not Sleep-EDF named
    assert (tmp_path / "out" / "SC4001EC-Hypnogram.edf").is_file()


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["simulate", str(tmp_path), "--official", "--subjects", "8"]) == 2
    assert capsys.readouterr().err.startswith("tinysleepnet: error: no official hypnogram")
    assert main(["simulate", str(tmp_path), "--subjects", "x"]) == 2


def test_simulate_in_a_mass_layout(tmp_path, capsys):
    argv = [
        "simulate",
        str(tmp_path),
        "--layout",
        "mass-ss4",
        "--subjects",
        "3",
        "--n-epochs",
        "30",
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-04-0003 Base.edf",
        "01-04-0003 PSG.edf",
    ]
    assert "offset_sec" in capsys.readouterr().out.splitlines()[0]
    assert main(["simulate", str(tmp_path), "--layout", "mass-ss4", "--official"]) == 2
    assert "for the sleep-edf layout" in capsys.readouterr().err
