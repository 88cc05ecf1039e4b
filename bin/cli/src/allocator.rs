//! The process's allocator: mimalloc, with its first arena sized for a short command.
//!
//! mimalloc instead of glibc malloc: under `callflow dev` load glibc kept the memory freed by
//! each thread in that thread's arena, so the server's RSS climbed for minutes (16 → 62 MiB in
//! a 5-minute soak) while heaptrack showed the live heap back at its start size once load
//! stopped. mimalloc reuses it, provided threads live long: `cmd_dev` also keeps a fixed
//! blocking pool (measurements in bin/loadtest/README.md).
//!
//! Most runs of `callflow` are short (`synth` of one stack is about 3 ms, `--version` about
//! 1 ms), and there mimalloc's default first arena costs more than the work: it reserves
//! 1 GiB, advises the kernel to back it with transparent huge pages, and writes the arena's
//! bitmaps for the whole GiB. Every first touch of a 2 MiB region then zeroes all of it:
//! `--version` faulted 3 huge pages and one-stack synth 5 (`thp_fault_alloc`). A 64 MiB first
//! arena, the smallest mimalloc reserves (it adds one 32 MiB object chunk to any request and
//! rounds up), keeps the bitmaps small and the heap within fewer huge pages (one-stack synth 3);
//! later arenas are reserved as the heap grows (mimalloc doubles their size every eight), so a
//! long `dev` or `soak` run still ends up with large arenas.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
#[cfg(target_os = "linux")]
use std::ffi::{c_int, c_long};

use libmimalloc_sys::{mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned};
use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};

#[global_allocator]
static GLOBAL: Mimalloc = Mimalloc;

/// The alignment every mimalloc block has whatever its size: block sizes are whole machine
/// words and pages start aligned (16 bytes is only guaranteed from 16-byte bins up, and there
/// are 24-byte bins).
const WORD_ALIGN: usize = std::mem::align_of::<usize>();

/// mimalloc as the global allocator, asking for alignment only when a type needs more than a
/// word.
///
/// The `mimalloc` crate's allocator passes every layout's alignment to `mi_malloc_aligned`,
/// whose fast path covers blocks up to 1 KiB; above that it takes the generic path, which
/// over-allocates `size + align - 1` unless the size is a power of two. Most of the CLI's big
/// buffers (JSON text, `Vec`s growing to hold a stack) are word-aligned and not powers of two,
/// so each growth went the slow way into a larger bin. Every mimalloc block is word-aligned,
/// so those layouts need nothing but `mi_malloc`.
struct Mimalloc;

// SAFETY: each method hands the layout's size to mimalloc and, when the layout needs more
// than a word's alignment, its alignment too; mimalloc returns null on failure and blocks
// aligned as asked (word alignment always). Frees and reallocations go to the allocator that
// made the block: mimalloc's `mi_free`/`mi_realloc` accept blocks from its aligned calls.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's contract).
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout` (the caller's contract).
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

/// The size of mimalloc's first arena, in KiB (the unit of its size options).
#[cfg(target_os = "linux")]
const FIRST_ARENA_KIB: c_long = 64 * 1024;

/// The environment variable through which a user sets the arena size themselves; when it is
/// set, [`size_first_arena`] leaves mimalloc's reading of it alone.
#[cfg(target_os = "linux")]
const ARENA_RESERVE_ENV: &str = "MIMALLOC_ARENA_RESERVE";

/// `mi_option_arena_reserve`'s position in `mi_option_t` (mimalloc v3's `mimalloc.h`, as
/// vendored by libmimalloc-sys 0.1.49; the crate's bindings do not name it). The test
/// `first_arena_is_sized_for_short_runs` reads the reserved size back from mimalloc's own
/// statistics, so a version whose enum moved fails it.
#[cfg(target_os = "linux")]
const MI_OPTION_ARENA_RESERVE: c_int = 23;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    /// mimalloc's option setter (`void mi_option_set(mi_option_t option, long value)`),
    /// declared here with the option as the C enum's integer: libmimalloc-sys declares it
    /// only under its `extended` feature, with a type that has no constant for this option.
    fn mi_option_set(option: c_int, value: c_long);
}

/// Sets the first arena's size to [`FIRST_ARENA_KIB`] unless the user set
/// `MIMALLOC_ARENA_RESERVE`. It has to run before the process's first allocation, when
/// mimalloc reserves its first arena, and std allocates before `main` (its runtime set-up),
/// so on Linux it runs as an ELF constructor ([`SIZE_FIRST_ARENA`]): after mimalloc's own
/// (priority 101, which reads the environment into its options) and std's (priority 99),
/// before `main`. Elsewhere the first arena keeps mimalloc's default.
#[cfg(target_os = "linux")]
extern "C" fn size_first_arena() {
    // `var_os` looks the name up without allocating (a stack copy of the short key).
    if std::env::var_os(ARENA_RESERVE_ENV).is_some() {
        return;
    }
    // SAFETY: mimalloc's options are plain integers in a static table; setting one is a
    // store, and no other thread exists yet. The option's index is checked against
    // mimalloc's statistics by a test (above).
    unsafe { mi_option_set(MI_OPTION_ARENA_RESERVE, FIRST_ARENA_KIB) };
}

/// [`size_first_arena`] in the executable's constructor list.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static SIZE_FIRST_ARENA: extern "C" fn() = size_first_arena;

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `size` bytes at `block` with a pattern [`assert_pattern`] checks.
    ///
    /// # Safety
    /// `block` is valid for `size` bytes of writes.
    unsafe fn fill(block: *mut u8, size: usize) {
        for i in 0..size {
            // SAFETY: within the block (the caller's contract).
            unsafe { block.add(i).write((i % 251) as u8) };
        }
    }

    /// # Safety
    /// `block` is valid for `size` bytes of reads.
    unsafe fn assert_pattern(block: *const u8, size: usize) {
        for i in 0..size {
            // SAFETY: within the block (the caller's contract).
            assert_eq!(unsafe { block.add(i).read() }, (i % 251) as u8, "byte {i}");
        }
    }

    /// Every block honours its layout's alignment, on the word path and the aligned one, small
    /// and past mimalloc's 1 KiB fast path, and keeps its bytes when it grows or shrinks.
    #[test]
    fn blocks_are_aligned_and_keep_their_bytes_through_realloc() {
        let sizes: [usize; 11] = [1, 7, 8, 24, 100, 1024, 1025, 4097, 65_536, 70_001, 3 << 20];
        for align in [1, 2, 4, 8, 16, 32, 64, 4096, 65_536] {
            for &size in &sizes {
                for new_size in [size * 3 + 5, size.div_ceil(2)] {
                    let layout = Layout::from_size_align(size, align).expect("layout");
                    let new_layout = Layout::from_size_align(new_size, align).expect("layout");
                    // SAFETY: non-zero sizes and power-of-two alignments; each block is used
                    // within its size and freed once with its current layout.
                    unsafe {
                        let block = GLOBAL.alloc(layout);
                        assert!(!block.is_null());
                        assert_eq!(block as usize % align, 0, "alloc {size} align {align}");
                        fill(block, size);
                        let moved = GLOBAL.realloc(block, layout, new_size);
                        assert!(!moved.is_null());
                        assert_eq!(
                            moved as usize % align,
                            0,
                            "realloc {new_size} align {align}"
                        );
                        assert_pattern(moved, size.min(new_size));
                        GLOBAL.dealloc(moved, new_layout);
                    }
                }
                let layout = Layout::from_size_align(size, align).expect("layout");
                // SAFETY: as above.
                unsafe {
                    let zeroed = GLOBAL.alloc_zeroed(layout);
                    assert!(!zeroed.is_null());
                    assert_eq!(
                        zeroed as usize % align,
                        0,
                        "alloc_zeroed {size} align {align}"
                    );
                    assert!((0..size).all(|i| zeroed.add(i).read() == 0));
                    GLOBAL.dealloc(zeroed, layout);
                }
            }
        }
    }
}
