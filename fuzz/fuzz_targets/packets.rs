//! cargo-fuzz target `packets`: see `binlogd::fuzzing::packets`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::packets(data));
