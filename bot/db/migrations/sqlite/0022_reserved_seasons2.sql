-- 0022: reserved for the seasons2 slice of issue 14 (its migration replaces this file at merge); nothing here.
SELECT 1;
