//! The monthly budget: its period in the user's time zone, the thresholds that alert, the
//! projection to the end of the period and the hard-stop gate.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::{ModelPrice, NanoUsd, SpendError, TokenUsage, cost};

/// The thresholds a new budget alerts at, in percent of the monthly amount.
pub const DEFAULT_THRESHOLDS: [u16; 3] = [50, 80, 100];

/// What the user set: how much a month may cost, when the month starts, when to warn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The monthly amount in nano-USD; more than zero.
    pub monthly: NanoUsd,
    /// The day of the month a budget month starts (1–31; in shorter months, their last day).
    pub reset_day: u8,
    /// Percentages of `monthly` that alert once per month, ascending, each 1–1000.
    pub thresholds: Vec<u16>,
    /// Whether sending is blocked once the month's spend reaches the monthly amount.
    pub hard_stop: bool,
}

impl Budget {
    pub fn new(monthly: NanoUsd) -> Self {
        Self {
            monthly,
            reset_day: 1,
            thresholds: DEFAULT_THRESHOLDS.to_vec(),
            hard_stop: false,
        }
    }

    /// Checks the values a user typed, with a message that says what to change. Sorts
    /// and de-duplicates the thresholds.
    pub fn validated(mut self) -> Result<Self, SpendError> {
        let invalid = |why: &str| Err(SpendError::InvalidBudget(why.to_string()));
        if self.monthly <= 0 {
            return invalid("The monthly budget must be more than $0.");
        }
        if self.monthly > 1_000_000 * crate::NANOS_PER_USD {
            return invalid("The monthly budget can be at most $1,000,000.");
        }
        if !(1..=31).contains(&self.reset_day) {
            return invalid("The budget month must start on a day from 1 to 31.");
        }
        if self.thresholds.iter().any(|t| !(1..=1000).contains(t)) {
            return invalid("Alert thresholds must be between 1% and 1000%.");
        }
        if self.thresholds.len() > 10 {
            return invalid("Set at most 10 alert thresholds.");
        }
        self.thresholds.sort_unstable();
        self.thresholds.dedup();
        Ok(self)
    }

    /// The thresholds `spent` has reached.
    pub fn reached(&self, spent: NanoUsd) -> impl Iterator<Item = u16> + '_ {
        self.thresholds
            .iter()
            .copied()
            .filter(move |t| i128::from(spent) * 100 >= i128::from(self.monthly) * i128::from(*t))
    }

    /// How alarming the meter should look at `spent`.
    pub fn level(&self, spent: NanoUsd) -> MeterLevel {
        if spent >= self.monthly {
            return MeterLevel::Over;
        }
        let below_limit: Vec<u16> = self
            .thresholds
            .iter()
            .copied()
            .filter(|t| *t < 100)
            .collect();
        match self.reached(spent).filter(|t| *t < 100).max() {
            None => MeterLevel::Calm,
            Some(highest) if Some(&highest) == below_limit.last() => MeterLevel::Warning,
            Some(_) => MeterLevel::Notice,
        }
    }

    /// Whether a request may leave under the hard stop: only while the month's spend plus
    /// what requests in flight may still cost is below the monthly amount. A request that
    /// is let through may itself cost up to its worst case, so the month ends at most one
    /// request's worst case over.
    pub fn allows(&self, spent: NanoUsd, reserved: NanoUsd) -> bool {
        !self.hard_stop || spent.saturating_add(reserved) < self.monthly
    }
}

/// The meter's colour band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterLevel {
    /// Below every threshold.
    Calm,
    /// Past a threshold, but not yet the last one before the limit.
    Notice,
    /// Past the last threshold before the limit.
    Warning,
    /// At or over the monthly amount.
    Over,
}

/// One budget month, `[start, end)` as UTC epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

impl Period {
    /// The budget month that contains `now` (UTC epoch ms) for a month starting on
    /// `reset_day` at local midnight in `tz`. A reset day past the end of a short month
    /// (31 in February) falls on that month's last day.
    pub fn containing(now: i64, tz: &TimeZone, reset_day: u8) -> Self {
        let today = local_date(now, tz);
        let this_month = reset_date(today.year(), today.month(), reset_day);
        let (start, end) = if today >= this_month {
            let (y, m) = next_month(today.year(), today.month());
            (this_month, reset_date(y, m, reset_day))
        } else {
            let (y, m) = previous_month(today.year(), today.month());
            (reset_date(y, m, reset_day), this_month)
        };
        Self {
            start: local_midnight(start, tz),
            end: local_midnight(end, tz),
        }
    }

    /// The budget month before this one.
    pub fn previous(&self, tz: &TimeZone, reset_day: u8) -> Self {
        Self::containing(self.start - 1, tz, reset_day)
    }

    /// The last calendar day of the period, in `tz` ("by the 30th").
    pub fn last_day(&self, tz: &TimeZone) -> Date {
        local_date(self.end - 1, tz)
    }

    /// Local midnights splitting the period into calendar days: `[d0, d1, …, end]`.
    pub fn day_starts(&self, tz: &TimeZone) -> Vec<i64> {
        let mut starts = Vec::with_capacity(32);
        let mut day = local_date(self.start, tz);
        loop {
            let at = local_midnight(day, tz).max(self.start);
            if at >= self.end {
                break;
            }
            starts.push(at);
            day = day.tomorrow().expect("dates stay in range");
        }
        starts.push(self.end);
        starts
    }

    /// What the period will have cost at this pace: the spend so far, scaled from the time
    /// elapsed to the whole period. The first day counts as a whole day, so one early
    /// request does not project an absurd month.
    pub fn projection(&self, spent: NanoUsd, now: i64) -> NanoUsd {
        const DAY_MS: i64 = 86_400_000;
        let length = (self.end - self.start).max(1);
        let elapsed = (now - self.start).clamp(DAY_MS.min(length), length);
        let projected = i128::from(spent) * i128::from(length) / i128::from(elapsed);
        NanoUsd::try_from(projected).unwrap_or(NanoUsd::MAX)
    }
}

/// The calendar date at `millis` in `tz`.
pub fn local_date(millis: i64, tz: &TimeZone) -> Date {
    Timestamp::from_millisecond(millis)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .date()
}

/// The first instant of `date` in `tz` (midnight, or the first valid time after a
/// daylight-saving gap at midnight), as UTC epoch ms.
pub fn local_midnight(date: Date, tz: &TimeZone) -> i64 {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// The first day of each of the `count` months ending with the month of `now`, oldest
/// first, followed by the first day of the next month: calendar-month boundaries in `tz`.
pub fn month_starts(now: i64, tz: &TimeZone, count: u32) -> Vec<i64> {
    let today = local_date(now, tz);
    let first = today.first_of_month();
    let oldest = first
        .checked_sub((i64::from(count) - 1).months())
        .unwrap_or(first);
    (0..=count)
        .map(|i| {
            let date = oldest.checked_add(i64::from(i).months()).unwrap_or(oldest);
            local_midnight(date, tz)
        })
        .collect()
}

fn reset_date(year: i16, month: i8, reset_day: u8) -> Date {
    let first = Date::new(year, month, 1).expect("valid month");
    let day = i8::try_from(reset_day)
        .unwrap_or(1)
        .clamp(1, first.days_in_month());
    Date::new(year, month, day).expect("day clamped to the month")
}

fn next_month(year: i16, month: i8) -> (i16, i8) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

fn previous_month(year: i16, month: i8) -> (i16, i8) {
    if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    }
}

/// The most a request can cost: its whole prompt uncached, plus every output token it is
/// allowed, at the long-prompt tier when the prompt is past the model's line; with web
/// search, every call it may make, each with the fee and the content a search reads.
pub fn worst_case_cost(
    prompt_tokens: u64,
    max_output_tokens: u64,
    web_searches: u64,
    price: &ModelPrice,
) -> NanoUsd {
    let searched = web_searches.saturating_mul(price.web_search.content_tokens);
    cost(
        &TokenUsage {
            prompt: prompt_tokens.saturating_add(searched),
            completion: max_output_tokens,
            web_searches,
            ..TokenUsage::default()
        },
        price,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NANOS_PER_USD, parse_usd};

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn at(tz_name: &str, text: &str) -> i64 {
        // "2026-03-08T01:30" read as local time in tz_name
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(tz(tz_name))
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn local(tz_name: &str, millis: i64) -> String {
        Timestamp::from_millisecond(millis)
            .unwrap()
            .to_zoned(tz(tz_name))
            .strftime("%Y-%m-%dT%H:%M%:z")
            .to_string()
    }

    #[test]
    fn periods_across_zones_dst_and_short_months() {
        // (zone, now in local time, reset day, expected local start, expected local end)
        let cases = [
            (
                "UTC",
                "2026-11-23T12:00",
                1,
                "2026-11-01T00:00+00:00",
                "2026-12-01T00:00+00:00",
            ),
            // New York crosses the end of DST on Nov 1: the period still starts and ends at
            // local midnight, so it is 30 days and one hour long.
            (
                "America/New_York",
                "2026-11-01T00:30",
                1,
                "2026-11-01T00:00-04:00",
                "2026-12-01T00:00-05:00",
            ),
            // The last minute of October in New York is still October's period.
            (
                "America/New_York",
                "2026-10-31T23:59",
                1,
                "2026-10-01T00:00-04:00",
                "2026-11-01T00:00-04:00",
            ),
            // Reset day 31 in February falls on the 28th; March's period starts on the 31st.
            (
                "Europe/Berlin",
                "2026-02-28T08:00",
                31,
                "2026-02-28T00:00+01:00",
                "2026-03-31T00:00+02:00",
            ),
            (
                "Europe/Berlin",
                "2026-02-27T23:59",
                31,
                "2026-01-31T00:00+01:00",
                "2026-02-28T00:00+01:00",
            ),
            // Leap year: the 29th.
            (
                "Europe/Berlin",
                "2028-02-29T10:00",
                30,
                "2028-02-29T00:00+01:00",
                "2028-03-30T00:00+02:00",
            ),
            // Reset day 15, before the reset day: the period began last month. Across New Year.
            (
                "Asia/Tokyo",
                "2027-01-10T09:00",
                15,
                "2026-12-15T00:00+09:00",
                "2027-01-15T00:00+09:00",
            ),
            // Half-hour and 45-minute offsets.
            (
                "Asia/Kolkata",
                "2026-11-30T23:59",
                1,
                "2026-11-01T00:00+05:30",
                "2026-12-01T00:00+05:30",
            ),
            (
                "Asia/Kathmandu",
                "2026-12-01T00:00",
                1,
                "2026-12-01T00:00+05:45",
                "2027-01-01T00:00+05:45",
            ),
            // Midnight does not exist in Santiago on the day DST starts (2026-09-06): the
            // period starts at the first valid instant, 01:00.
            (
                "America/Santiago",
                "2026-09-20T12:00",
                6,
                "2026-09-06T01:00-03:00",
                "2026-10-06T00:00-03:00",
            ),
        ];
        for (zone, now, reset_day, start, end) in cases {
            let period = Period::containing(at(zone, now), &tz(zone), reset_day);
            assert_eq!(
                local(zone, period.start),
                start,
                "{zone} {now} day {reset_day}"
            );
            assert_eq!(local(zone, period.end), end, "{zone} {now} day {reset_day}");
        }
    }

    #[test]
    fn the_same_instant_is_a_different_month_in_different_zones() {
        let instant = at("UTC", "2026-12-01T02:00");
        let utc = Period::containing(instant, &tz("UTC"), 1);
        let la = Period::containing(instant, &tz("America/Los_Angeles"), 1);
        assert_eq!(local("UTC", utc.start), "2026-12-01T00:00+00:00");
        assert_eq!(
            local("America/Los_Angeles", la.start),
            "2026-11-01T00:00-07:00"
        );
    }

    #[test]
    fn days_of_a_period_follow_local_midnights() {
        let zone = "America/New_York";
        let period = Period::containing(at(zone, "2026-11-10T12:00"), &tz(zone), 1);
        let days = period.day_starts(&tz(zone));
        assert_eq!(days.len(), 31, "30 days and the end");
        assert_eq!(days[0], period.start);
        assert_eq!(*days.last().unwrap(), period.end);
        // Nov 1 is 25 hours long in New York.
        assert_eq!(days[1] - days[0], 25 * 3_600_000);
        assert_eq!(days[2] - days[1], 24 * 3_600_000);
        assert_eq!(period.last_day(&tz(zone)).to_string(), "2026-11-30");
        assert_eq!(
            local(zone, period.previous(&tz(zone), 1).start),
            "2026-10-01T00:00-04:00"
        );
    }

    #[test]
    fn month_starts_cover_twelve_calendar_months() {
        let zone = "Europe/Berlin";
        let starts = month_starts(at(zone, "2026-11-23T12:00"), &tz(zone), 12);
        assert_eq!(starts.len(), 13);
        assert_eq!(local(zone, starts[0]), "2025-12-01T00:00+01:00");
        assert_eq!(local(zone, starts[11]), "2026-11-01T00:00+01:00");
        assert_eq!(local(zone, starts[12]), "2026-12-01T00:00+01:00");
    }

    #[test]
    fn projection_scales_the_pace_to_the_whole_period() {
        let period = Period {
            start: 0,
            end: 30 * 86_400_000,
        };
        let ten_dollars = 10 * NANOS_PER_USD;
        assert_eq!(
            period.projection(ten_dollars, 15 * 86_400_000),
            20 * NANOS_PER_USD
        );
        assert_eq!(period.projection(ten_dollars, 30 * 86_400_000), ten_dollars);
        // In the first hour, the pace is taken over a whole day.
        assert_eq!(
            period.projection(NANOS_PER_USD, 3_600_000),
            30 * NANOS_PER_USD
        );
        assert_eq!(period.projection(0, 3_600_000), 0);
    }

    #[test]
    fn thresholds_and_levels() {
        let budget = Budget::new(10 * NANOS_PER_USD);
        let dollars = |d: i64| d * NANOS_PER_USD;
        assert_eq!(budget.reached(dollars(4)).count(), 0);
        assert_eq!(budget.reached(dollars(5)).collect::<Vec<_>>(), [50]);
        assert_eq!(
            budget.reached(dollars(10)).collect::<Vec<_>>(),
            [50, 80, 100]
        );
        assert_eq!(
            budget.reached(dollars(5) - 1).count(),
            0,
            "exact to the nano"
        );
        assert_eq!(budget.level(dollars(4)), MeterLevel::Calm);
        assert_eq!(budget.level(dollars(6)), MeterLevel::Notice);
        assert_eq!(budget.level(dollars(8)), MeterLevel::Warning);
        assert_eq!(budget.level(dollars(10)), MeterLevel::Over);
        let custom = Budget {
            thresholds: vec![90],
            ..budget.clone()
        };
        assert_eq!(custom.level(dollars(8)), MeterLevel::Calm);
        assert_eq!(custom.level(dollars(9)), MeterLevel::Warning);
    }

    #[test]
    fn validation_explains_what_to_change() {
        let ok = Budget {
            thresholds: vec![100, 50, 50, 80],
            ..Budget::new(NANOS_PER_USD)
        }
        .validated()
        .unwrap();
        assert_eq!(ok.thresholds, [50, 80, 100]);
        for bad in [
            Budget::new(0),
            Budget {
                reset_day: 32,
                ..Budget::new(1)
            },
            Budget {
                reset_day: 0,
                ..Budget::new(1)
            },
            Budget {
                thresholds: vec![0],
                ..Budget::new(1)
            },
        ] {
            let error = bad.validated().unwrap_err().to_string();
            assert!(!error.contains("Budget {"), "{error}");
        }
    }

    #[test]
    fn hard_stop_gate_lets_requests_through_only_below_the_limit() {
        let mut budget = Budget::new(100);
        assert!(budget.allows(1_000, 0), "no hard stop, never blocked");
        budget.hard_stop = true;
        assert!(budget.allows(50, 49));
        assert!(!budget.allows(50, 50));
        assert!(!budget.allows(100, 0));
        assert!(!budget.allows(i64::MAX, i64::MAX));
    }

    #[test]
    fn worst_case_is_the_whole_prompt_and_every_output_token() {
        let catalog = crate::ModelCatalog::builtin();
        let mini = catalog.lookup("gpt-4o-mini").unwrap();
        // 1000 × $0.15/M + 16384 × $0.60/M
        assert_eq!(worst_case_cost(1000, 16_384, 0, mini), 150_000 + 9_830_400);
    }

    #[test]
    fn worst_case_counts_every_search_a_reply_may_make() {
        let catalog = crate::ModelCatalog::builtin();
        let mini = catalog.lookup("gpt-4o-mini").unwrap();
        // Three searches: 3 × $0.01, and 3 × 8,000 tokens read, at $0.15/M.
        assert_eq!(
            worst_case_cost(1000, 16_384, 3, mini),
            150_000 + 9_830_400 + 30_000_000 + 3_600_000
        );
        // What the searches read may carry a prompt over the long-prompt line.
        let big = catalog.lookup("gpt-5.4").unwrap();
        let under = worst_case_cost(270_000, 0, 0, big);
        let over = worst_case_cost(270_000, 0, 1, big);
        assert_eq!(under, parse_usd("0.675").unwrap());
        // 278,000 × $2.50/M × 2 + $0.01
        assert_eq!(over, parse_usd("1.40").unwrap());
    }
}
