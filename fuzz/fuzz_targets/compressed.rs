//! cargo-fuzz target `compressed`: see `binlogd::fuzzing::compressed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::compressed(data));
