//! cargo-fuzz target `events`: see `binlogd::fuzzing::events`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::events(data));
