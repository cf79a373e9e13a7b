"""`make bench`: hackatime's ingest, queries, memory, storage and start-up against their floors."""
