//! A fixed pool of threads for CPU-heavy work: rendering markdown, the
//! spam scorers that only compute, and password hashing.
//!
//! The HTTP workers are few (one per core) and each serves many requests
//! concurrently; a request that computes for a long time on one stalls every
//! other request of that worker, `/healthz` included. Here such work is a
//! job on a bounded queue, run by as many threads as there are cores: the
//! worker awaits the answer and serves others meanwhile, and when the queue
//! is full further callers wait to enqueue (back-pressure) rather than
//! piling up threads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// Jobs waiting beyond this per thread make callers wait to enqueue.
const QUEUE_PER_THREAD: usize = 64;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CpuError {
    #[error("the CPU pool has stopped")]
    Stopped,
    #[error("a CPU job panicked")]
    Panicked,
}

/// Cheap to clone; every clone feeds the same threads.
#[derive(Clone)]
pub struct CpuPool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl CpuPool {
    /// Starts `threads` threads (at least one).
    pub fn start(threads: usize) -> std::io::Result<CpuPool> {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Job>(threads * QUEUE_PER_THREAD);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let rx = Arc::clone(&rx);
            thread::Builder::new()
                .name(format!("cpu-{n}"))
                .spawn(move || run(&rx))?;
        }
        Ok(CpuPool { jobs: tx, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on one of the pool's threads and returns what it returns.
    pub async fn run<T, F>(&self, f: F) -> Result<T, CpuError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<T>();
        let job: Job = Box::new(move || {
            let _ = answer.send(f());
        });
        self.jobs.send(job).await.map_err(|_| CpuError::Stopped)?;
        // The sender is dropped unanswered only when the job panicked.
        answered.await.map_err(|_| CpuError::Panicked)
    }
}

fn run(rx: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // One idle thread waits on the queue; the others wait for the lock.
        let next = match rx.lock() {
            Ok(mut rx) => rx.blocking_recv(),
            Err(_) => return,
        };
        let Some(job) = next else {
            return; // every sender is gone: the application is shutting down
        };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("panic in a CPU job");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_off_the_caller_and_survives_a_panic() {
        let pool = CpuPool::start(2).unwrap();
        let caller = thread::current().id();
        let ran_on = pool.run(|| thread::current().id()).await.unwrap();
        assert_ne!(ran_on, caller);
        let panicked = pool.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(panicked, Err(CpuError::Panicked)));
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn many_callers_share_the_threads() {
        let pool = CpuPool::start(2).unwrap();
        let runs = (0..500u64).map(|i| {
            let pool = pool.clone();
            async move { pool.run(move || i * 2).await.unwrap() }
        });
        let sum: u64 = futures_util::future::join_all(runs).await.into_iter().sum();
        assert_eq!(sum, (0..500u64).map(|i| i * 2).sum::<u64>());
    }
}
