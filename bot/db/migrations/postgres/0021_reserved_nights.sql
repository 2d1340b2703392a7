-- 0021: reserved for the nights slice of issue 14 (its migration replaces this file at merge); nothing here.
SELECT 1;
