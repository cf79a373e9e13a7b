"""File formats in and out: WakaTime's data dump, Hackatime's export, this server's own export
(JSON in the dump's shape, and CSV), and pulling from a running WakaTime-compatible server."""
