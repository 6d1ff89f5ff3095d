"""Cut a stretch of whole data records out of a Sleep-EDF night, signal and hypnogram alike.

Made the real-night test fixture ``tests/fixtures/sleep-edf-real/`` from the official
SC4001E0 files (see that folder's README)::

    python scripts/crop_sleep_edf_night.py SC4001E0-PSG.edf SC4001EC-Hypnogram.edf \
        tests/fixtures/sleep-edf-real --first-record 900 --n-records 960

The PSG's data records are copied byte for byte (the samples are the official ones); only the
header's start time and record count change. The hypnogram's annotations are shifted to the
new start and cut to the new end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
from pathlib import Path

import mne

from tinysleepnet.io.edf_writer import write_annotations_edf


def crop_psg(src: Path, dest: Path, first_record: int, n_records: int) -> dt.datetime:
    """Write records ``first_record .. first_record + n_records - 1`` of ``src`` to ``dest``."""
    raw = src.read_bytes()
    header_bytes = int(raw[184:192])
    n_signals = int(raw[252:256])
    record_sec = float(raw[244:252])
    samples = [int(raw[256 + 216 * n_signals + 8 * i : 256 + 216 * n_signals + 8 * (i + 1)])
               for i in range(n_signals)]
    record_bytes = 2 * sum(samples)
    start = dt.datetime.strptime((raw[168:176] + raw[176:184]).decode(), "%d.%m.%y%H.%M.%S")
    new_start = start + dt.timedelta(seconds=first_record * record_sec)
    header = bytearray(raw[:header_bytes])
    header[168:184] = new_start.strftime("%d.%m.%y%H.%M.%S").encode()
    header[236:244] = f"{n_records:<8d}".encode()
    body = raw[header_bytes + first_record * record_bytes:
               header_bytes + (first_record + n_records) * record_bytes]
    if len(body) != n_records * record_bytes:
        raise SystemExit(f"{src}: has fewer than {first_record + n_records} data records")
    dest.write_bytes(bytes(header) + body)
    return new_start


def crop_hypnogram(src: Path, dest: Path, offset_sec: float, length_sec: float,
                   start: dt.datetime) -> None:
    """Shift the stage annotations of ``src`` by ``-offset_sec`` and keep ``[0, length_sec)``."""
    annotations = mne.read_annotations(src)
    kept = []
    for onset, duration, text in zip(annotations.onset, annotations.duration,
                                     annotations.description, strict=True):
        begin, end = max(onset - offset_sec, 0.0), min(onset + duration - offset_sec, length_sec)
        if end > begin:
            kept.append((float(begin), float(end - begin), str(text)))
    write_annotations_edf(dest, kept, start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("psg", type=Path)
    parser.add_argument("hypnogram", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--first-record", type=int, required=True)
    parser.add_argument("--n-records", type=int, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    psg_out, hyp_out = args.out / args.psg.name, args.out / args.hypnogram.name
    start = crop_psg(args.psg, psg_out, args.first_record, args.n_records)
    crop_hypnogram(args.hypnogram, hyp_out, args.first_record * 30.0, args.n_records * 30.0,
                   start)
    for path in (args.psg, args.hypnogram, psg_out, hyp_out):
        print(hashlib.sha256(path.read_bytes()).hexdigest(), path)


if __name__ == "__main__":
    main()
