-- 0022: placeholder for the seasons2 branch's migration (this branch needs 0023; the lead drops it at merge).
SELECT 1;
