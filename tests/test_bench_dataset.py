"""The bench's generated history stores the gaps the window-function form of the rule gives."""

from __future__ import annotations

from pathlib import Path

from bench import dataset, history
from tests.oracle import stored_gaps, window_gaps


def test_generated_gaps_equal_the_window_form(tmp_path: Path) -> None:
    end_ms = 1_790_000_000_000
    loaded = dataset.load(tmp_path / "bench.db", 2000, end_ms, history.evening_zone(end_ms))
    stored = stored_gaps(loaded.path, loaded.user_id)
    assert len(stored) == 2000
    assert stored == window_gaps(loaded.path, loaded.user_id)
