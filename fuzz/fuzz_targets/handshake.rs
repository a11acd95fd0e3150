//! cargo-fuzz target `handshake`: see `binlogd::fuzzing::handshake`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::handshake(data));
