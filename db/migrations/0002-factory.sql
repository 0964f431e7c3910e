-- espgang records store, schema version 2: the factory floor.
--
-- Attempts gain the slot's name, the device's serial number, the attempt's log file,
-- the boot check's outcome and the time of the new step "boot" (after "finish"); a
-- new table gives each device one serial number per series. Existing attempts keep
-- everything and read NULL in the new columns (no boot check ran, no serial number).

ALTER TABLE attempts ADD COLUMN slot_label TEXT;    -- the slot's name in the slots file
ALTER TABLE attempts ADD COLUMN serial_number TEXT; -- the number the device was given
ALTER TABLE attempts ADD COLUMN log_path TEXT;      -- the attempt's log file
-- The boot check: NULL when none ran; the console line that decided it and the last
-- lines of the console.
ALTER TABLE attempts ADD COLUMN boot_result TEXT
    CHECK (boot_result IN ('pass', 'fail', 'timeout'));
ALTER TABLE attempts ADD COLUMN boot_line TEXT;
ALTER TABLE attempts ADD COLUMN boot_tail TEXT;
ALTER TABLE attempts ADD COLUMN ms_boot BIGINT;

-- Serial numbers: one per device (by MAC) and series, allocated in one IMMEDIATE
-- transaction (the series' highest number + 1, or the profile's start for the first)
-- and never reused. The series is the profile's serial format with everything but the
-- sequence number filled in ("WX-L42-{seq:06}"); serial is the rendered number. No
-- reference to devices: a number is given right after the board is identified, before
-- the writer has recorded the device.
CREATE TABLE serial_numbers (
    series       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    serial       TEXT NOT NULL UNIQUE,
    mac          TEXT NOT NULL,
    allocated_ms BIGINT NOT NULL,
    PRIMARY KEY (series, seq),
    UNIQUE (series, mac)
);
-- A device's numbers, for a report of its history.
CREATE INDEX serial_numbers_mac ON serial_numbers (mac);
