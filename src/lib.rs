//! binlogd: a MySQL/MariaDB virtual replica that mirrors the primary's binlog byte for byte.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod binlog;
pub mod cli;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod privileges;
pub mod proto;
pub mod replica;
pub mod server;
pub mod settings;
pub mod signals;
pub mod sysvars;
#[doc(hidden)]
pub mod test_dir;
pub mod tls;
