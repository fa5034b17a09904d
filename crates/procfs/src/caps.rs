//! This process's capabilities (`capabilities(7)`), for the tests whose
//! outcome depends on them rather than on the uid: a container's root may
//! lack some.

/// `CAP_SYS_RESOURCE`: raise a hard resource limit
/// (`include/uapi/linux/capability.h`).
pub const CAP_SYS_RESOURCE: u32 = 24;

/// The effective set, from the `CapEff:` line of /proc/self/status.
pub fn effective() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .expect("a CapEff line")
}

/// Whether `cap` is in the effective set.
pub fn has(cap: u32) -> bool {
    effective() & (1 << cap) != 0
}
