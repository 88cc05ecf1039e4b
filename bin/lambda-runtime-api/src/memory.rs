//! Memory use of an environment's process, as Lambda reports it (`Max Memory Used`).

/// The peak resident set size of process `pid` in MB (`VmHWM` of `/proc/<pid>/status`,
/// rounded up), or `None` where it cannot be read (the process is gone, or no procfs).
pub fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm_mb(&status)
}

/// `VmHWM:   12345 kB` → MB, rounded up.
fn parse_vm_hwm_mb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    5121 kB\nVmRSS:\t 4000 kB\n";
        assert_eq!(parse_vm_hwm_mb(status), Some(6));
        assert_eq!(parse_vm_hwm_mb("Name: x\n"), None);
    }

    #[test]
    fn reads_this_process() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mb(std::process::id()).is_some_and(|mb| mb > 0));
        }
    }
}
