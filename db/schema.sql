-- espgang records store, schema version 1 (PRAGMA user_version = 1).
--
-- Every production run, every device by MAC, every attempt on a board and every
-- region of an attempt. Compiled into espgang at build time (nothing here is read at
-- run time); later versions add db/migrations/NNNN-name.sql, applied in order on open.
--
-- Plain SQL that PostgreSQL also reads wherever that costs nothing: no reserved words
-- as names (flash_offset, operator_name), times as BIGINT milliseconds since the Unix
-- epoch (UTC), booleans as 0/1. SQLite-only: INTEGER PRIMARY KEY (the rowid) for ids,
-- and regions WITHOUT ROWID, so that an attempt's regions sit together in key order
-- and a report reads them in one pass beside the attempts (a report of a million
-- attempts reads every row: the fewer columns per region row, the faster).

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    station        TEXT,
    operator_name  TEXT,
    lot            TEXT,
    profile_name   TEXT,
    profile_sha256 TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('flash', 'verify')),
    version        TEXT NOT NULL,
    host           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    started_ms     BIGINT NOT NULL,
    ended_ms       BIGINT
);
CREATE INDEX runs_lot ON runs (lot);
-- Runs not ended, for the sweep on open that finds those of processes that are gone.
CREATE INDEX runs_open ON runs (host, pid) WHERE ended_ms IS NULL;

CREATE TABLE devices (
    mac           TEXT PRIMARY KEY,
    chip          TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL
);

CREATE TABLE attempts (
    id              INTEGER PRIMARY KEY,
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    seq             INTEGER NOT NULL,
    slot            INTEGER NOT NULL,
    port            TEXT NOT NULL,
    usb_location    TEXT,
    usb_serial      TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('flash', 'verify')),
    -- What the board said it is; NULL until it was identified.
    chip            TEXT,
    revision        INTEGER, -- major * 100 + minor, as ESP-IDF counts them
    mac             TEXT REFERENCES devices (mac),
    flash_id        INTEGER,
    flash_size      BIGINT,
    security_flags  BIGINT, -- NULL when the chip's ROM cannot tell
    flash_encrypted INTEGER,
    result          TEXT NOT NULL DEFAULT 'running'
                    CHECK (result IN ('running', 'pass', 'fail', 'canceled', 'interrupted')),
    failed_step     TEXT,
    error_code      INTEGER,
    error_message   TEXT,
    device_status   INTEGER, -- the device's error byte; NULL when none
    retries         INTEGER NOT NULL DEFAULT 0,
    -- Milliseconds each step took; NULL when it did not run.
    ms_connect      BIGINT,
    ms_identify     BIGINT,
    ms_check        BIGINT,
    ms_erase        BIGINT,
    ms_write        BIGINT,
    ms_verify       BIGINT,
    ms_finish       BIGINT,
    started_ms      BIGINT NOT NULL,
    ended_ms        BIGINT,
    UNIQUE (run_id, seq)
);
CREATE INDEX attempts_started ON attempts (started_ms);
CREATE INDEX attempts_mac ON attempts (mac);
CREATE INDEX attempts_running ON attempts (run_id) WHERE result = 'running';
-- Yield and failures by cause: counted in this index's order, without sorting.
CREATE INDEX attempts_outcome ON attempts (result, failed_step, error_code);

-- What a region holds, once for every attempt that wrote the same bytes under the same
-- label: a run of a thousand boards stores its bootloader's digests once.
CREATE TABLE contents (
    id           INTEGER PRIMARY KEY,
    label        TEXT NOT NULL, -- '' when the region has none
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    md5_expected TEXT NOT NULL,
    UNIQUE (sha256, label)
);

-- The regions of an attempt: where, what (contents), what the chip computed, and what
-- became of it.
CREATE TABLE regions (
    attempt_id   INTEGER NOT NULL REFERENCES attempts (id),
    flash_offset BIGINT NOT NULL,
    content_id   INTEGER NOT NULL REFERENCES contents (id),
    md5_device   TEXT, -- NULL when the chip was not asked
    outcome      TEXT NOT NULL
                 CHECK (outcome IN ('written', 'skipped', 'verified', 'failed', 'pending')),
    PRIMARY KEY (attempt_id, flash_offset)
) WITHOUT ROWID;

-- Every region with its contents, as a person querying the file wants them.
CREATE VIEW region_details AS
SELECT r.attempt_id, r.flash_offset, c.size, c.label, c.sha256, c.md5_expected, r.md5_device,
       r.outcome
FROM regions r JOIN contents c ON c.id = r.content_id;
