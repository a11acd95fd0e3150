//! cargo-fuzz target `dump_commands`: see `binlogd::fuzzing::dump_commands`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| binlogd::fuzzing::dump_commands(data));
