-- 0017 (nights' slice, assigned 0018: renumber it once threads' 0017 is on main): the club's regular
-- screening night, a local weekday and time (the server's timezone) and a voice or stage channel. All NULL: none.
ALTER TABLE guild_settings ADD COLUMN night_day BIGINT CHECK (night_day BETWEEN 0 AND 6);    -- 0 = Monday
ALTER TABLE guild_settings ADD COLUMN night_time TEXT;                                        -- local 'HH:MM[:SS]'
ALTER TABLE guild_settings ADD COLUMN night_channel_id BIGINT;
