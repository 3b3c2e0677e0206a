-- 0005: the account journal (OrleansOps' own storage of accounts, correlation and incidents).
--
-- Grains change their state in memory and append what changed, as one entry per change, to their
-- stream (one stream per grain: incident/<id>, correlator/<account>, account/<account>). Each silo has
-- one writer that commits the entries of all its grains together, one transaction per flush.
-- A grain's state is its latest snapshot plus the entries after it; writing a snapshot drops the
-- entries it covers. Chronicle entries are kept for good, apart from the entries that carry them.
-- The incident index and the wake index are projections the writer keeps in the same transaction.

CREATE TABLE orleansops_journal
(
    stream  text   NOT NULL,
    seq     bigint NOT NULL,   -- contiguous per stream, from 1; a second writer of one stream conflicts here
    payload bytea  NOT NULL,
    PRIMARY KEY (stream, seq)
);

CREATE TABLE orleansops_snapshots
(
    stream  text   NOT NULL PRIMARY KEY,
    seq     bigint NOT NULL,   -- the last entry the snapshot covers
    payload bytea  NOT NULL
);

CREATE TABLE orleansops_chronicle
(
    stream  text   NOT NULL,   -- incident/<id>
    seq     bigint NOT NULL,   -- the number of the last entry the row holds in the hash chain
    payload bytea  NOT NULL,   -- the entries one change added
    PRIMARY KEY (stream, seq)
);

-- Each incident's latest summary, for its account's lists and SLA ledger (loaded when the account activates). A storm
-- changes an incident's counts with every alert and its summary seldom: the counts have columns of their own, so that
-- most changes rewrite a few integers rather than the summary.
CREATE TABLE orleansops_incident_index
(
    account   text        NOT NULL,
    incident  text        NOT NULL,
    version   bigint      NOT NULL,   -- the incident's entry the summary is of: an older one never overwrites a newer
    open      boolean     NOT NULL,
    opened_at timestamptz NOT NULL,
    summary   bytea       NOT NULL,   -- as of its last change in more than its counts
    alert_count  integer  NOT NULL,
    firing_count integer  NOT NULL,
    node_count   integer  NOT NULL,
    PRIMARY KEY (account, incident)
);

-- When each stream next has something due by itself (an escalation level, an alert's end, a held alert's release):
-- the back-stop that wakes grains whose timers were lost with their activation or silo.
CREATE TABLE orleansops_wakes
(
    stream  text        NOT NULL PRIMARY KEY,
    account text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX orleansops_wakes_by_time ON orleansops_wakes (at, stream);
