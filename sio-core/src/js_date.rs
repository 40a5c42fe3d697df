//! JavaScript's calendar: the proleptic Gregorian date of a day, and `toISOString` for dates
//! that arrive as MessagePack extensions.

/// `millis` since the epoch as `YYYY-MM-DDTHH:mm:ss.sssZ`; a year outside 0-9999 is written
/// with a sign and six digits, as JavaScript writes it.
///
/// ```
/// assert_eq!(sio_core::iso_date(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn iso_date(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let in_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_date(days);
    let (hours, minutes) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (seconds, millis) = (in_day / 1000 % 60, in_day % 1000);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())
    };
    format!("{year}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z")
}

/// The proleptic Gregorian date (year, month 1-12, day 1-31) `days` after 1970-01-01, as
/// JavaScript's `Date` counts them (before 1970 too).
///
/// ```
/// assert_eq!(sio_core::civil_date(0), (1970, 1, 1));
/// assert_eq!(sio_core::civil_date(11_016), (2000, 2, 29));
/// assert_eq!(sio_core::civil_date(-1), (1969, 12, 31));
/// ```
pub fn civil_date(days: i64) -> (i64, u32, u32) {
    // Counted in 400-year eras from 0000-03-01, so that the leap day ends each year.
    let shifted = days.saturating_add(719_468); // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Within 1-12 and 1-31 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::iso_date;

    #[test]
    fn dates_match_javascript() {
        // Each from `new Date(ms).toISOString()` in Node.
        assert_eq!(iso_date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_date(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso_date(253_402_300_800_000), "+010000-01-01T00:00:00.000Z");
        assert_eq!(iso_date(-62_198_755_200_000), "-000001-01-01T00:00:00.000Z");
        assert_eq!(
            iso_date(8_640_000_000_000_000),
            "+275760-09-13T00:00:00.000Z"
        );
    }
}
