//! Read-only memory maps of files: the one place in aigov with `unsafe` code.
//!
//! Why: two hot paths read every byte of their input and were measured spending a large share
//! of their time in the kernel copying page-cache pages into buffers (see docs/performance.md):
//! hashing a model for signing and hashing a file's essence to verify its label. A read-only
//! shared mapping lets them read the page cache in place. (The PII scanner was measured too and
//! reads: mapping gained nothing there.)
//!
//! The hazard of any mapping, which no safe wrapper removes: if another process truncates the
//! file while it is mapped, touching the missing pages raises SIGBUS and the process dies; bytes
//! another process rewrites change under the reader. ripgrep and b3sum accept the same trade.
//! Every caller offers a way to read instead (`--no-mmap` on the CLI) for files that others may
//! be writing, and maps only regular files.
#![deny(missing_docs)]

use std::fs::File;
use std::io;
use std::ops::Deref;

/// A read-only map of a file, or of a byte range of it.
#[derive(Debug)]
pub struct Map(memmap2::Mmap);

impl Deref for Map {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Map {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Maps all of `file` when it is a regular file of at least `min_len` bytes (`None`
/// otherwise: the caller reads it).
pub fn map_file(file: &File, min_len: u64) -> io::Result<Option<Map>> {
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() < min_len.max(1) {
        return Ok(None);
    }
    map_range(file, 0, meta.len())
}

/// Maps bytes `start..end` of `file`, which the caller has checked lie within the file (the
/// offset need not be page-aligned); `None` for an empty range or one that does not fit in
/// memory.
pub fn map_range(file: &File, start: u64, end: u64) -> io::Result<Option<Map>> {
    let Ok(len) = usize::try_from(end.saturating_sub(start)) else {
        return Ok(None);
    };
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: a read-only, shared mapping used only as bytes. Its hazard (another process
    // truncating or rewriting the file meanwhile) is the one documented above; callers offer
    // reading instead.
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::MmapOptions::new().offset(start).len(len).map(file) }?;
    // A hint for read-ahead on files not yet cached; whether the kernel takes it changes
    // nothing else.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Some(Map(map)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn maps_whole_files_and_unaligned_ranges() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).unwrap();
        let file = f.reopen().unwrap();
        assert_eq!(&*map_file(&file, 1).unwrap().unwrap(), &data[..]);
        assert!(map_file(&file, 20_001).unwrap().is_none());
        let part = map_range(&file, 4097, 12_345).unwrap().unwrap();
        assert_eq!(&*part, &data[4097..12_345]);
        assert!(map_range(&file, 5, 5).unwrap().is_none());
        let empty = tempfile::NamedTempFile::new().unwrap();
        assert!(map_file(&empty.reopen().unwrap(), 0).unwrap().is_none());
    }

    #[test]
    fn directories_are_not_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let d = File::open(dir.path()).unwrap();
        assert!(map_file(&d, 0).unwrap().is_none());
    }
}
