-- 0005: moderator configuration history and the weekly picks schedule. (Placeholder: the picks and configuration work fills this in.)
SELECT 1;
