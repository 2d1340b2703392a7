-- 0023: reserved for the hosts slice of issue 14 (its migration replaces this file at merge); nothing here.
SELECT 1;
