//! Resident memory of the whole process with 100,000 records loaded in the app state.
//! Target (docs/performance.md): at most 60 MB. Prints the figure; fails if over.

#[path = "support/mod.rs"]
mod support;

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    // `cargo bench` passes --bench; criterion-style filters are ignored here.
    let before = resident_kib().unwrap_or(0);
    let state = support::loaded_state(100_000, 200, 50);
    let after = resident_kib().unwrap_or(0);
    let rows = state.active_table().len();
    let mb = after as f64 / 1024.0;
    println!(
        "memory: {rows} records loaded; process resident size {mb:.1} MB (state adds {:.1} MB); target <= 60 MB",
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    if after == 0 {
        println!("memory: /proc/self/status unavailable, not measured");
        return;
    }
    assert!(
        mb <= 60.0,
        "resident size {mb:.1} MB exceeds the 60 MB target"
    );
    std::hint::black_box(state);
}
