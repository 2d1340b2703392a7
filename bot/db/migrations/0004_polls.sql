-- 0004: watch-party polls, ballots and screenings. (Placeholder: the polls work fills this in.)
SELECT 1;
