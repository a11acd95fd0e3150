//! binlogd's integration tests: real MariaDB 10.11 and MySQL 9.x primaries on loopback,
//! started by `scripts/server.sh`, and fake peers for what real servers won't do.

#[path = "it/answers.rs"]
mod answers;
#[path = "it/cdc.rs"]
mod cdc;
#[path = "it/cli.rs"]
mod cli;
#[path = "it/clients.rs"]
mod clients;
#[path = "it/compress.rs"]
mod compress;
#[path = "it/disk.rs"]
mod disk;
#[path = "it/fake.rs"]
mod fake;
#[path = "it/faults.rs"]
mod faults;
#[path = "it/ha.rs"]
mod ha;
#[path = "it/harness.rs"]
mod harness;
#[path = "it/hostile.rs"]
mod hostile;
#[path = "it/kill9.rs"]
mod kill9;
#[path = "it/mirror.rs"]
mod mirror;
#[path = "it/network.rs"]
mod network;
#[path = "it/ops.rs"]
mod ops;
#[path = "it/pitr.rs"]
mod pitr;
#[path = "it/proxy.rs"]
mod proxy;
#[path = "it/purge.rs"]
mod purge;
#[path = "it/restore.rs"]
mod restore;
#[path = "it/serve.rs"]
mod serve;
#[path = "it/setup_errors.rs"]
mod setup_errors;
#[path = "it/start_modes.rs"]
mod start_modes;
#[path = "it/switch.rs"]
mod switch;
#[path = "it/tiers.rs"]
mod tiers;
#[path = "it/tls.rs"]
mod tls;
