//! Tool calls waiting for the user's word: the reply that asks waits on an [`Asked`]; the
//! user's answer (`Engine::tool_call_decide`) reaches it. An answer to a call no one waits
//! for (the reply was stopped meanwhile) finds nothing and says so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::api::ToolDecision;

type Waiting = Arc<Mutex<HashMap<(i64, String), oneshot::Sender<ToolDecision>>>>;

/// The calls waiting for an answer (see the module's doc).
#[derive(Default)]
pub(crate) struct Approvals {
    waiting: Waiting,
}

/// A question asked; dropping it takes the question back.
pub(crate) struct Asked {
    waiting: Waiting,
    key: (i64, String),
    answer: Option<oneshot::Receiver<ToolDecision>>,
}

impl Approvals {
    /// Asks about call `call_id` of a reply in `conversation_id`.
    pub(crate) fn ask(&self, conversation_id: i64, call_id: &str) -> Asked {
        let (tx, rx) = oneshot::channel();
        let key = (conversation_id, call_id.to_string());
        self.lock().insert(key.clone(), tx);
        Asked {
            waiting: Arc::clone(&self.waiting),
            key,
            answer: Some(rx),
        }
    }

    /// Gives the user's answer to the call; `false` when no one waits for it.
    pub(crate) fn answer(
        &self,
        conversation_id: i64,
        call_id: &str,
        decision: ToolDecision,
    ) -> bool {
        let sender = self.lock().remove(&(conversation_id, call_id.to_string()));
        sender.is_some_and(|tx| tx.send(decision).is_ok())
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(i64, String), oneshot::Sender<ToolDecision>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Asked {
    /// The user's answer; `None` if the question was taken back without one.
    pub(crate) async fn answer(&mut self) -> Option<ToolDecision> {
        self.answer.take()?.await.ok()
    }
}

impl Drop for Asked {
    fn drop(&mut self) {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_the_call_asked_about_and_no_other() {
        let approvals = Approvals::default();
        let mut asked = approvals.ask(1, "call_a");
        let _other = approvals.ask(2, "call_a");
        assert!(!approvals.answer(1, "call_b", ToolDecision::Once));
        assert!(approvals.answer(1, "call_a", ToolDecision::Deny));
        assert_eq!(asked.answer().await, Some(ToolDecision::Deny));
        assert!(
            !approvals.answer(1, "call_a", ToolDecision::Once),
            "answered once"
        );
    }

    #[test]
    fn a_question_taken_back_takes_no_answer() {
        let approvals = Approvals::default();
        drop(approvals.ask(1, "call_a"));
        assert!(!approvals.answer(1, "call_a", ToolDecision::Once));
    }
}
