//! The worker cluster: `workers` timely threads in this process. The coordinator sends each
//! command to every worker's queue (so all see the same order) and unparks the threads.

use super::command::WorkerCommand;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::Thread;

#[derive(Debug, thiserror::Error)]
pub enum DataflowError {
    #[error("cannot start timely workers: {0}")]
    Start(String),
}

pub struct Cluster {
    senders: Vec<mpsc::Sender<WorkerCommand>>,
    threads: Vec<Thread>,
    // Joins the worker threads on drop (after the queues close, workers exit). In a mutex
    // only so that the cluster is `Sync`: it is never locked.
    _guards: Mutex<timely::communication::WorkerGuards<()>>,
}

impl Cluster {
    /// Starts `workers` timely worker threads.
    pub fn start(workers: usize) -> Result<Cluster, DataflowError> {
        assert!(workers > 0, "at least one worker");
        let mut senders = Vec::with_capacity(workers);
        let mut receivers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = mpsc::channel();
            senders.push(tx);
            receivers.push(Some(rx));
        }
        let receivers = Arc::new(Mutex::new(receivers));
        let (thread_tx, thread_rx) = mpsc::channel::<(usize, Thread)>();
        let thread_tx = Mutex::new(thread_tx);
        let config = timely::Config::process(workers);
        let guards = timely::execute(config, move |worker| {
            let index = worker.index();
            let commands = receivers
                .lock()
                .ok()
                .and_then(|mut r| r.get_mut(index).and_then(Option::take));
            let Some(commands) = commands else {
                tracing::error!(index, "worker started without a command queue");
                return;
            };
            if let Ok(tx) = thread_tx.lock() {
                let _ = tx.send((index, std::thread::current()));
            }
            super::worker::run(worker, commands);
        })
        .map_err(DataflowError::Start)?;
        let mut threads: Vec<Option<Thread>> = vec![None; workers];
        for _ in 0..workers {
            let (index, thread) = thread_rx
                .recv()
                .map_err(|_| DataflowError::Start("a worker exited during startup".into()))?;
            threads[index] = Some(thread);
        }
        Ok(Cluster {
            senders,
            threads: threads.into_iter().flatten().collect(),
            _guards: Mutex::new(guards),
        })
    }

    /// Sends `cmd` to every worker, in the same order for all, and wakes them.
    pub fn send(&self, cmd: WorkerCommand) {
        let shares = cmd.into_worker_shares(self.senders.len());
        for ((sender, thread), share) in self.senders.iter().zip(&self.threads).zip(shares) {
            if sender.send(share).is_err() {
                tracing::error!("a worker has stopped; command dropped");
            }
            thread.unpark();
        }
    }

    pub fn workers(&self) -> usize {
        self.senders.len()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Closing the queues ends the workers' loops; wake them so they notice.
        self.senders.clear();
        for thread in &self.threads {
            thread.unpark();
        }
    }
}
