-- 0018: the club's regular
-- screening night, a local weekday and time (the server's timezone) and a voice or stage channel. All NULL: none.
ALTER TABLE guild_settings ADD COLUMN night_day INTEGER CHECK (night_day BETWEEN 0 AND 6);   -- 0 = Monday
ALTER TABLE guild_settings ADD COLUMN night_time TEXT;                                        -- local 'HH:MM[:SS]'
ALTER TABLE guild_settings ADD COLUMN night_channel_id INTEGER;
