//! `--wall-start`: the wall clock's start, as seconds after the Unix epoch or
//! as an RFC 3339 date.

use std::time::Duration;

/// Parses `SECONDS` (`1000000000`, `1000000000.25`: up to nine decimals) or
/// an RFC 3339 date-time (`2001-09-09T01:46:40Z`, `2024-02-29T12:00:00.5+01:00`;
/// `t` and a space are accepted for `T`, `z` for `Z`). Times before the
/// epoch are refused: the virtual wall clock counts up from it.
pub fn parse_wall_start(s: &str) -> Result<Duration, String> {
    let parsed = if s.contains('-') || s.contains(':') {
        parse_rfc3339(s)
    } else {
        parse_seconds(s)
    };
    parsed.map_err(|why| {
        format!("`{s}`: {why} (give seconds after the Unix epoch, or an RFC 3339 date such as 2001-09-09T01:46:40Z)")
    })
}

/// `<digits>[.<1-9 digits>]`.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let secs = digits(whole).ok_or("not a number of seconds")?;
    Ok(Duration::new(
        secs,
        fraction_nanos(fraction, s.contains('.'))?,
    ))
}

/// The nanoseconds of a decimal fraction (`present`: a `.` was written, so
/// at least one digit must follow).
fn fraction_nanos(fraction: &str, present: bool) -> Result<u32, String> {
    if !present {
        return Ok(0);
    }
    if fraction.is_empty() || fraction.len() > 9 {
        return Err("a fraction of a second has 1 to 9 digits".into());
    }
    let value = digits(fraction).ok_or("a fraction of a second has only digits")?;
    Ok((value * 10u64.pow(9 - fraction.len() as u32)) as u32)
}

/// A non-empty run of ASCII digits as a number (`None` for anything else or
/// an overflow).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD(T| )HH:MM:SS[.frac](Z|±HH:MM)`. A leap second (`:60`) is
/// counted as the second after `:59`, as POSIX time does.
fn parse_rfc3339(s: &str) -> Result<Duration, String> {
    let bytes = s.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err("not an RFC 3339 date-time".into());
    }
    let (date, rest) = s.split_at(10);
    let rest = &rest[1..];
    let field = |text: &str, what: &str| digits(text).ok_or(format!("bad {what}"));
    let fixed = |text: &str, at: usize, sep: u8| text.as_bytes().get(at) == Some(&sep);
    if !fixed(date, 4, b'-') || !fixed(date, 7, b'-') {
        return Err("the date is not YYYY-MM-DD".into());
    }
    let (year, month, day) = (
        field(&date[0..4], "year")?,
        field(&date[5..7], "month")?,
        field(&date[8..10], "day")?,
    );
    if rest.len() < 9 || !fixed(rest, 2, b':') || !fixed(rest, 5, b':') {
        return Err("the time is not HH:MM:SS".into());
    }
    let (hour, minute, second) = (
        field(&rest[0..2], "hour")?,
        field(&rest[3..5], "minute")?,
        field(&rest[6..8], "second")?,
    );
    let mut rest = &rest[8..];
    let mut nanos = 0;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let end = after_dot
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after_dot.len());
        nanos = fraction_nanos(&after_dot[..end], true)?;
        rest = &after_dot[end..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && fixed(rest, 3, b':') => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err("the offset is not Z or ±HH:MM".into()),
            };
            let (h, m) = (field(&rest[1..3], "offset")?, field(&rest[4..6], "offset")?);
            if h > 23 || m > 59 {
                return Err("the offset is out of range".into());
            }
            sign * (h * 3600 + m * 60) as i64
        }
        _ => return Err("the offset is not Z or ±HH:MM".into()),
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("no such date".into());
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time of day".into());
    }
    let days = days_since_epoch(year, month, day);
    let local = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    let utc = local - offset_secs;
    let secs = u64::try_from(utc).map_err(|_| "the date is before the Unix epoch".to_string())?;
    Ok(Duration::new(secs, nanos))
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given (valid) proleptic Gregorian date,
/// negative before it: whole years, then whole months of the last year.
fn days_since_epoch(year: u64, month: u64, day: u64) -> i64 {
    let year_days = |y: u64| if is_leap(y) { 366 } else { 365 };
    let mut days: i64 = 0;
    if year >= 1970 {
        days += (1970..year).map(year_days).sum::<i64>();
    } else {
        days -= (year..1970).map(year_days).sum::<i64>();
    }
    days += (1..month)
        .map(|m| days_in_month(year, m) as i64)
        .sum::<i64>();
    days + day as i64 - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_dates_name_the_same_instants() {
        let secs = |s| parse_wall_start(s).map(|d| (d.as_secs(), d.subsec_nanos()));
        assert_eq!(secs("0"), Ok((0, 0)));
        assert_eq!(secs("1000000000"), Ok((1_000_000_000, 0)));
        assert_eq!(secs("1000000000.25"), Ok((1_000_000_000, 250_000_000)));
        assert_eq!(secs("1970-01-01T00:00:00Z"), Ok((0, 0)));
        // 10^9 s after the epoch, the well-known "billennium".
        assert_eq!(secs("2001-09-09T01:46:40Z"), Ok((1_000_000_000, 0)));
        assert_eq!(secs("2001-09-09 03:46:40+02:00"), Ok((1_000_000_000, 0)));
        assert_eq!(
            secs("2001-09-08t20:46:40.5-05:00"),
            Ok((1_000_000_000, 500_000_000))
        );
        // Leap days: 2000 is a leap year (divisible by 400), 2100 is not.
        assert_eq!(secs("2000-03-01T00:00:00Z"), Ok((951_868_800, 0)));
        assert_eq!(secs("2024-02-29T00:00:00Z"), Ok((1_709_164_800, 0)));
        assert_eq!(secs("2038-01-19T03:14:08Z"), Ok((1 << 31, 0)));
        // Every day of 1970-2400 against a running count.
        let mut expected = 0i64;
        for year in 1970..2400 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(
                        days_since_epoch(year, month, day),
                        expected,
                        "{year}-{month}-{day}"
                    );
                    expected += 1;
                }
            }
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        for (input, why) in [
            ("", "not a number"),
            ("-5", "not an RFC 3339"),
            ("12x", "not a number"),
            ("1.", "1 to 9 digits"),
            ("1.0000000001", "1 to 9 digits"),
            ("99999999999999999999", "not a number"),
            ("1969-12-31T23:59:59Z", "before the Unix epoch"),
            ("1970-01-01T00:30:00+01:00", "before the Unix epoch"),
            ("2023-02-29T00:00:00Z", "no such date"),
            ("2100-02-29T00:00:00Z", "no such date"),
            ("2024-13-01T00:00:00Z", "no such date"),
            ("2024-01-01T24:00:00Z", "no such time"),
            ("2024-01-01T00:00:00", "not an RFC 3339"),
            ("2024-01-01T00:00:00+0100", "offset"),
            ("2024-01-01X00:00:00Z", "not an RFC 3339"),
        ] {
            let err = parse_wall_start(input).expect_err(input);
            assert!(err.contains(why), "{input}: {err}");
        }
    }
}
