-- 0002: cluster membership (Microsoft.Orleans.Clustering.AdoNet 10.4.2, invariant "Npgsql").
--
-- Orleans keeps one membership "table" per cluster (the provider calls the ClusterId its
-- DeploymentId): one row per silo plus a single version number. Every change to a silo row
-- must move the version forward in the same atomic step, and only if the caller saw the
-- current version; that is how silos detect they raced each other (optimistic concurrency).
-- The heartbeat (IAmAliveTime) is the exception: it is written without the version.
--
-- Parameters arrive typed from Npgsql: text for ids, names, the address and SuspectTimes;
-- integer for Port, Generation, Status, ProxyPort and Version; timestamptz for times
-- (Npgsql sends a UTC DateTime as timestamp with time zone). Result columns are read by name.

-- One row per cluster. "version" is the table's ETag; Orleans compares it as a 32-bit integer.
CREATE TABLE orleansmembershipversiontable
(
    deploymentid text        NOT NULL,
    version      integer     NOT NULL DEFAULT 0,
    modifiedon   timestamptz NOT NULL DEFAULT now(),  -- for people looking at the table; Orleans never reads it

    CONSTRAINT pk_orleansmembershipversiontable PRIMARY KEY (deploymentid)
);

-- One row per silo incarnation: the same host and port after a restart is a new row, told apart
-- by Generation. The address is text, not inet, because Orleans binds and parses it as a string.
-- Times are timestamptz so that what is stored does not depend on the session's TimeZone.
CREATE TABLE orleansmembershiptable
(
    deploymentid text        NOT NULL,
    address      text        NOT NULL,
    port         integer     NOT NULL,
    generation   integer     NOT NULL,
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    status       integer     NOT NULL,  -- Orleans' SiloStatus: 3 Active, 6 Dead, ...
    proxyport    integer     NULL,      -- gateway port; 0 or NULL: not a gateway
    suspecttimes text        NULL,      -- Orleans' own encoding of the suspicion votes; opaque here
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,

    CONSTRAINT pk_orleansmembershiptable PRIMARY KEY (deploymentid, address, port, generation),
    -- Removing a cluster's version row (DeleteMembershipTableEntriesKey) takes its silo rows along.
    CONSTRAINT fk_orleansmembershiptable_version FOREIGN KEY (deploymentid)
        REFERENCES orleansmembershipversiontable (deploymentid) ON DELETE CASCADE
);

-- Creates the cluster's version row the first time a silo starts.
-- Returns one row, one column: 1 when this call created it, 0 when it was already there.
INSERT INTO orleansquery (querykey, querytext) VALUES ('InsertMembershipVersionKey', $sql$
WITH created AS (
    INSERT INTO orleansmembershipversiontable (deploymentid)
    VALUES (@DeploymentId)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING deploymentid
)
SELECT count(*)::integer AS created FROM created
$sql$);

-- Adds a silo row, but only if @Version is still the cluster's version and the silo is not there
-- yet; when it does, the version goes up by one in the same statement. The three steps are
-- chained so that either all happen or none: the version row is locked (and checked) first, the
-- insert feeds from that lock, and the version is bumped only for a row actually inserted.
-- The version stops below 2^31-1, so a full counter reads as a conflict rather than an error.
-- Returns one row, one column: 1 inserted, 0 not (Orleans then re-reads and retries).
INSERT INTO orleansquery (querykey, querytext) VALUES ('InsertMembershipKey', $sql$
WITH expected AS (
    SELECT deploymentid
    FROM orleansmembershipversiontable
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND version < 2147483647
    FOR UPDATE
), inserted AS (
    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
    SELECT deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM expected
    ON CONFLICT (deploymentid, address, port, generation) DO NOTHING
    RETURNING deploymentid
), bumped AS (
    UPDATE orleansmembershipversiontable AS v
    SET version = v.version + 1,
        modifiedon = now()
    FROM inserted
    WHERE v.deploymentid = inserted.deploymentid
    RETURNING v.version
)
SELECT count(*)::integer AS inserted FROM bumped
$sql$);

-- Changes a silo's status and suspicion votes under the same version check as the insert.
-- The heartbeat never moves backwards: a write carrying an older IAmAliveTime than the one
-- already stored (e.g. a heartbeat that landed in between) keeps the newer one.
-- Returns one row, one column: 1 updated, 0 not.
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpdateMembershipKey', $sql$
WITH expected AS (
    SELECT deploymentid
    FROM orleansmembershipversiontable
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND version < 2147483647
    FOR UPDATE
), changed AS (
    UPDATE orleansmembershiptable AS m
    SET status       = @Status,
        suspecttimes = @SuspectTimes,
        iamalivetime = GREATEST(m.iamalivetime, @IAmAliveTime)
    FROM expected
    WHERE m.deploymentid = expected.deploymentid
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
    RETURNING m.deploymentid
), bumped AS (
    UPDATE orleansmembershipversiontable AS v
    SET version = v.version + 1,
        modifiedon = now()
    FROM changed
    WHERE v.deploymentid = changed.deploymentid
    RETURNING v.version
)
SELECT count(*)::integer AS updated FROM bumped
$sql$);

-- The heartbeat: unversioned by design, and monotonic for the same reason as above.
-- Orleans does not read a result.
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpdateIAmAlivetimeKey', $sql$
UPDATE orleansmembershiptable
SET iamalivetime = GREATEST(iamalivetime, @IAmAliveTime)
WHERE deploymentid = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
$sql$);

-- Reads one silo together with the cluster's version. The version row drives the join so that
-- a cluster with no such silo still yields one row (silo columns NULL): Orleans takes the table
-- version from the first row and treats a NULL starttime as "no entry". No row at all means the
-- cluster has no version row yet.
INSERT INTO orleansquery (querykey, querytext) VALUES ('MembershipReadRowKey', $sql$
SELECT v.deploymentid,
       m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
       m.suspecttimes, m.starttime, m.iamalivetime,
       v.version
FROM orleansmembershipversiontable AS v
LEFT JOIN orleansmembershiptable AS m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$sql$);

-- Reads every silo of the cluster, each row carrying the version (same shape as above).
INSERT INTO orleansquery (querykey, querytext) VALUES ('MembershipReadAllKey', $sql$
SELECT v.deploymentid,
       m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
       m.suspecttimes, m.starttime, m.iamalivetime,
       v.version
FROM orleansmembershipversiontable AS v
LEFT JOIN orleansmembershiptable AS m
       ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$sql$);

-- What clients connect to: silos in @Status (Orleans passes 3, Active) that expose a gateway.
INSERT INTO orleansquery (querykey, querytext) VALUES ('GatewaysQueryKey', $sql$
SELECT address, proxyport, generation
FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND status = @Status
  AND proxyport > 0
$sql$);

-- Forgets a whole cluster: its version row, and through the cascade all its silo rows.
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteMembershipTableEntriesKey', $sql$
DELETE FROM orleansmembershipversiontable
WHERE deploymentid = @DeploymentId
$sql$);

-- Bulk pruning of long-dead silos, older than the cutoff passed as @IAmAliveTime. Orleans 10.4.2
-- uses this only when the next key is absent, but refuses to start without it. A row still holding
-- suspicion votes is left alone: other silos may yet read them.
INSERT INTO orleansquery (querykey, querytext) VALUES ('CleanupDefunctSiloEntriesKey', $sql$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND status = 6
  AND iamalivetime < @IAmAliveTime
  AND starttime < @IAmAliveTime
  AND COALESCE(suspecttimes, '') = ''
$sql$);

-- Pruning one dead silo at a time (optional key, used when present): Orleans reads the table,
-- picks the rows old enough, and deletes each only if it still holds exactly the values it read.
-- Any write in between (a new vote, a heartbeat) makes the delete miss, so a live change is never
-- thrown away. An empty SuspectTimes and a NULL one mean the same thing: no votes.
INSERT INTO orleansquery (querykey, querytext) VALUES ('CleanupDefunctSiloEntryKey', $sql$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
  AND status = 6
  AND starttime = @StartTime
  AND iamalivetime = @IAmAliveTime
  AND COALESCE(suspecttimes, '') = COALESCE(@SuspectTimes, '')
$sql$);
