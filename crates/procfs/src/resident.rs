//! What of a process is in memory at one moment: its smaps and the
//! present bits of every mapping, read together (for the tests and the
//! tour).

use std::io;

use crate::pagemap;
use crate::smaps::{self, Smap};

/// smaps and, per mapping in the same order, its pages' present bits.
#[derive(Clone, Debug)]
pub struct Resident {
    pub smaps: Vec<Smap>,
    pub present: Vec<Vec<bool>>,
}

impl Resident {
    /// Reads /proc/PID/smaps, then /proc/PID/pagemap for each mapping.
    pub fn read(pid: u32) -> io::Result<Resident> {
        let smaps = smaps::read(pid)?;
        let file = pagemap::open(pid)?;
        let present = smaps
            .iter()
            .map(|s| pagemap::present(&file, &s.mapping))
            .collect::<io::Result<_>>()?;
        Ok(Resident { smaps, present })
    }

    /// The smaps entry and present bits of the mapping holding `addr`.
    pub fn at(&self, addr: u64) -> Option<(&Smap, &[bool])> {
        let i = self.smaps.iter().position(|s| s.mapping.contains(addr))?;
        Some((&self.smaps[i], &self.present[i]))
    }

    /// How many pages of the mapping holding `addr` are present.
    pub fn present_pages(&self, addr: u64) -> usize {
        self.at(addr)
            .map_or(0, |(_, bits)| bits.iter().filter(|&&b| b).count())
    }
}
