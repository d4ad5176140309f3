//! The last lines a local server's program wrote to stderr, kept to say why it failed:
//! read in bounded pieces however much it writes, each line cut short.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

/// How many lines are kept, and how long each may be.
const LINES: usize = 20;
const LINE_CHARS: usize = 300;

pub(crate) struct StderrTail {
    lines: Mutex<VecDeque<String>>,
    /// Set once there is nothing more to read: the program closed its stderr (it exited),
    /// or there never was one (a remote server, a program that did not start).
    ended: watch::Sender<bool>,
}

impl StderrTail {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            lines: Mutex::default(),
            ended: watch::channel(false).0,
        })
    }

    /// There is nothing to read.
    pub(crate) fn end(&self) {
        self.ended.send_replace(true);
    }

    /// Keeps the tail of `err` until it closes.
    pub(crate) fn read_from(self: &Arc<Self>, err: tokio::process::ChildStderr) {
        tokio::spawn(Arc::clone(self).keep(err));
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The lines once the program's stderr has closed, or what there is after `wait`
    /// (a program that failed may still be writing its last words).
    pub(crate) async fn lines_at_end(&self, wait: Duration) -> Vec<String> {
        let mut ended = self.ended.subscribe();
        let _ = tokio::time::timeout(wait, ended.wait_for(|ended| *ended)).await;
        self.lines()
    }

    async fn keep(self: Arc<Self>, mut err: tokio::process::ChildStderr) {
        let mut buffer = [0u8; 8192];
        let mut line: Vec<u8> = Vec::new();
        while let Ok(read) = err.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            for &byte in &buffer[..read] {
                if byte == b'\n' {
                    self.push(&mut line);
                } else if line.len() < LINE_CHARS * 4 {
                    line.push(byte);
                }
            }
        }
        self.push(&mut line);
        self.end();
    }

    fn push(&self, line: &mut Vec<u8>) {
        let text: String = String::from_utf8_lossy(line)
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .take(LINE_CHARS)
            .collect();
        line.clear();
        if text.trim().is_empty() {
            return;
        }
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == LINES {
            lines.pop_front();
        }
        lines.push_back(text);
    }
}
