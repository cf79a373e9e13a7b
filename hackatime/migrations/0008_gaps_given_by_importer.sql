-- The gap triggers skip a row inserted with its gap already set: the importer works out the
-- gaps of a whole sorted batch at once (hackatime/bulk.py). Rows inserted without one (live
-- ingest, every other writer) keep the triggers exactly as before.
DROP TRIGGER heartbeats_gap_of_new_row;
DROP TRIGGER heartbeats_gap_of_predecessor;

CREATE TRIGGER heartbeats_gap_of_new_row AFTER INSERT ON heartbeats
WHEN NEW.gap_next_ms IS NULL AND EXISTS (
    SELECT 1 FROM heartbeats s
    WHERE s.user_id = NEW.user_id AND s.time_ms >= NEW.time_ms AND s.id <> NEW.id
)
BEGIN
    UPDATE heartbeats SET gap_next_ms = coalesce(
        (SELECT 0 FROM heartbeats s
         WHERE s.user_id = NEW.user_id AND s.time_ms = NEW.time_ms AND s.id > NEW.id LIMIT 1),
        (SELECT min(s.time_ms) FROM heartbeats s
         WHERE s.user_id = NEW.user_id AND s.time_ms > NEW.time_ms) - NEW.time_ms
    )
    WHERE id = NEW.id;
END;

CREATE TRIGGER heartbeats_gap_of_predecessor AFTER INSERT ON heartbeats
WHEN NEW.gap_next_ms IS NULL
BEGIN
    UPDATE heartbeats SET gap_next_ms = NEW.time_ms - time_ms
    WHERE id = coalesce(
        (SELECT max(p.id) FROM heartbeats p
         WHERE p.user_id = NEW.user_id AND p.time_ms = NEW.time_ms AND p.id < NEW.id),
        (SELECT max(p.id) FROM heartbeats p
         WHERE p.user_id = NEW.user_id AND p.time_ms = (
             SELECT max(q.time_ms) FROM heartbeats q
             WHERE q.user_id = NEW.user_id AND q.time_ms < NEW.time_ms))
    );
END;
