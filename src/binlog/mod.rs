//! Binlog events, GTID sets, transaction boundaries, and the on-disk store.

pub mod boundaries;
pub mod catalog;
pub mod durable;
pub mod event;
pub mod find;
pub mod fs;
pub mod gtid;
pub mod gtid_index;
pub mod map_guard;
pub mod owner;
pub mod purge;
pub mod read;
pub mod shared_map;
pub mod sources;
pub mod store;
#[cfg(test)]
pub mod test_files;
pub mod trx;
pub mod verify;
pub mod walk;
