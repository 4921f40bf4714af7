//! This process's peak resident memory, from Linux's `/proc/self/status` (`VmHWM`, the
//! high-water mark of the resident set). `None` where that file does not exist.

/// Peak resident bytes of this process so far.
pub fn peak_rss_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// The value of `/proc/self/status`'s line `field` (given in kB), in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_resident_memory_is_read_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            let peak = super::peak_rss_bytes().expect("VmHWM in /proc/self/status");
            assert!(
                peak > 1 << 20,
                "a running test process has held over 1 MiB: {peak}"
            );
        }
    }
}
