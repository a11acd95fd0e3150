//! The error log, in mysqld's format:
//! `2019-01-31T15:07:18.620931+08:00 0 [Note] connect to master ...`.
//!
//! Lines go to `log_file` (reopened on SIGHUP, for logrotate) or to stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A log destination that can be reopened in place.
#[derive(Clone)]
pub struct LogSink {
    inner: Arc<Mutex<Sink>>,
}

enum Sink {
    Stderr,
    File(PathBuf, File),
}

fn open_append(p: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(p)
}

impl LogSink {
    pub fn new(path: Option<&Path>) -> io::Result<LogSink> {
        let sink = match path {
            Some(p) => Sink::File(p.to_path_buf(), open_append(p)?),
            None => Sink::Stderr,
        };
        Ok(LogSink { inner: Arc::new(Mutex::new(sink)) })
    }

    /// Reopens the log file (after logrotate moved it).
    pub fn reopen(&self) -> io::Result<()> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Sink::File(p, f) = &mut *g {
            *f = open_append(p)?;
        }
        Ok(())
    }
}

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *g {
            Sink::Stderr => io::stderr().write_all(buf)?,
            Sink::File(_, f) => f.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The local calendar time of `secs` since the epoch.
fn local_tm(secs: u64) -> Option<libc::tm> {
    // libc marks time_t deprecated on musl only to announce its 64-bit change; the cast holds either way.
    #[allow(deprecated)]
    let secs = secs as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    ok.then_some(tm)
}

/// A time zone as a session sets it (`SET time_zone`): the machine's (`SYSTEM`, and a
/// zone's name, which binlogd has no tables to look up), or a fixed offset east of UTC,
/// in seconds (`+05:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Offset(i64),
}

impl Zone {
    /// The zone of a `time_zone` value: `+HH:MM` or `-HH:MM`, UTC by its names, else
    /// the machine's.
    pub fn of(tz: &str) -> Zone {
        let tz = tz.trim();
        if ["UTC", "UCT", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Zulu"].iter().any(|n| n.eq_ignore_ascii_case(tz)) {
            return Zone::Offset(0);
        }
        let sign = match tz.as_bytes().first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Zone::Local,
        };
        let Some((h, m)) = tz[1..].split_once(':') else { return Zone::Local };
        match (h.parse::<i64>(), m.parse::<i64>()) {
            (Ok(h), Ok(m)) if (0..=14).contains(&h) && (0..60).contains(&m) => Zone::Offset(sign * (h * 3600 + m * 60)),
            _ => Zone::Local,
        }
    }
}

/// Calendar fields: year, month (1-12), day, hour, minute, second.
type Fields = [i64; 6];

/// The calendar time of `secs` since the epoch in `zone`.
fn fields_in(secs: u64, zone: Zone) -> Option<Fields> {
    match zone {
        Zone::Local => {
            let tm = local_tm(secs)?;
            let f = [tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec];
            Some(f.map(i64::from))
        }
        Zone::Offset(off) => {
            let t = i64::try_from(secs).ok()?.checked_add(off)?;
            let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            Some([y, m, d, rem / 3600, rem % 3600 / 60, rem % 60])
        }
    }
}

/// Seconds since the epoch of calendar fields in `zone`, out-of-range fields carried
/// over (a 32nd of January is the 1st of February), as mktime normalizes them.
fn secs_in(f: Fields, zone: Zone) -> Option<u64> {
    let [y, mo, d, h, mi, s] = f;
    match zone {
        Zone::Local => {
            let i = |v: i64| i32::try_from(v).ok();
            // SAFETY: mktime reads and normalizes the tm we own.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            tm.tm_year = i(y - 1900)?;
            tm.tm_mon = i(mo - 1)?;
            tm.tm_mday = i(d)?;
            tm.tm_hour = i(h)?;
            tm.tm_min = i(mi)?;
            tm.tm_sec = i(s)?;
            tm.tm_isdst = -1;
            let t = unsafe { libc::mktime(&mut tm) };
            u64::try_from(t).ok()
        }
        Zone::Offset(off) => {
            let months = y.checked_mul(12)?.checked_add(mo - 1)?;
            let (y, mo) = (months.div_euclid(12), months.rem_euclid(12) + 1);
            let days = days_from_civil(y, mo, 1).checked_add(d - 1)?;
            let t = days.checked_mul(86_400)?.checked_add(h * 3600 + mi * 60 + s)?.checked_sub(off)?;
            u64::try_from(t).ok()
        }
    }
}

/// Parses `YYYY-MM-DD[ HH:MM[:SS]]` in `zone`, as PURGE BINARY LOGS BEFORE takes it
/// (in the session's time zone).
pub fn parse_in(s: &str, zone: Zone) -> Option<SystemTime> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let d: Vec<i32> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i32> = time.split(':').map(|x| x.trim().parse().ok()).collect::<Option<_>>()?;
    let ([y, mo, da], [h, mi, rest @ ..]) = (d.as_slice(), t.as_slice()) else { return None };
    let sec = rest.first().copied().unwrap_or(0);
    if !(1970..=9999).contains(y)
        || !(1..=12).contains(mo)
        || !(1..=31).contains(da)
        || !(0..24).contains(h)
        || !(0..60).contains(mi)
        || !(0..=60).contains(&sec)
    {
        return None;
    }
    let f = [y, mo, da, h, mi, &sec].map(|v| i64::from(*v));
    secs_in(f, zone).map(|t| UNIX_EPOCH + std::time::Duration::from_secs(t))
}

/// `secs` as `YYYY-MM-DD HH:MM:SS` in `zone`, the form of SQL's `NOW()`.
pub fn datetime_in(secs: u64, zone: Zone) -> String {
    match fields_in(secs, zone) {
        Some([y, mo, d, h, mi, s]) => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        None => secs.to_string(),
    }
}

/// Local time of `secs` as `YYYY-MM-DD HH:MM:SS`.
pub fn datetime(secs: u64) -> String {
    datetime_in(secs, Zone::Local)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `secs` since the epoch as a UTC `YYYY-MM-DD HH:MM:SS`: binlog event timestamps,
/// shown as they are, whatever the machine's time zone.
pub fn utc_datetime(secs: u64) -> String {
    datetime_in(secs, Zone::Offset(0))
}

/// The proleptic Gregorian date of a day since 1970-01-01 (the inverse of
/// `days_from_civil`, Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` followed by an optional offset (`Z`, `UTC`,
/// `+HH:MM`, `-HH:MM`, `+HHMM`), read as UTC without one: microseconds since the
/// epoch. The form `--find-time` takes.
pub fn parse_utc_micros(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not a time as YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]");
    let t = s.trim();
    let (date, rest) = t.split_once([' ', 'T']).ok_or_else(bad)?;
    let rest = rest.trim();
    // The offset: after the seconds, a sign or a zone name.
    let cut = rest.find(['+', '-', 'Z', 'U']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(cut);
    let zone = zone.trim();
    let offset_secs: i64 = match zone {
        "" | "Z" | "UTC" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let (h, m): (i64, i64) = (digits[..2].parse().map_err(|_| bad())?, digits[2..].parse().map_err(|_| bad())?);
            if h > 14 || m > 59 {
                return Err(bad());
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>().ok_or_else(bad)?;
    let (secs_text, frac) = clock.trim().split_once('.').unwrap_or((clock.trim(), ""));
    let c: Vec<i64> = secs_text.split(':').map(|x| x.parse().ok()).collect::<Option<_>>().ok_or_else(bad)?;
    let ([y, mo, da], [h, mi, se]) = (d.as_slice(), c.as_slice()) else { return Err(bad()) };
    if !(1970..=9999).contains(y)
        || !(1..=12).contains(mo)
        || !(1..=31).contains(da)
        || !(0..24).contains(h)
        || !(0..60).contains(mi)
        || !(0..60).contains(se)
        || frac.len() > 6
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let micros: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().map_err(|_| bad())? };
    let secs = days_from_civil(*y, *mo, *da) * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    Ok(secs * 1_000_000 + micros)
}

/// SQL's interval units, as `DATE_ADD` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// `secs` moved by `n` units of time in `zone`: days, months and years by the
/// calendar, as SQL's `DATE_ADD` does.
pub fn shift_in(secs: u64, unit: Unit, n: i64, zone: Zone) -> Option<u64> {
    let mut f = fields_in(secs, zone)?;
    // As the 32-bit fields of a struct tm could hold them.
    let n = i64::from(i32::try_from(n).ok()?);
    let add = |v: i64, by: i64| v.checked_add(by).filter(|x| i32::try_from(*x).is_ok());
    match unit {
        Unit::Second => f[5] = add(f[5], n)?,
        Unit::Minute => f[4] = add(f[4], n)?,
        Unit::Hour => f[3] = add(f[3], n)?,
        Unit::Day => f[2] = add(f[2], n)?,
        Unit::Week => f[2] = add(f[2], n.checked_mul(7)?)?,
        Unit::Month | Unit::Year => {
            // The day is kept within the month reached (Jan 31 + 1 month is Feb 28
            // or 29), as in MySQL, rather than run into the next month.
            let months = if unit == Unit::Year { n.checked_mul(12)? } else { n };
            let total = add(f[0].checked_mul(12)?, f[1] - 1 + months)?;
            let (y, m) = (total.div_euclid(12), total.rem_euclid(12));
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let last = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize];
            f[0] = y;
            f[1] = m + 1;
            f[2] = f[2].min(last);
        }
    }
    secs_in(f, zone)
}

/// Local time as `YYYY-MM-DDTHH:MM:SS.uuuuuu+HH:MM`.
pub fn timestamp() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let Some(tm) = local_tm(now.as_secs()) else {
        return format!("{}.{:06}", now.as_secs(), now.subsec_micros());
    };
    let off = tm.tm_gmtoff / 60;
    let (sign, off) = if off < 0 { ('-', -off) } else { ('+', off) };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_micros(),
        sign,
        off / 60,
        off % 60
    )
}

/// Local time as `YYMMDD HH:MM:SS`, the form of mysqld's `Last_IO_Error_Timestamp`.
pub fn short_time(secs: u64) -> String {
    match local_tm(secs) {
        Some(tm) => format!(
            "{:02}{:02}{:02} {:02}:{:02}:{:02}",
            tm.tm_year % 100,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        ),
        None => secs.to_string(),
    }
}

pub fn level_word(l: log::Level) -> &'static str {
    match l {
        log::Level::Error => "ERROR",
        log::Level::Warn => "Warning",
        log::Level::Info => "Note",
        log::Level::Debug | log::Level::Trace => "Debug",
    }
}

/// Installs the logger. `BINLOGD_LOG` (env_logger syntax) can raise or lower the level.
pub fn init(sink: LogSink) {
    let mut b = env_logger::Builder::new();
    b.filter_level(log::LevelFilter::Info);
    if let Ok(spec) = std::env::var("BINLOGD_LOG") {
        b.parse_filters(&spec);
    }
    b.format(|buf, rec| writeln!(buf, "{} 0 [{}] {}", timestamp(), level_word(rec.level()), rec.args()));
    b.target(env_logger::Target::Pipe(Box::new(sink)));
    let _ = b.try_init();
}

#[cfg(test)]
mod tests {
    use super::{datetime_in, parse_in, parse_utc_micros, shift_in, utc_datetime, Unit, Zone};

    #[test]
    fn a_sessions_offset_zone_shows_reads_and_shifts_times_by_the_calendar() {
        assert_eq!(Zone::of("+05:30"), Zone::Offset(19_800));
        assert_eq!(Zone::of("-08:00"), Zone::Offset(-28_800));
        assert_eq!(Zone::of("utc"), Zone::Offset(0));
        for local in ["SYSTEM", "Europe/Berlin", "+15:00", "+1:xx", ""] {
            assert_eq!(Zone::of(local), Zone::Local, "{local}");
        }
        let tokyo = Zone::Offset(9 * 3600);
        // 2023-11-14 22:13:20 UTC.
        assert_eq!(datetime_in(1_700_000_000, tokyo), "2023-11-15 07:13:20");
        let at = |s: &str, z| parse_in(s, z).unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(at("2023-11-15 07:13:20", tokyo), 1_700_000_000);
        assert_eq!(at("2026-03-01 00:30", Zone::Offset(-3600)), at("2026-03-01 01:30", Zone::Offset(0)));
        let jan31 = at("2026-01-31 10:00:00", tokyo);
        assert_eq!(datetime_in(shift_in(jan31, Unit::Month, 1, tokyo).unwrap(), tokyo), "2026-02-28 10:00:00");
        assert_eq!(datetime_in(shift_in(jan31, Unit::Day, 1, tokyo).unwrap(), tokyo), "2026-02-01 10:00:00");
        assert_eq!(datetime_in(shift_in(jan31, Unit::Year, -1, tokyo).unwrap(), tokyo), "2025-01-31 10:00:00");
        assert_eq!(datetime_in(shift_in(jan31, Unit::Hour, -11, tokyo).unwrap(), tokyo), "2026-01-30 23:00:00");
        assert!(shift_in(jan31, Unit::Year, i64::MAX, tokyo).is_none());
        assert!(shift_in(0, Unit::Second, -1, Zone::Offset(0)).is_none(), "before the epoch");
    }

    #[test]
    fn utc_times_read_and_print_whatever_the_zone() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00");
        assert_eq!(utc_datetime(1_764_979_200 + 3661), "2025-12-06 01:01:01");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29 00:00:00");
        let at = |s: &str| parse_utc_micros(s).unwrap();
        assert_eq!(at("2025-12-06 01:01:01"), (1_764_979_200 + 3661) * 1_000_000);
        assert_eq!(at("2025-12-06 01:01:01.5"), (1_764_979_200 + 3661) * 1_000_000 + 500_000);
        assert_eq!(at("2025-12-06 03:01:01+02:00"), at("2025-12-06 01:01:01Z"));
        assert_eq!(at("2025-12-05T20:01:01-0500"), at("2025-12-06 01:01:01 UTC"));
        for bad in [
            "2025-12-06",
            "2025-13-01 00:00:00",
            "2025-12-06 24:00:00",
            "x",
            "2025-12-06 01:01:01+2",
            "2025-12-06 01:01:01.1234567",
        ] {
            assert!(parse_utc_micros(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamp_has_mysql_shape() {
        let t = super::timestamp();
        // 2019-01-31T15:07:18.620931+08:00
        assert_eq!(t.len(), 32, "{t}");
        assert_eq!(&t[10..11], "T");
        assert!(t[26..27] == *"+" || t[26..27] == *"-");
    }
}
