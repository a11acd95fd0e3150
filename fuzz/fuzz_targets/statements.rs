//! cargo-fuzz target `statements`: see `binlogd::fuzzing::statements`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::statements(data));
