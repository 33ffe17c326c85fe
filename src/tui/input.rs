//! Terminal input on a thread of its own that can be paused: while a shell or an external editor has the
//! terminal, this thread does not read from it, so no keystroke is taken from them, and none is lost after.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossterm::event::{self, Event};
use tokio::sync::mpsc;

/// Handle to the input thread.
#[derive(Clone)]
pub struct Input {
    paused: Arc<AtomicBool>,
    idle: Arc<(Mutex<bool>, Condvar)>,
}

impl Input {
    /// Starts reading terminal events into `tx`.
    pub fn start(tx: mpsc::UnboundedSender<Event>) -> Self {
        let input = Self {
            paused: Arc::new(AtomicBool::new(false)),
            idle: Arc::new((Mutex::new(false), Condvar::new())),
        };
        let me = input.clone();
        std::thread::Builder::new()
            .name("podtui-input".into())
            .spawn(move || me.run(tx))
            .ok();
        input
    }

    fn set_idle(&self, v: bool) {
        let (lock, cv) = &*self.idle;
        if let Ok(mut g) = lock.lock() {
            *g = v;
            cv.notify_all();
        }
    }

    fn run(&self, tx: mpsc::UnboundedSender<Event>) {
        loop {
            if self.paused.load(Ordering::SeqCst) {
                self.set_idle(true);
                let (lock, cv) = &*self.idle;
                let Ok(mut g) = lock.lock() else { return };
                while self.paused.load(Ordering::SeqCst) {
                    g = match cv.wait_timeout(g, Duration::from_millis(100)) {
                        Ok((g, _)) => g,
                        Err(_) => return,
                    };
                }
                *g = false;
                continue;
            }
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    }

    /// Stops reading and waits until the thread is idle (at most one poll interval; one second if it died).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let (lock, cv) = &*self.idle;
        let Ok(g) = lock.lock() else { return };
        let _ = cv.wait_timeout_while(g, Duration::from_secs(1), |idle| !*idle);
    }

    /// Reads again.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        let (_, cv) = &*self.idle;
        cv.notify_all();
    }
}
