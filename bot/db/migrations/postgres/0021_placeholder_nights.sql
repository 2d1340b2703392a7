-- 0021: placeholder for the nights branch's migration (this branch needs 0023; the lead drops it at merge).
SELECT 1;
