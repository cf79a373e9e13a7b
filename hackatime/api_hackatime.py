"""The Hackatime API of the seed (stats, raw heartbeats, user lookups, trust factor)."""

from __future__ import annotations

routes: list = []
