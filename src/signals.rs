//! Signals: SIGTERM/SIGINT stop (queued events are written and fsynced first);
//! SIGHUP reopens the error log for logrotate and reads the TLS files again when one
//! changed.

use std::sync::Arc;
use std::thread;

use log::{info, warn};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::logging::LogSink;
use crate::replica::Control;
use crate::tls::Live;

/// Starts the signal thread.
pub fn spawn(ctl: Arc<Control>, sink: LogSink, tls: Arc<Live>) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    thread::Builder::new().name("signals".into()).spawn(move || {
        for sig in signals.forever() {
            match sig {
                SIGHUP => {
                    match sink.reopen() {
                        Ok(()) => info!("received SIGHUP: reopened the error log"),
                        Err(e) => warn!("received SIGHUP: cannot reopen the error log: {e}"),
                    }
                    // logrotate sends SIGHUP daily: the TLS files are read only when one
                    // changed, so keys readable by root alone give no warning each time.
                    if tls.changed() {
                        let _ = tls.reload_logged("received SIGHUP");
                    }
                }
                _ => {
                    info!("received signal {sig}: stopping after writing and syncing what is queued");
                    crate::notify::notify("STOPPING=1");
                    ctl.request_stop();
                }
            }
        }
    })?;
    Ok(())
}
