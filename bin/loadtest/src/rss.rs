//! Resident memory of a process, from `/proc/PID/status` (Linux).

/// `VmRSS` of process `pid` in KiB, or `None` when it cannot be read.
pub fn resident_set_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t   12345 kB\nThreads: 3\n"),
            Some(12_345)
        );
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert!(resident_set_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
