-- 0003: grain state (Microsoft.Orleans.Persistence.AdoNet 10.4.2, invariant "Npgsql").
--
-- One row per grain state: (service, grain type, grain id). Orleans identifies a grain by
--   GrainIdN0, GrainIdN1       bigint: the two halves of a Guid key, or 0 and the integer key;
--   GrainIdExtensionString     text:   a string key, or the key extension of a Guid/integer key;
--                                      NULL when there is none (NULL and '' are different grains);
--   GrainTypeString            text:   the grain type without assembly versions;
-- and adds two signed 32-bit hashes of them (GrainIdHash, GrainTypeHash) so that lookups go
-- through a narrow index instead of comparing long strings. The hashes can collide, so every
-- query also compares the full identity.
--
-- Optimistic concurrency: "version" is the state's ETag. A write or clear succeeds only if the
-- caller's @GrainStateVersion is the stored one (or NULL for a grain that has never been stored),
-- and then returns the new version. A conflict returns no row; Orleans turns that into an
-- InconsistentStateException (it also does so for an empty value or an unchanged version).
--
-- Parameters arrive typed from Npgsql: integer for the hashes and @GrainStateVersion, bigint for
-- N0/N1, text for the strings (NULL for no extension), bytea for @PayloadBinary.

CREATE TABLE orleansstorage
(
    serviceid              text        NOT NULL,
    graintypestring        text        NOT NULL,
    graintypehash          integer     NOT NULL,
    grainidhash            integer     NOT NULL,
    grainidn0              bigint      NOT NULL,
    grainidn1              bigint      NOT NULL,
    grainidextensionstring text        NULL,
    -- The serialized state, as the configured IGrainStorageSerializer produced it. NULL after a
    -- clear: the row (and its version) stays, so the next write still has an ETag to match.
    payloadbinary          bytea       NULL,
    version                integer     NOT NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now()  -- for people; Orleans never reads it
);

-- At most one row per grain state. Without it, two activations of the same grain writing for the
-- first time at the same moment (possible during a membership change) would both insert, and
-- every later read of that grain would fail on two rows. The strings enter the index as 64-bit
-- hashes (hashtextextended: built in and immutable), which keeps entries small whatever a key's
-- length; "IS NULL" keeps a missing extension apart from every real one. The leading hash columns
-- also make this the index every query below looks rows up by.
CREATE UNIQUE INDEX ux_orleansstorage_grain ON orleansstorage
(
    grainidhash,
    graintypehash,
    grainidn0,
    grainidn1,
    hashtextextended(serviceid, 0),
    hashtextextended(graintypestring, 0),
    (grainidextensionstring IS NULL),
    COALESCE(hashtextextended(grainidextensionstring, 0), 0)
);

-- Reads a grain's state. Result columns: payloadbinary (bytea, NULL after a clear) and version
-- (integer). No row: never written, Orleans starts from a new state with no ETag.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadFromStorageKey', $sql$
SELECT payloadbinary, version
FROM orleansstorage
WHERE grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$sql$);

-- Writes a grain's state. Exactly one of the two branches can do anything:
--   @GrainStateVersion given: replace the row holding that version, version + 1;
--   @GrainStateVersion NULL:  first write, insert with version 1. If a row already exists (a
--                             stale activation, or a concurrent first write) the unique index
--                             turns the insert into nothing.
-- Result: one row, newgrainstateversion (integer) on success; no row on a conflict.
INSERT INTO orleansquery (querykey, querytext) VALUES ('WriteToStorageKey', $sql$
WITH updated AS (
    UPDATE orleansstorage
    SET payloadbinary = @PayloadBinary,
        version = version + 1,
        modifiedon = now()
    WHERE grainidhash = @GrainIdHash
      AND graintypehash = @GrainTypeHash
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND serviceid = @ServiceId
      AND graintypestring = @GrainTypeString
      AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version
), inserted AS (
    INSERT INTO orleansstorage
        (serviceid, graintypestring, graintypehash, grainidhash, grainidn0, grainidn1,
         grainidextensionstring, payloadbinary, version)
    SELECT @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdHash, @GrainIdN0, @GrainIdN1,
           @GrainIdExtensionString, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
)
SELECT version AS newgrainstateversion FROM updated
UNION ALL
SELECT version FROM inserted
$sql$);

-- Clears a grain's state (the default, DeleteStateOnClear = false): the payload goes, the row and
-- its version stay and move on by one. Orleans reads the first column: the new version on
-- success, no row on a conflict.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ClearStorageKey', $sql$
UPDATE orleansstorage
SET payloadbinary = NULL,
    version = version + 1,
    modifiedon = now()
WHERE grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion
RETURNING version AS newgrainstateversion
$sql$);

-- Removes the row instead (used only with DeleteStateOnClear = true; Orleans refuses that option
-- at start-up when this key is missing). Orleans checks the first column is neither empty nor
-- the ETag it sent, so success returns version + 1 (the grain's ETag becomes NULL afterwards and
-- its next write inserts afresh); a conflict returns no row.
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteStorageKey', $sql$
DELETE FROM orleansstorage
WHERE grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion
RETURNING version + 1 AS newgrainstateversion
$sql$);
