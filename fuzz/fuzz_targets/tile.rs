//! Tile paths, tile contents and entry bundles.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(id) = aigov_tlog::tile::TileId::parse(text)
    {
        assert_eq!(aigov_tlog::tile::TileId::parse(&id.path()).ok(), Some(id));
    }
    let _ = aigov_tlog::tile::tile_hashes(data);
    if let Ok(entries) = aigov_tlog::tile::unbundle(data) {
        assert_eq!(aigov_tlog::tile::bundle(&entries).ok().as_deref(), Some(data));
    }
});
