//! Why thousands of requests failed, in a minute: which FAILED requests to read first, and
//! what the reasons read so far say about all of them.
//!
//! On both clouds a list call says only id, status and date; the reason costs one describe per
//! request. At the default 0.9 req/s, 3,000 reasons take 55 minutes. So the reasons are read in
//! the order that tells the most soonest:
//!
//! 1. a **stratified random sample** of the unread FAILED: strata are kind × time of creation
//!    (each kind's span cut into [`TIME_STRATA`] equal ranges), each stratum gets picks in
//!    proportion to its size, and within a stratum the order is a keyed hash of the request id
//!    (the service's request ids are random, so the order is random with respect to the cause);
//! 2. then **one per burst** of failures close in time, newest burst first (a burst that the
//!    sample missed can be its own cause);
//! 3. then **the rest**, newest first.
//!
//! [`estimate`] turns the reasons read into a count per cause: exact for what was read, plus
//! the unread requests times the cause's share in the random sample, with a 95 % Wilson score
//! interval (with the finite-population correction, so it closes as the sample nears the
//! whole). Wilson, not the textbook `p ± 1.96·√(p(1−p)/n)`: that interval is empty for a cause
//! the sample has not met yet, and far too narrow at small `n`. A proportional stratified
//! sample has at most the variance of a simple random one, so treating it as simple is on the
//! safe side; `tests` checks the stated coverage over many simulated populations.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::OperationKind;

/// Time ranges per kind in the sample's strata.
pub const TIME_STRATA: usize = 4;
/// How many reasons the random sample reads before bursts and the rest: about ±5 percentage
/// points at 95 % for any cause, and under four minutes at the default budget.
pub const SAMPLE_SIZE: usize = 200;
/// New picks per plan: few, so that picks made while the FAILED listing still grows stay
/// proportional to what is known when they are read.
pub const SAMPLE_BATCH: usize = 10;
/// Failures further apart than this belong to different bursts.
pub const BURST_GAP: chrono::TimeDelta = chrono::TimeDelta::seconds(120);
/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_964;

/// One FAILED request, as the read order sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub kind: OperationKind,
    pub request_id: &'a str,
    pub created: DateTime<Utc>,
    /// Picked for the random sample already (read or not).
    pub picked: bool,
    /// Its reason is still to be read.
    pub unread: bool,
}

/// Which part of the read order a request is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Sample,
    Burst,
    Rest,
}

/// A keyed hash of a request id: the random order within a stratum. Stable from one plan to
/// the next, so the sample grows instead of being drawn anew.
fn random_key(kind: OperationKind, request_id: &str) -> u64 {
    // SipHash with fixed keys: the same order in every run, which keeps tests and the headless
    // command reproducible; the ids themselves are what is random.
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new_with_keys(0x5350_4c45_5353_4f57, 0x7761_7463_6821);
    kind.index().hash(&mut hasher);
    request_id.hash(&mut hasher);
    hasher.finish()
}

/// The read order of the unread requests among `all` (every FAILED known: indices into it,
/// each unread one once): the sample's picks still unread, then up to `new_picks` new picks,
/// then one per burst, then the rest. The strata are made over every FAILED known and count
/// the picks made before, so a sample drawn while the FAILED listing still grows stays
/// proportional to what is known now.
pub fn read_order(all: &[Candidate<'_>], new_picks: usize) -> Vec<(usize, Stage)> {
    let mut order = Vec::new();
    let mut taken = vec![false; all.len()];

    // Strata: kind × time range, over every FAILED known.
    let mut strata: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for kind in OperationKind::ALL {
        let of_kind: Vec<usize> = (0..all.len()).filter(|&i| all[i].kind == kind).collect();
        let (Some(first), Some(last)) = (
            of_kind.iter().map(|&i| all[i].created).min(),
            of_kind.iter().map(|&i| all[i].created).max(),
        ) else {
            continue;
        };
        let span = (last - first).num_milliseconds().max(1) as f64;
        for i in of_kind {
            let at = (all[i].created - first).num_milliseconds() as f64 / span;
            let range = ((at * TIME_STRATA as f64) as usize).min(TIME_STRATA - 1);
            strata.entry((kind.index(), range)).or_default().push(i);
        }
    }
    let total = all.len().max(1) as f64;
    // Per stratum: its share of all, the members that can still be picked (random order), and
    // how many were picked before.
    let mut strata: Vec<(f64, Vec<usize>, usize, usize)> = strata
        .into_values()
        .map(|members| {
            let share = members.len() as f64 / total;
            let picked = members.iter().filter(|&&i| all[i].picked).count();
            let mut open: Vec<usize> = members
                .into_iter()
                .filter(|&i| !all[i].picked && all[i].unread)
                .collect();
            open.sort_by_key(|&i| {
                (
                    random_key(all[i].kind, all[i].request_id),
                    all[i].request_id,
                )
            });
            (share, open, 0, picked)
        })
        .collect();

    // 1. Earlier picks not read yet, then new picks by the largest deficit from a proportional
    //    allocation.
    let mut earlier: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].picked && all[i].unread)
        .collect();
    earlier.sort_by_key(|&i| {
        (
            random_key(all[i].kind, all[i].request_id),
            all[i].request_id,
        )
    });
    for i in earlier {
        taken[i] = true;
        order.push((i, Stage::Sample));
    }
    let picked_before: usize = strata.iter().map(|s| s.3).sum();
    for n in 1..=new_picks {
        let goal = (picked_before + n) as f64;
        let Some(best) = strata
            .iter_mut()
            .filter(|(_, open, next, _)| *next < open.len())
            .max_by(|a, b| {
                let deficit = |s: &(f64, Vec<usize>, usize, usize)| s.0 * goal - (s.2 + s.3) as f64;
                deficit(a).total_cmp(&deficit(b)).then(b.2.cmp(&a.2))
            })
        else {
            break;
        };
        let i = best.1[best.2];
        best.2 += 1;
        taken[i] = true;
        order.push((i, Stage::Sample));
    }

    // 2. One per burst, newest burst first; 3. the rest, newest first.
    let mut by_time: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].unread && !taken[i])
        .collect();
    by_time.sort_by(|&a, &b| {
        all[b]
            .created
            .cmp(&all[a].created)
            .then_with(|| all[a].request_id.cmp(all[b].request_id))
    });
    let mut previous: Option<DateTime<Utc>> = None;
    let mut rest = Vec::new();
    for i in by_time {
        let created = all[i].created;
        let new_burst = previous.is_none_or(|p| p - created > BURST_GAP);
        previous = Some(created);
        if new_burst {
            order.push((i, Stage::Burst));
        } else {
            rest.push(i);
        }
    }
    order.extend(rest.into_iter().map(|i| (i, Stage::Rest)));
    order
}

/// A count that may be an estimate: exact when every reason is read.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The best estimate (exact when `estimated` is false).
    pub count: f64,
    /// Bounds of the 95 % interval of the count (equal to `count` when exact).
    pub low: f64,
    pub high: f64,
    /// Share of all FAILED, and its interval, from 0 to 1.
    pub share: f64,
    pub share_low: f64,
    pub share_high: f64,
    pub estimated: bool,
}

impl Estimate {
    /// Half the interval's width in percentage points, rounded up: what `± N%` says.
    pub fn plus_minus_percent(&self) -> u32 {
        let half = (self.share - self.share_low).max(self.share_high - self.share);
        (half * 100.0).ceil().max(0.0) as u32
    }
}

/// The 95 % Wilson score interval of a share `k / n`, for a sample drawn without replacement
/// from a pool of `pool` items (the finite-population correction narrows it as `n` nears
/// `pool`, down to nothing when the sample is the pool).
pub fn wilson(k: usize, n: usize, pool: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let p = k as f64 / n as f64;
    if pool <= n {
        return (p, p);
    }
    let fpc = (pool - n) as f64 / (pool as f64 - 1.0).max(1.0);
    let z2 = Z95 * Z95 * fpc;
    let n = n as f64;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = (z2.sqrt() / (1.0 + z2 / n)) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// What is known of one cause among the FAILED requests of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CauseTally {
    /// Requests of this cause whose reason was read, by any path.
    pub read: usize,
    /// Of those, the ones read as part of the random sample.
    pub sampled: usize,
}

/// What is known of one kind's FAILED requests: a stratum of the estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindTally {
    /// FAILED requests whose reason is not read yet.
    pub unread: usize,
    /// Reasons read in the random sample.
    pub sample: usize,
}

/// The estimated count of one cause among `failed` FAILED requests, from the reasons read,
/// kind by kind (`kinds[i]` and `cause[i]` for the same kind). A stratified estimate: each
/// kind's unread requests are extrapolated from that kind's own sample, so a sample drawn
/// while one kind's FAILED were listed before the others is not read as if it spoke for all.
/// Its interval combines each kind's Wilson interval (a share of 0 in a small sample still has
/// an upper bound; the finite-population correction closes it as the sample nears the whole):
/// the distances to each end add in quadrature, as independent errors do, so with one kind it
/// is exactly Wilson's. A kind whose unread requests have no sample yet adds everything it
/// could be, from none to all of them.
pub fn estimate(cause: &[CauseTally], kinds: &[KindTally], failed: usize) -> Estimate {
    let total = failed.max(1) as f64;
    let exact: f64 = cause.iter().map(|c| c.read as f64).sum();
    let (mut count, mut unknown_low, mut unknown_high) = (exact, 0.0, 0.0);
    // Squared distances from each kind's estimate to its interval's ends.
    let (mut below, mut above) = (0.0, 0.0);
    let mut estimated = false;
    // The share in every sample together: the best guess for a kind without one.
    let (all_hits, all_n) = cause
        .iter()
        .zip(kinds)
        .fold((0usize, 0usize), |(h, n), (c, k)| {
            (h + c.sampled, n + k.sample)
        });
    let pooled = if all_n == 0 {
        0.0
    } else {
        all_hits as f64 / all_n as f64
    };
    for (c, k) in cause.iter().zip(kinds) {
        if k.unread == 0 {
            continue;
        }
        estimated = true;
        let unread = k.unread as f64;
        if k.sample == 0 {
            let guess = unread * pooled;
            count += guess;
            unknown_low += guess;
            unknown_high += unread - guess;
            continue;
        }
        let p = c.sampled as f64 / k.sample as f64;
        let (lo, hi) = wilson(c.sampled, k.sample, k.unread + k.sample);
        count += unread * p;
        below += (unread * (p - lo)).powi(2);
        above += (unread * (hi - p)).powi(2);
    }
    let ceiling = exact + kinds.iter().map(|k| k.unread as f64).sum::<f64>();
    let low = (count - below.sqrt() - unknown_low).max(exact);
    let high = (count + above.sqrt() + unknown_high).min(ceiling);
    Estimate {
        count,
        low,
        high,
        share: count / total,
        share_low: low / total,
        share_high: high / total,
        estimated,
    }
}

/// The sample's bookkeeping: which requests were picked for it. Kept by whoever plans the
/// reads (the dashboard's state, the headless command), so a reason read later by another path
/// still counts for the sample it was picked for.
#[derive(Debug, Clone, Default)]
pub struct SampleSet {
    /// Request ids picked, by kind: looked up by `&str` without building a key.
    picked: [HashSet<Box<str>>; 3],
}

impl SampleSet {
    pub fn insert(&mut self, kind: OperationKind, request_id: &str) {
        self.picked[kind.index()].insert(Box::from(request_id));
    }

    pub fn contains(&self, kind: OperationKind, request_id: &str) -> bool {
        self.picked[kind.index()].contains(request_id)
    }

    pub fn len(&self) -> usize {
        self.picked.iter().map(HashSet::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn the_sample_is_proportional_to_kind_and_time() {
        let ids: Vec<String> = (0..1200).map(|i| format!("req-{i:05}")).collect();
        // Two thirds creation, one third provisioning; times spread over a day.
        let pending: Vec<Candidate> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Candidate {
                kind: if i % 3 == 2 {
                    OperationKind::PermissionSetProvisioning
                } else {
                    OperationKind::AssignmentCreation
                },
                request_id: id,
                created: at(i as i64 * 72),
                picked: false,
                unread: true,
            })
            .collect();
        let order = read_order(&pending, 60);
        let sample: Vec<usize> = order
            .iter()
            .filter(|(_, s)| *s == Stage::Sample)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(sample.len(), 60);
        let creation = sample
            .iter()
            .filter(|&&i| pending[i].kind == OperationKind::AssignmentCreation)
            .count();
        assert_eq!(creation, 40);
        // Every time range of every kind has its share (within one pick).
        let first_half = sample.iter().filter(|&&i| i < 600).count();
        assert!((29..=31).contains(&first_half), "{first_half}");
        // The first 12 picks already cover all 8 strata.
        let mut strata: HashSet<(OperationKind, bool)> = HashSet::new();
        for &i in &sample[..12] {
            strata.insert((pending[i].kind, i < 600));
        }
        assert_eq!(strata.len(), 4);
        // Each request appears once in the whole order.
        let mut seen: Vec<usize> = order.iter().map(|(i, _)| *i).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), pending.len());
    }

    #[test]
    fn after_the_sample_one_per_burst_newest_first_then_the_rest() {
        let ids: Vec<String> = (0..9).map(|i| format!("r{i}")).collect();
        // Bursts at 0-20 s, 1000-1010 s and 5000 s.
        let times = [0, 10, 20, 1000, 1005, 1010, 5000, 5001, 5002];
        let pending: Vec<Candidate> = ids
            .iter()
            .zip(times)
            .map(|(id, t)| Candidate {
                kind: OperationKind::AssignmentCreation,
                request_id: id,
                created: at(t),
                picked: false,
                unread: true,
            })
            .collect();
        let order = read_order(&pending, 0);
        let bursts: Vec<&str> = order
            .iter()
            .filter(|(_, s)| *s == Stage::Burst)
            .map(|(i, _)| pending[*i].request_id)
            .collect();
        assert_eq!(bursts, vec!["r8", "r5", "r2"]);
        let rest: Vec<&str> = order
            .iter()
            .filter(|(_, s)| *s == Stage::Rest)
            .map(|(i, _)| pending[*i].request_id)
            .collect();
        assert_eq!(rest, vec!["r7", "r6", "r4", "r3", "r1", "r0"]);
    }

    #[test]
    fn picks_made_before_count_so_a_growing_population_stays_proportional() {
        let ids: Vec<String> = (0..200).map(|i| format!("r{i:03}")).collect();
        // The creation FAILED were listed first and 10 of them picked (and read); then the
        // deletion FAILED arrived.
        let all: Vec<Candidate> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| Candidate {
                kind: if i < 100 {
                    OperationKind::AssignmentCreation
                } else {
                    OperationKind::AssignmentDeletion
                },
                request_id: id,
                created: at(0),
                picked: i < 12,
                unread: !(2..12).contains(&i),
            })
            .collect();
        let order = read_order(&all, 10);
        let sample: Vec<usize> = order
            .iter()
            .filter(|(_, s)| *s == Stage::Sample)
            .map(|(i, _)| *i)
            .collect();
        // The two earlier picks still unread come first, then ten new ones, all deletion
        // (creation already has its share).
        assert_eq!(sample.len(), 12);
        assert!(sample[..2].iter().all(|&i| i < 2), "{sample:?}");
        assert!(sample[2..].iter().all(|&i| i >= 100), "{sample:?}");
        // Read requests are not in the order.
        assert!(order.iter().all(|(i, _)| all[*i].unread));
    }

    #[test]
    fn exact_when_every_reason_is_read() {
        let e = estimate(
            &[CauseTally {
                read: 30,
                sampled: 0,
            }],
            &[KindTally::default()],
            100,
        );
        assert!(!e.estimated);
        assert_eq!((e.count, e.low, e.high), (30.0, 30.0, 30.0));
        assert_eq!(e.plus_minus_percent(), 0);
    }

    #[test]
    fn a_cause_the_sample_has_not_met_still_gets_an_upper_bound() {
        let e = estimate(
            &[CauseTally::default()],
            &[KindTally {
                unread: 2_960,
                sample: 40,
            }],
            3_000,
        );
        assert!(e.estimated);
        assert_eq!(e.count, 0.0);
        assert!(e.high > 100.0, "{e:?}");
    }

    #[test]
    fn a_kind_without_a_sample_is_not_extrapolated_from_another_kinds() {
        // Creation: 100 unread, 20 sampled, 10 of the cause. Deletion: 100 unread, no sample.
        let e = estimate(
            &[
                CauseTally {
                    read: 10,
                    sampled: 10,
                },
                CauseTally::default(),
            ],
            &[
                KindTally {
                    unread: 100,
                    sample: 20,
                },
                KindTally {
                    unread: 100,
                    sample: 0,
                },
            ],
            220,
        );
        // The deletion share could be anything: the interval spans its 100 requests.
        assert!(e.high - e.low > 100.0, "{e:?}");
        assert!(
            e.low <= 10.0 + 50.0 && e.high >= 10.0 + 50.0 + 100.0 - 1.0,
            "{e:?}"
        );
    }

    #[test]
    fn wilson_closes_when_the_sample_is_the_whole_pool() {
        assert_eq!(wilson(7, 10, 10), (0.7, 0.7));
        let (lo, hi) = wilson(7, 10, 10_000);
        assert!(lo < 0.45 && hi > 0.85, "{lo} {hi}");
    }

    /// The stated 95 % interval covers the true count in at least 90 % of many simulated
    /// populations: random sizes, kinds and cause mixes that differ by kind and drift in time,
    /// a few reasons already read outside the sample, and sample sizes from tiny to large. The
    /// sample is drawn by [`read_order`] and the interval computed by [`estimate`], the code
    /// the product runs.
    #[test]
    fn the_95_percent_interval_covers_the_true_share_in_at_least_90_percent_of_populations() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let (mut covered, mut judged) = (0usize, 0usize);
        for population in 0..250 {
            let failed = rng.random_range(50..4_000usize);
            let causes = rng.random_range(2..7usize);
            // A cause mix per kind, and a drift over time for the first cause.
            let mixes: Vec<Vec<f64>> = (0..3)
                .map(|_| {
                    let w: Vec<f64> = (0..causes).map(|_| rng.random::<f64>().powi(2)).collect();
                    let sum: f64 = w.iter().sum::<f64>().max(1e-9);
                    w.iter().map(|x| x / sum).collect()
                })
                .collect();
            let drift = rng.random_range(0.0..0.5);
            let ids: Vec<String> = (0..failed)
                .map(|i| uuid::Uuid::from_u128(rng.random::<u128>() ^ i as u128).to_string())
                .collect();
            let mut truth = Vec::with_capacity(failed);
            let mut created = Vec::with_capacity(failed);
            for i in 0..failed {
                let kind = OperationKind::ALL[rng.random_range(0..3usize)];
                let t = i as f64 / failed as f64;
                let mix = &mixes[kind.index()];
                let mut u: f64 = rng.random();
                // Early requests lean to cause 0.
                let mut cause = 0;
                if rng.random::<f64>() >= drift * (1.0 - t) {
                    for (c, w) in mix.iter().enumerate() {
                        cause = c;
                        if u < *w {
                            break;
                        }
                        u -= w;
                    }
                }
                truth.push(cause);
                created.push((kind, at((t * 86_400.0) as i64)));
            }
            // A few read outside the sample (the newest, as the failed lane does).
            let outside = rng.random_range(0..20usize).min(failed / 4);
            let read_first: Vec<usize> = (failed - outside..failed).collect();
            let all: Vec<Candidate> = (0..failed)
                .map(|i| Candidate {
                    kind: created[i].0,
                    request_id: &ids[i],
                    created: created[i].1,
                    picked: false,
                    unread: i < failed - outside,
                })
                .collect();
            let sample_size = [5, 10, 20, 40, 100, 300][population % 6].min(failed - outside);
            let order = read_order(&all, sample_size);
            let sample: Vec<usize> = order
                .iter()
                .filter(|(_, s)| *s == Stage::Sample)
                .map(|(i, _)| *i)
                .collect();
            let in_sample: HashSet<usize> = sample.iter().copied().collect();
            let kind_of = |i: usize| created[i].0.index();
            let mut kinds = [KindTally::default(); 3];
            for i in 0..failed - outside {
                if in_sample.contains(&i) {
                    kinds[kind_of(i)].sample += 1;
                } else {
                    kinds[kind_of(i)].unread += 1;
                }
            }
            for cause in 0..causes {
                let mut tallies = [CauseTally::default(); 3];
                for &i in read_first.iter().chain(&sample) {
                    if truth[i] == cause {
                        tallies[kind_of(i)].read += 1;
                        if in_sample.contains(&i) {
                            tallies[kind_of(i)].sampled += 1;
                        }
                    }
                }
                let e = estimate(&tallies, &kinds, failed);
                let true_count = truth.iter().filter(|&&c| c == cause).count() as f64;
                judged += 1;
                if e.low - 1e-9 <= true_count && true_count <= e.high + 1e-9 {
                    covered += 1;
                }
            }
        }
        let coverage = covered as f64 / judged as f64;
        eprintln!("coverage {coverage:.3} over {judged} causes");
        assert!(
            coverage >= 0.90,
            "coverage {coverage:.3} over {judged} causes"
        );
        // And not vacuous: the intervals are not everything.
        assert!(
            coverage < 0.999,
            "coverage {coverage:.3}: intervals too wide to mean anything"
        );
    }
}
