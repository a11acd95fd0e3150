//! cargo-fuzz target `recovery_scan`: see `binlogd::fuzzing::recovery_scan`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::recovery_scan(data));
