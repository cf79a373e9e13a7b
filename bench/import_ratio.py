"""The import phases of the bench alone, repeated: `python -m bench.import_ratio N ROUNDS`.

`hackatime import` of a WakaTime dump of N heartbeats and its executemany floor, run one after
the other ROUNDS times, onto an empty database and onto one of N (the full bench's two cases),
with the bench's own functions; each round prints its ratio. On a shared machine a single
ratio moves by a quarter from run to run: read the rounds side by side. The database and the
dumps are kept in bench/out/import-N/ for the next call (the clock is fixed, so they stay
valid).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from bench import dataset, history, imports

_ZONE = "Europe/Berlin"
# 2026-01-01T00:00Z: the generated history ends an hour before it.
_NOW_MS = 1_767_225_600_000
_END_MS = _NOW_MS - 3_600_000


def _fresh(path: Path, source: Path | None) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if source is None:
        dataset.create_database(path, _ZONE, _END_MS).close()
    else:
        shutil.copyfile(source, path)


def main() -> None:
    n, rounds = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    out = Path(__file__).parent / "out" / f"import-{n}"
    out.mkdir(parents=True, exist_ok=True)
    loaded = out / "loaded.db"
    if not loaded.exists():
        dataset.load(loaded, n, _END_MS, _ZONE)
    for name, seed, source in (
        ("empty", history.SEED, None),
        ("full", history.SEED + 2, loaded),
    ):
        dump = out / f"{name}.json"
        if not dump.exists():
            imports.write_dump(dump, n, _END_MS, _ZONE, seed)
        for round_ in range(rounds):
            product, floor_db = out / "product.db", out / "floor.db"
            _fresh(product, source)
            imported, stored = imports.run_import(dump, product, out / "import.log")
            _fresh(floor_db, source)
            floor = imports.floor(floor_db, n, _END_MS, _ZONE, seed)
            gaps = dataset.check_gaps(product, 1)
            print(
                f"onto {name}, round {round_ + 1}: import {imported.rate:,.0f}/s"
                f" ({imported.seconds:.1f} s), floor {floor:,.0f}/s,"
                f" ratio {imported.rate / floor:.2f}; RSS peak {imported.rss_peak_mb:.1f} MB;"
                f" {stored} stored, {gaps.mismatches} gaps differ;"
                f" load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
