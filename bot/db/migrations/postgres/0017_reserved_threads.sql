-- 0017: reserved for the threads slice of issue 14 (its migration replaces this file at merge); nothing here.
SELECT 1;
