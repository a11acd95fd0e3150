//! Binlog file names: what the primary may call a file, and which name follows which.

/// A name the primary may give a binlog file: a plain name, no path, no dot-start.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// `mysql-bin.000012` -> (`mysql-bin`, 12).
pub fn split_name(name: &str) -> Option<(&str, u64)> {
    let (base, num) = name.rsplit_once('.')?;
    if base.is_empty() || num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, num.parse().ok()?))
}

/// Can `next` be the file after `current`? The same base name and a higher number
/// (a name without a number is not compared).
pub(super) fn follows(current: &str, next: &str) -> bool {
    let plain = crate::binlog::sources::plain;
    match (split_name(plain(current)), split_name(plain(next))) {
        (Some((b1, n1)), Some((b2, n2))) => b1 == b2 && n2 > n1,
        _ => true,
    }
}
