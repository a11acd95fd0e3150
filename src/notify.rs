//! systemd's readiness protocol without libsystemd: one datagram per state change
//! to the socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract
//! namespace). Without the variable nothing is sent.
//!
//! <https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html>

use std::os::unix::net::UnixDatagram;

/// Sends `state` (for example `READY=1`); failures are logged, never fatal.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let r = (|| -> std::io::Result<()> {
        let s = UnixDatagram::unbound()?;
        let p = path.to_string_lossy();
        if let Some(name) = p.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            s.send_to_addr(state.as_bytes(), &addr)?;
        } else {
            s.send_to(state.as_bytes(), &*p)?;
        }
        Ok(())
    })();
    if let Err(e) = r {
        log::warn!("cannot notify systemd ({state}) through NOTIFY_SOCKET: {e}");
    }
}
