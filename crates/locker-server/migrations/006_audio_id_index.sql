-- Locker schema, version 6: find a track by its audio id without scanning every field of the
-- account (scan and match asks for thousands at once).
CREATE INDEX track_fields_audio_id ON track_fields(user_id, value) WHERE field = 'audio_id';
