//! The OK and ERR packets every command's answer ends with, and the error numbers the
//! server's commands use. Pure: bytes out, no socket.
//!
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html>,
//! <https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html>

use crate::proto::buf::Put;

pub const ER_ACCESS_DENIED: u16 = 1045;
pub const ER_CON_COUNT: u16 = 1040;
pub const ER_UNKNOWN_COM: u16 = 1047;
pub const ER_MASTER_FATAL_READING_BINLOG: u16 = 1236;
pub const ER_HANDSHAKE_ERROR: u16 = 1043;
pub const ER_SECURE_TRANSPORT_REQUIRED: u16 = 3159;

pub fn err_packet(code: u16, state: &str, msg: &str) -> Vec<u8> {
    let mut p = vec![0xff];
    p.put_u16(code);
    p.push(b'#');
    p.extend_from_slice(&state.as_bytes()[..5.min(state.len())]);
    p.extend_from_slice(msg.as_bytes());
    p
}

pub fn ok_packet() -> Vec<u8> {
    vec![0x00, 0, 0, 0x02, 0, 0, 0]
}

/// OK with a warning count, for SHOW WARNINGS to follow.
pub fn ok_with_warnings(n: u16) -> Vec<u8> {
    let mut p = vec![0x00, 0, 0, 0x02, 0];
    p.put_u16(n);
    p
}
