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
        format!(
            "{sign}${}.{:02}",
            grouped(cents_total / 100),
            cents_total % 100
        )
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

/// `1,234,567`: whole dollars in threes, as en-US writes them.
fn grouped(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// nano-USD as an exact decimal with nine places and no grouping, so a spreadsheet sums
/// it to the nano (exports).
pub fn exact_usd(nanos: NanoUsd) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    format!(
        "{sign}{}.{:09}",
        abs / NANOS_PER_USD as u64,
        abs % NANOS_PER_USD as u64
    )
}

/// How amounts are shown to people, written once: `format_usd` must give these, and the
/// UI's `formatUsd` reads the same table from `ui/src/features/spend/usd-cases.json`.
pub const FORMAT_CASES: &[(NanoUsd, &str)] = &[
    (0, "$0.00"),
    (3_420_000_000, "$3.42"),
    (10 * NANOS_PER_USD, "$10.00"),
    (14_995_000, "$0.01"),
    (10_000_000, "$0.01"),
    (9_999_999, "$0.01"),
    (10_800, "$0.00001"),
    (4_400_000, "$0.0044"),
    (1_350, "<$0.00001"),
    (5_000, "$0.00001"),
    (4_999, "<$0.00001"),
    (1, "<$0.00001"),
    (-1_500_000_000, "-$1.50"),
    (-4_400_000, "-$0.0044"),
    (999_994_999_999, "$999.99"),
    (999_995_000_000, "$1,000.00"),
    (1_000 * NANOS_PER_USD, "$1,000.00"),
    (1_234_567_000_000_000, "$1,234,567.00"),
    (-12_345_678_900_000_000, "-$12,345,678.90"),
];

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
    fn amounts_read_as_the_shared_table_says() {
        for (nanos, expected) in FORMAT_CASES {
            assert_eq!(format_usd(*nanos), *expected, "{nanos}");
        }
    }

    /// The UI's copy of the table is this one. `UPDATE_FIXTURES=1` rewrites it.
    #[test]
    fn the_ui_reads_the_same_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../ui/src/features/spend/usd-cases.json");
        let rows: Vec<String> = FORMAT_CASES
            .iter()
            .map(|(nanos, text)| format!("  [{nanos}, {}]", serde_json::to_string(text).unwrap()))
            .collect();
        let expected = format!("[\n{}\n]\n", rows.join(",\n"));
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "{} is stale: run `UPDATE_FIXTURES=1 cargo test -p tally-spend`",
            path.display()
        );
    }

    #[test]
    fn exact_dollars_keep_every_nano() {
        assert_eq!(exact_usd(0), "0.000000000");
        assert_eq!(exact_usd(10_800), "0.000010800");
        assert_eq!(exact_usd(12_500_000_001), "12.500000001");
        assert_eq!(exact_usd(1_234_567 * NANOS_PER_USD), "1234567.000000000");
        assert_eq!(exact_usd(-1), "-0.000000001");
        assert_eq!(exact_usd(i64::MIN), "-9223372036.854775808");
    }
}
