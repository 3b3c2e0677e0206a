-- 0004: reminders (Microsoft.Orleans.Reminders.AdoNet 10.4.2, invariant "Npgsql").
--
-- One row per (service, grain, reminder name). The reminder service of each silo owns a slice of
-- the grain-hash ring and reads the reminders whose grain hash falls in it. "version" is the
-- reminder's ETag: every upsert changes it, and a delete must name the current one.
--
-- Parameters arrive typed from Npgsql: text for ServiceId, GrainId (the grain id's string form)
-- and ReminderName; timestamptz for StartTime (Orleans makes it UTC first); integer for Version
-- and the hashes. Period is milliseconds and arrives as integer, or as bigint when it is longer
-- than about 24.8 days, so the column is bigint.

CREATE TABLE orleansreminderstable
(
    serviceid    text        NOT NULL,
    grainid      text        NOT NULL,
    remindername text        NOT NULL,
    starttime    timestamptz NOT NULL,
    period       bigint      NOT NULL,
    -- The grain's uniform hash, a uint in Orleans, stored as the signed integer with the same
    -- 32 bits (Orleans binds it so). The range queries below compare it in that signed order.
    grainhash    integer     NOT NULL,
    version      integer     NOT NULL,

    CONSTRAINT pk_orleansreminderstable PRIMARY KEY (serviceid, grainid, remindername)
);

-- The range reads, done by every silo whenever its slice of the ring changes and periodically.
CREATE INDEX ix_orleansreminderstable_grainhash ON orleansreminderstable (serviceid, grainhash);

-- Creates a reminder (version 0) or replaces its schedule (version + 1). Unconditional: Orleans
-- does not send an ETag here. Result: one row, version (integer), the new ETag.
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpsertReminderRowKey', $sql$
INSERT INTO orleansreminderstable AS r
    (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = excluded.starttime,
    period    = excluded.period,
    grainhash = excluded.grainhash,
    version   = r.version + 1
RETURNING r.version
$sql$);

-- The reminder reads all return the same columns, which Orleans reads by name:
-- grainid, remindername, starttime, period, version.

-- All reminders of one grain.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadReminderRowsKey', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
$sql$);

-- One reminder; no row when it does not exist.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadReminderRowKey', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
  AND remindername = @ReminderName
$sql$);

-- A slice of the ring is the half-open range (@BeginHash, @EndHash]. Orleans picks this key when
-- @BeginHash < @EndHash as signed integers: the slice does not wrap, so both bounds apply.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadRangeRows1Key', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND grainhash > @BeginHash
  AND grainhash <= @EndHash
$sql$);

-- ... and this one otherwise: the slice wraps past the top of the signed range back to the
-- bottom, so a hash belongs to it if it is above the start OR at/below the end. Equal bounds
-- select the whole ring, as Orleans means them to.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadRangeRows2Key', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId
  AND (grainhash > @BeginHash OR grainhash <= @EndHash)
$sql$);

-- Deletes a reminder if @Version is still its ETag. Result: one row, one boolean column:
-- true when it was deleted, false when it was gone or had changed.
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteReminderRowKey', $sql$
WITH removed AS (
    DELETE FROM orleansreminderstable
    WHERE serviceid = @ServiceId
      AND grainid = @GrainId
      AND remindername = @ReminderName
      AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM removed) AS removed
$sql$);

-- Deletes every reminder of the service (Orleans uses it in its tests; no result read).
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteReminderRowsKey', $sql$
DELETE FROM orleansreminderstable
WHERE serviceid = @ServiceId
$sql$);
