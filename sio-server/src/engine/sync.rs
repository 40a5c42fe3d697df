//! The crate's one lock. It lives in the lowest layer so that every layer can use it.

use std::sync::PoisonError;

/// The guard of a [`Mutex`].
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

/// A mutex whose `lock` never fails.
///
/// A panic while a lock is held would poison a `std` mutex. Here callbacks and handlers run after
/// the locks are released (the one piece of application code under a lock is the `Clone` of a
/// value kept with `Socket::insert`), and each critical section finishes its own changes before
/// it can panic, so the data behind a poisoned lock is still consistent and the poison is
/// cleared.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

impl<T> Mutex<T> {
    pub(crate) const fn new(value: T) -> Self {
        Mutex(std::sync::Mutex::new(value))
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks; never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::Mutex;

    #[test]
    fn a_panic_under_the_lock_does_not_poison_it() {
        let mutex = std::sync::Arc::new(Mutex::new(1));
        let held = std::sync::Arc::clone(&mutex);
        let panicked = std::thread::spawn(move || {
            let _guard = held.lock();
            panic!("on purpose");
        })
        .join();
        assert!(panicked.is_err());
        *mutex.lock() += 1;
        assert_eq!(*mutex.lock(), 2);
    }
}
