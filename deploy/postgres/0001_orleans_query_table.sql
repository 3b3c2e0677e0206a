-- 0001: the table Orleans' ADO.NET providers read their SQL from.
--
-- At start-up each provider runs `SELECT QueryKey, QueryText FROM OrleansQuery` and keeps the text
-- it finds under each key; it never builds SQL of its own. So the queries that the later scripts
-- insert here are the whole contract between Orleans and this database, and a key that is
-- missing stops the silo from starting.
--
-- Every name in these scripts is unquoted, so PostgreSQL folds it to lower case
-- (orleansquery, querykey, ...). That is on purpose: Orleans writes its own SQL with unquoted
-- mixed-case names (OrleansQuery, QueryKey), which fold the same way, and Npgsql matches result
-- columns to the names the C# asks for (e.g. "Version") without regard to case.
--
-- The migrator runs each script in one transaction and records it; this file is never edited
-- once released (see README.md).

CREATE TABLE orleansquery
(
    querykey  varchar(64) NOT NULL,
    querytext text        NOT NULL,

    CONSTRAINT pk_orleansquery PRIMARY KEY (querykey)
);
