//! Spreading a fleet across runs, so profiles refreshed together do not
//! come due together forever.

use std::time::Duration;

/// A stable hash of a profile name (FNV-1a, 64 bits).
fn name_hash(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The margin a profile is refreshed with in the run at `now` (Unix
/// seconds), spreading a fleet across runs.
///
/// A token refreshed when it has `margin` left is refreshed again every
/// (3600 − margin) / `interval` runs (3 with the defaults). A fleet refreshed
/// together would stay together: every profile due in the same run, forever.
/// So the fleet is split into that many phases by a stable hash of the
/// name; in the runs of its own phase (wall-clock slot
/// `now / interval mod phases`) a profile may refresh early, with up to
/// (phases − 1) × `interval` more than the margin left. After one cycle each
/// phase refreshes in its own runs, about 1/phases of the fleet per run. A
/// token is never refreshed later than `margin` before expiry.
pub fn effective_margin(name: &str, now: i64, margin: Duration, interval: Duration) -> Duration {
    let interval_s = interval.as_secs();
    if interval_s == 0 {
        return margin;
    }
    let phases = (3600u64.saturating_sub(margin.as_secs()) / interval_s).max(1);
    if phases == 1 {
        return margin;
    }
    let slot = (now.max(0) as u64 / interval_s) % phases;
    if name_hash(name) % phases == slot {
        margin + interval * (phases as u32 - 1)
    } else {
        margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_its_own_phase_a_profile_may_refresh_phases_minus_one_runs_early() {
        let interval = Duration::from_secs(600);
        // (margin, phases = (3600 - margin) / interval, early margin)
        for (margin, phases, early) in [(1800u64, 3u64, 3000u64), (1200, 4, 3000), (600, 5, 3000)] {
            for name in ["acme-us", "globex-eu", "initech-jp", "x"] {
                let margins: Vec<u64> = (0..phases as i64)
                    .map(|slot| {
                        effective_margin(name, slot * 600, Duration::from_secs(margin), interval)
                            .as_secs()
                    })
                    .collect();
                let own = (name_hash(name) % phases) as usize;
                let mut expected = vec![margin; phases as usize];
                expected[own] = early;
                assert_eq!(margins, expected, "{name}, margin {margin}");
            }
        }
    }

    #[test]
    fn a_fleet_refreshed_together_spreads_across_runs() {
        // A 10-minute schedule for 12 hours; every token first issued in the
        // same run (a little after it, as a large fleet's are).
        let (margin, interval) = (Duration::from_secs(1800), Duration::from_secs(600));
        let names: Vec<String> = (0..600).map(|i| format!("seller-{i}")).collect();
        let mut expires: Vec<i64> = (0..600).map(|i| 3600 + (i as i64 % 120)).collect();
        let mut per_run = Vec::new();
        for run in 1..72 {
            let now = run * 600;
            let mut refreshed = 0;
            for (n, e) in names.iter().zip(expires.iter_mut()) {
                assert!(*e - now > 600, "a token came within one run of lapsing");
                if *e - now <= effective_margin(n, now, margin, interval).as_secs() as i64 {
                    *e = now + 3600 + 5;
                    refreshed += 1;
                }
            }
            per_run.push(refreshed);
        }
        // After the first cycle, each run refreshes about a third of the fleet.
        for n in &per_run[6..] {
            assert!((150..=250).contains(n), "{per_run:?}");
        }
        // Stable, never later than the margin, and off without an interval.
        assert_eq!(
            effective_margin("a", 1234, margin, interval),
            effective_margin("a", 1234, margin, interval)
        );
        for now in (0..3600).step_by(600) {
            assert!(effective_margin("a", now, margin, interval) >= margin);
        }
        assert_eq!(effective_margin("a", 0, margin, Duration::ZERO), margin);
        assert_eq!(
            effective_margin("a", 0, Duration::from_secs(3300), interval),
            Duration::from_secs(3300)
        );
    }
}
