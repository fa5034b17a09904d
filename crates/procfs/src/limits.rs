//! Limits for the tests that make a demo's syscall fail on purpose.

use crate::maps::Mapping;

/// The address space `maps` takes, in KiB, as `ulimit -v` counts it:
/// every mapping but [vsyscall], which lies above user space.
pub fn address_space_kib(maps: &[Mapping]) -> u64 {
    maps.iter()
        .filter(|m| m.path != "[vsyscall]")
        .map(Mapping::size)
        .sum::<u64>()
        / 1024
}

/// `ulimit -v` that leaves room for what `maps` holds less `less` bytes,
/// plus `more` bytes: a `walk_under` limit under which the next mmap of
/// more than `more - less` bytes fails with ENOMEM.
pub fn ulimit_v(maps: &[Mapping], less: u64, more: u64) -> String {
    format!(
        "ulimit -v {}",
        address_space_kib(maps) - less / 1024 + more / 1024
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn our_own_address_space_is_counted() {
        let maps = crate::maps::read(std::process::id()).unwrap();
        let kib = super::address_space_kib(&maps);
        assert!(kib > 1024, "{kib} KiB");
        assert_eq!(
            super::ulimit_v(&maps, 8192, 4096),
            format!("ulimit -v {}", kib - 4)
        );
    }
}
