//! The threads that run blocking database work: as many as the pool has
//! connections, shared by every HTTP worker.
//!
//! Handing each call to tokio's blocking pool instead would start a thread
//! whenever none is idle at that instant; under load that is dozens of
//! threads (one pool per actix worker runtime), most of them waiting on the
//! connection pool, each with its own stack and allocator caches. Here a call
//! is a job on one bounded queue; a job that waited longer than the pool's
//! acquire timeout is answered "unavailable" without running, as a request
//! waiting for a connection would be.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::r2d2::Pool;
use tokio::sync::{mpsc, oneshot};

use super::connection::{AnyConnection, ConnectionManager};
use super::DbError;

type Job = Box<dyn FnOnce(Result<&mut AnyConnection, DbError>) + Send>;

/// Jobs waiting beyond this make callers wait to enqueue (back-pressure).
const QUEUE_PER_THREAD: usize = 256;

struct Queued {
    job: Job,
    enqueued: Instant,
}

#[derive(Clone)]
pub struct Workers {
    jobs: mpsc::Sender<Queued>,
}

impl Workers {
    /// Starts `threads` threads taking connections from `pool`.
    pub fn start(
        pool: Pool<ConnectionManager>,
        threads: usize,
        acquire_timeout: Duration,
    ) -> Result<Workers, DbError> {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Queued>(threads * QUEUE_PER_THREAD);
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..threads {
            let (rx, pool) = (Arc::clone(&rx), pool.clone());
            thread::Builder::new()
                .name(format!("db-{n}"))
                .spawn(move || run(&rx, &pool, acquire_timeout))
                .map_err(|e| DbError::unavailable_because("cannot start a database thread", e))?;
        }
        Ok(Workers { jobs: tx })
    }

    /// Runs `f` with a pooled connection on one of the threads.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, DbError>>();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(conn.map(f));
        });
        let queued = Queued {
            job,
            enqueued: Instant::now(),
        };
        self.jobs
            .send(queued)
            .await
            .map_err(|_| DbError::unavailable("the database threads have stopped"))?;
        // The sender is dropped unanswered only when the job panicked.
        answered
            .await
            .map_err(|_| DbError::Task("a database job panicked"))?
    }
}

fn run(
    rx: &Mutex<mpsc::Receiver<Queued>>,
    pool: &Pool<ConnectionManager>,
    acquire_timeout: Duration,
) {
    loop {
        // One idle thread waits on the queue; the others wait for the lock.
        let next = match rx.lock() {
            Ok(mut rx) => rx.blocking_recv(),
            Err(_) => return,
        };
        let Some(Queued { job, enqueued }) = next else {
            return; // every sender is gone: the application is shutting down
        };
        let waited = enqueued.elapsed();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if waited > acquire_timeout {
                return job(Err(DbError::unavailable(format!(
                    "no database connection free within {acquire_timeout:?}"
                ))));
            }
            match pool.get_timeout(acquire_timeout.saturating_sub(waited)) {
                Ok(mut conn) => job(Ok(&mut conn)),
                Err(e) => job(Err(DbError::from(e))),
            }
        }));
        if outcome.is_err() {
            tracing::error!("panic in a database job");
        }
    }
}
