//! cargo-fuzz target `gtid_sets`: see `binlogd::fuzzing::gtid_sets`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::gtid_sets(data));
