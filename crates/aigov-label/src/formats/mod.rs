//! One file per container format; each implements [`crate::format::Format`].

pub mod flac;
pub mod gif;
pub mod jpeg;
pub mod mp3;
pub mod mp4;
pub mod ogg;
pub mod pdf;
pub mod png;
pub mod text;
pub mod tiff;
pub mod wav;
pub mod webp;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod testing {
    use std::io::Cursor;

    use crate::format::{Format, Layout, Limits};

    /// The essence bytes of `bytes` under `layout`.
    pub(crate) fn essence(bytes: &[u8], layout: &Layout) -> Vec<u8> {
        layout
            .essence
            .iter()
            .flat_map(|r| bytes[r.start as usize..r.end as usize].to_vec())
            .collect()
    }

    /// The texts of the primary carriers.
    pub(crate) fn primary(layout: &Layout) -> Vec<String> {
        layout
            .carriers
            .iter()
            .filter(|c| c.primary)
            .map(|c| c.text.clone())
            .collect()
    }

    /// Labels `input` under every `max_metadata` from 1 to `up_to`: whenever writing succeeds,
    /// the copy must read back under the same limits with the label in its primary carrier
    /// (a carrier grown past the limit made labelled copies unreadable). Returns the smallest
    /// limit under which writing succeeded.
    pub(crate) fn labels_read_back_under_every_limit(
        format: &dyn Format,
        input: &[u8],
        up_to: u64,
    ) -> u64 {
        let json = r#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"id"}}"#;
        let mut smallest = None;
        for max_metadata in 1..=up_to {
            let limits = Limits {
                max_metadata,
                ..Limits::default()
            };
            let mut out = Vec::new();
            if format
                .write(&mut Cursor::new(input), &mut out, json, &limits)
                .is_err()
            {
                continue;
            }
            smallest.get_or_insert(max_metadata);
            let l = format
                .layout(&mut Cursor::new(&out), &limits)
                .unwrap_or_else(|e| panic!("max_metadata {max_metadata}: {e}"));
            assert!(
                l.carriers.iter().any(|c| c.primary && c.text == json),
                "max_metadata {max_metadata}: {:?}",
                l.carriers
            );
        }
        smallest.unwrap_or_else(|| panic!("writing failed under every limit up to {up_to}"))
    }
}
