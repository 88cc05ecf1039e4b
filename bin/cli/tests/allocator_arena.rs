//! The allocator set-up of the real binary (`src/allocator.rs`): its first mimalloc arena is
//! sized for a short command, and a user's `MIMALLOC_ARENA_RESERVE` still wins. Both are read
//! back from mimalloc's own statistics (`MIMALLOC_SHOW_STATS`), which also proves that the
//! option index the binary sets is mimalloc's `arena_reserve`.
#![cfg(target_os = "linux")]

use std::process::Command;

/// The arena memory mimalloc reserved over a `callflow --version` run, in MiB, from the
/// `reserved` row of its statistics (printed to stderr at exit).
fn reserved_mib(extra_env: &[(&str, &str)]) -> f64 {
    let output = Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("--version")
        .env("MIMALLOC_SHOW_STATS", "1")
        .env_remove("MIMALLOC_ARENA_RESERVE")
        .envs(extra_env.iter().copied())
        .output()
        .expect("run callflow --version");
    assert!(output.status.success(), "{output:?}");
    let stats = String::from_utf8_lossy(&output.stderr);
    let row = stats
        .lines()
        .find(|line| line.trim_start().starts_with("reserved"))
        .unwrap_or_else(|| panic!("no `reserved` row in mimalloc's statistics:\n{stats}"));
    // "  reserved  :    66.3 MiB    66.3 MiB ...": the peak, with its unit.
    let mut fields = row.split(':').nth(1).expect("a value").split_whitespace();
    let value: f64 = fields.next().expect("a number").parse().expect("a number");
    match fields.next() {
        Some("MiB") => value,
        Some("GiB") => value * 1024.0,
        unit => panic!("unexpected unit {unit:?} in {row:?}"),
    }
}

#[test]
fn first_arena_is_sized_for_short_runs() {
    let reserved = reserved_mib(&[]);
    // mimalloc's default is 1 GiB; the binary asks for 64 MiB (plus the arena's own metadata).
    assert!(
        (64.0..100.0).contains(&reserved),
        "reserved {reserved} MiB, expected the 64 MiB first arena"
    );
}

#[test]
fn users_arena_reserve_setting_wins() {
    let reserved = reserved_mib(&[("MIMALLOC_ARENA_RESERVE", "512MiB")]);
    assert!(
        (512.0..600.0).contains(&reserved),
        "reserved {reserved} MiB, expected the user's 512 MiB"
    );
}
