//! The replies being written: at most one per conversation, each with the token that stops
//! it. A new reply in a conversation stops the one before; a reply's registration ends
//! when its [`ActiveReply`] is dropped, and never takes a newer reply's place with it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// The replies being written (see the module's doc).
#[derive(Default)]
pub(crate) struct ActiveReplies {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Tells the replies of one conversation apart.
    next: AtomicU64,
    /// By conversation: the reply's number and its stop token.
    replies: Mutex<HashMap<i64, (u64, CancellationToken)>>,
}

/// A reply being written; dropping it ends its registration.
pub(crate) struct ActiveReply {
    inner: Arc<Inner>,
    conversation_id: i64,
    number: u64,
    cancel: CancellationToken,
}

impl ActiveReplies {
    /// Registers a reply in `conversation_id`, stopping the one being written there.
    pub(crate) fn begin(&self, conversation_id: i64) -> ActiveReply {
        let number = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let previous = self
            .inner
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(conversation_id, (number, cancel.clone()));
        if let Some((_, previous)) = previous {
            previous.cancel();
        }
        ActiveReply {
            inner: Arc::clone(&self.inner),
            conversation_id,
            number,
            cancel,
        }
    }

    /// Stops the reply being written in `conversation_id`. Returns whether one was.
    pub(crate) fn stop(&self, conversation_id: i64) -> bool {
        let replies = self
            .inner
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match replies.get(&conversation_id) {
            Some((_, cancel)) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Whether a reply is being written in `conversation_id`.
    pub(crate) fn is_writing(&self, conversation_id: i64) -> bool {
        self.inner
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&conversation_id)
    }
}

impl ActiveReply {
    /// Cancelled when the reply is stopped, or a newer one in its conversation begins.
    pub(crate) fn cancelled(&self) -> &CancellationToken {
        &self.cancel
    }
}

impl Drop for ActiveReply {
    fn drop(&mut self) {
        let mut replies = self
            .inner
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if replies
            .get(&self.conversation_id)
            .is_some_and(|(number, _)| *number == self.number)
        {
            replies.remove(&self.conversation_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_stopped_by_stop_and_ends_when_dropped() {
        let replies = ActiveReplies::default();
        assert!(!replies.stop(1), "nothing to stop");
        let reply = replies.begin(1);
        assert!(replies.is_writing(1) && !replies.is_writing(2));
        assert!(replies.stop(1));
        assert!(reply.cancelled().is_cancelled());
        drop(reply);
        assert!(!replies.is_writing(1));
    }

    #[test]
    fn a_new_reply_stops_the_one_before_and_outlives_its_end() {
        let replies = ActiveReplies::default();
        let first = replies.begin(1);
        let other_conversation = replies.begin(2);
        let second = replies.begin(1);
        assert!(first.cancelled().is_cancelled());
        assert!(!second.cancelled().is_cancelled());
        assert!(!other_conversation.cancelled().is_cancelled());
        // The first ends after the second began: the second is still the one written.
        drop(first);
        assert!(replies.is_writing(1));
        assert!(replies.stop(1));
        assert!(second.cancelled().is_cancelled());
        drop(second);
        assert!(!replies.is_writing(1) && replies.is_writing(2));
    }
}
