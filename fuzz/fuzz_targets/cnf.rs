//! cargo-fuzz target `cnf`: see `binlogd::fuzzing::cnf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::cnf(data));
