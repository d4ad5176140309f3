use crate::SpendError;

/// Money in nano-USD (10⁻⁹ US dollars). Never a float.
pub type NanoUsd = i64;

pub const NANOS_PER_USD: NanoUsd = 1_000_000_000;

/// Parses a dollar amount such as `10`, `12.5`, `$0.075` into nano-USD, exactly.
pub fn parse_usd(text: &str) -> Result<NanoUsd, SpendError> {
    let invalid = || SpendError::InvalidAmount(text.to_string());
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('$').unwrap_or(trimmed).trim();
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > 9
    {
        return Err(invalid());
    }
    let whole: NanoUsd = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction_nanos: NanoUsd = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<9}");
        padded.parse().map_err(|_| invalid())?
    };
    whole
        .checked_mul(NANOS_PER_USD)
        .and_then(|n| n.checked_add(fraction_nanos))
        .ok_or_else(invalid)
}

/// Formats nano-USD for people: cents for ordinary amounts, more digits below a cent so a
/// tiny request does not read as free.
pub fn format_usd(nanos: NanoUsd) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    let dollars = abs / 1_000_000_000;
    let rest = abs % 1_000_000_000;
    if abs == 0 || abs >= 10_000_000 {
        // Round to the cent, half up.
        let cents_total = (abs + 5_000_000) / 10_000_000;
        format!("{sign}${}.{:02}", cents_total / 100, cents_total % 100)
    } else if abs < 5_000 {
        // Would round to $0.00000: say it is tiny, never that it is free.
        format!("<{sign}$0.00001")
    } else {
        // Below one cent: five decimals are enough to tell amounts apart.
        let tenths_of_milli = (rest + 5_000) / 10_000;
        let shown = format!("{dollars}.{tenths_of_milli:05}");
        let shown = shown.trim_end_matches('0');
        format!("{sign}${shown}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<NanoUsd>)] = &[
            ("10", Some(10 * NANOS_PER_USD)),
            ("$12.50", Some(12_500_000_000)),
            (" 0.075 ", Some(75_000_000)),
            (".5", Some(500_000_000)),
            ("0.000000001", Some(1)),
            ("0.0000000001", None),
            ("", None),
            (".", None),
            ("-1", None),
            ("1e3", None),
            ("1,000", None),
            ("99999999999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_usd(text).ok(), *expected, "{text:?}");
        }
    }

    #[test]
    fn format_table() {
        let cases: &[(NanoUsd, &str)] = &[
            (0, "$0.00"),
            (3_420_000_000, "$3.42"),
            (10 * NANOS_PER_USD, "$10.00"),
            (14_995_000, "$0.01"),
            (10_800, "$0.00001"),
            (4_400_000, "$0.0044"),
            (1_350, "<$0.00001"),
            (5_000, "$0.00001"),
            (1, "<$0.00001"),
            (-1_500_000_000, "-$1.50"),
        ];
        for (nanos, expected) in cases {
            assert_eq!(format_usd(*nanos), *expected, "{nanos}");
        }
    }
}
