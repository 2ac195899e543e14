//! The single-string API allocates nothing when there is nothing to report.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use aigov_pii::Scanner;

struct Counting;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

// A counting allocator is the only way to observe allocations; it defers to System.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

fn allocations(f: impl FnOnce()) -> u64 {
    let before = COUNT.with(Cell::get);
    f();
    COUNT.with(Cell::get) - before
}

#[test]
fn clean_text_allocates_nothing() {
    let scanner = Scanner::with_defaults();
    let texts = [
        "The model answered the question about the weather in 2024 politely.",
        "模型回答了关于天气的问题，语气礼貌，没有泄露任何个人信息。",
        "版本号１２３已发布（全角数字，不是身份证）：详情见公告。",
        "Order 20240315000123 shipped; build 1.2.3.4.5; 12:30:45.",
    ];
    // Warm up: per-thread buffers and regex caches are created once.
    for t in texts {
        let _ = scanner.scan(t);
    }
    for t in texts {
        let n = allocations(|| {
            let f = scanner.scan(t);
            assert!(f.is_empty(), "{t}: {f:?}");
        });
        assert_eq!(n, 0, "{t:?} allocated {n} times");
    }
    // Something to report allocates the result, of course.
    assert!(allocations(|| assert_eq!(scanner.scan("call 13812345678").len(), 1)) > 0);
}
