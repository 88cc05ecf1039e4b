//! One function over many items on all cores: synth's per-stack rendering and writing.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of every item, in item order. With at least `threads_from` items (and two or more) the
/// items are shared out on all cores, the calling thread being one of the workers; fewer run on
/// the calling thread alone, without reading the core count (the cgroup quota files, ~0.1 ms).
///
/// Workers take the next item as they finish one instead of a fixed share each: on a shared
/// machine one descheduled thread would otherwise hold the rest back. A worker's panic is
/// raised again on the calling thread.
pub(crate) fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    threads_from: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = if items.len() < threads_from.max(2) {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(items.len())
    };
    if workers == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                break done;
            };
            done.push((index, f(item)));
        }
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for handle in handles {
            done.extend(
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_on_one_thread_or_many() {
        let items: Vec<u64> = (0..500).collect();
        let squares: Vec<u64> = items.iter().map(|n| n * n).collect();
        assert_eq!(map_parallel(&items, 2, |n| n * n), squares);
        assert_eq!(map_parallel(&items, 1000, |n| n * n), squares);
        assert_eq!(map_parallel(&items[..1], 2, |n| n * n), vec![0]);
        assert!(map_parallel(&items[..0], 2, |n| n * n).is_empty());
    }

    #[test]
    #[should_panic(expected = "item 300")]
    fn a_workers_panic_reaches_the_caller() {
        let items: Vec<u64> = (0..500).collect();
        map_parallel(&items, 2, |n| {
            assert_ne!(*n, 300, "item 300");
        });
    }
}
