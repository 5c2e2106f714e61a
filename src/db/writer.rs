//! The SQLite write path: one thread owns the only writing connection and
//! commits queued writes together (group commit).
//!
//! SQLite allows one writer at a time, and with `synchronous = FULL` every
//! commit waits for an fsync. Writing from many pooled connections would make
//! them queue on the file lock, one fsync each. Here every write is a job on a
//! channel; the thread takes all jobs waiting, runs each inside its own
//! savepoint of one transaction, commits once, and only then answers each
//! caller. A caller is acknowledged only after its data is durable, and a job
//! that fails rolls back alone without disturbing the others in its batch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use tokio::sync::{mpsc, oneshot};

use super::connection::{AnyConnection, ConnectionManager};
use super::DbError;
use crate::telemetry::Chain;

/// What a job leaves behind once it has run: called with the outcome of the
/// batch's commit, it sends the caller its answer.
type Completion = Box<dyn FnOnce(Option<&DbError>) + Send>;
type Job = Box<dyn FnOnce(&mut AnyConnection) -> Completion + Send>;

/// Jobs committed in one transaction at most; bounds the latency a large
/// burst adds to its first caller.
const MAX_BATCH: usize = 512;
/// Writes waiting beyond this make callers wait to enqueue (back-pressure).
const QUEUE_CAPACITY: usize = 8192;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread with its own connection.
    pub fn start(manager: ConnectionManager) -> Result<Writer, DbError> {
        let conn = manager.establish().map_err(DbError::from)?;
        let (tx, rx) = mpsc::channel::<Job>(QUEUE_CAPACITY);
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(manager, conn, rx))
            .map_err(|e| DbError::unavailable_because("cannot start the writer thread", e))?;
        Ok(Writer { jobs: tx })
    }

    /// Runs `f` in its own savepoint of the next batch, and resolves once that
    /// batch is committed (or has failed).
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &mut AnyConnection| {
            let result = conn.transaction(f);
            Box::new(move |commit_error: Option<&DbError>| {
                let outcome = match commit_error {
                    Some(error) => Err(E::from(error.clone())),
                    None => result,
                };
                let _ = answer.send(outcome);
            })
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| E::from(DbError::unavailable("the writer has stopped")))?;
        answered.await.map_err(|_| {
            E::from(DbError::unavailable(
                "the write was abandoned by the writer",
            ))
        })?
    }
}

fn run(manager: ConnectionManager, conn: AnyConnection, mut rx: mpsc::Receiver<Job>) {
    let mut conn = Some(conn);
    while let Some(first) = rx.blocking_recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }

        let connection = match conn.as_mut() {
            Some(c) => c,
            None => match manager.establish() {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tracing::error!(error = %Chain(&e), "sqlite writer cannot reconnect; failing {} writes", batch.len());
                    // Dropping the jobs drops their answer channels: each
                    // caller gets "unavailable", none hangs.
                    continue;
                }
            },
        };

        let size = batch.len();
        let mut completions: Vec<Completion> = Vec::with_capacity(size);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            in_immediate_transaction(connection, |c| {
                for job in batch {
                    completions.push(job(c));
                }
            })
        }));
        match outcome {
            Ok(Ok(())) => {
                for done in completions {
                    done(None);
                }
            }
            Ok(Err(e)) => {
                let error = DbError::from(e);
                tracing::error!(error = %Chain(&error), batch = size, "sqlite batch commit failed");
                for done in completions {
                    done(Some(&error));
                }
            }
            Err(_) => {
                // A bug panicked inside a job. The transaction state is
                // unknown: drop the connection (rolling back) and open a new
                // one for the next batch. This batch's callers get errors.
                tracing::error!(
                    batch = size,
                    "panic in a sqlite write job; batch rolled back"
                );
                conn = None;
                let error = DbError::unavailable("write failed");
                for done in completions {
                    done(Some(&error));
                }
            }
        }
    }
}

/// Runs `f` in a transaction opened with `BEGIN IMMEDIATE`, which takes the
/// write lock at once (waiting up to `busy_timeout` for it). A deferred
/// transaction whose first statement reads would take it only at its first
/// write, and SQLite fails that upgrade at once, without waiting, if anyone
/// else (another process, say) wrote since the read began.
fn in_immediate_transaction(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection),
) -> diesel::QueryResult<()> {
    let AnyConnection::Sqlite(sqlite) = conn else {
        // Only SQLite has a writer thread.
        return conn.transaction(|c| {
            f(c);
            Ok(())
        });
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    f(conn);
    let AnyConnection::Sqlite(sqlite) = conn else {
        unreachable!("the connection cannot change backend");
    };
    match AnsiTransactionManager::commit_transaction(sqlite) {
        Ok(()) => Ok(()),
        Err(e) => {
            // COMMIT failing leaves the transaction open: roll it back so
            // the next batch starts clean (an error here changes nothing
            // for the callers, who are told of `e`).
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            Err(e)
        }
    }
}
