//! Conversation history: the sidebar's pages, opening a conversation, search, renaming,
//! pins and the Trash (30 days, then gone; Undo and Restore before that).

use std::collections::HashMap;

use tally_store::{Store, TRASH_KEEPS_FOR_MS};

use crate::api::{
    ConversationCursor, ConversationListQuery, ConversationPage, ConversationSummary,
    ConversationView, MessageView, ReplyUsage, SearchHitView, SearchView,
};
use crate::{CoreError, Engine};

/// Conversations per sidebar page unless the UI asks otherwise, and the most it may ask.
const PAGE_DEFAULT: u32 = 100;
const PAGE_MAX: u32 = 500;
/// Longest title a user may give (titles show on one line in the sidebar).
const TITLE_MAX_CHARS: usize = 200;

impl Engine {
    /// One page of the sidebar: the pinned conversations (first page only), then the most
    /// recently active.
    pub fn conversation_list(
        &self,
        query: &ConversationListQuery,
    ) -> Result<ConversationPage, CoreError> {
        let limit = query.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX);
        let after = query.after.map(|c| tally_store::ConversationCursor {
            updated_at: c.updated_at,
            id: c.id,
        });
        let store = self.store();
        let pinned = match after {
            None => store.pinned_conversations()?,
            Some(_) => Vec::new(),
        };
        let recent = store.conversation_page(after, limit)?;
        let next = (recent.len() == limit as usize)
            .then(|| recent.last())
            .flatten()
            .map(|last| ConversationCursor {
                updated_at: last.updated_at,
                id: last.id,
            });
        Ok(ConversationPage {
            pinned: pinned.into_iter().map(Into::into).collect(),
            recent: recent.into_iter().map(Into::into).collect(),
            next,
        })
    }

    /// A conversation with the whole branch on screen.
    pub fn conversation_get(&self, id: i64) -> Result<ConversationView, CoreError> {
        self.conversation_open(id, None)
    }

    /// A conversation with the last `tail` messages of the branch on screen (all of them
    /// when `None`): a long one is drawn from its end at once, and the rest fetched after.
    pub fn conversation_open(
        &self,
        id: i64,
        tail: Option<u32>,
    ) -> Result<ConversationView, CoreError> {
        let store = self.store();
        let conversation = store.conversation(id)?;
        let mut messages = store.current_branch(id)?;
        let earlier = tail.map_or(0, |tail| messages.len().saturating_sub(tail as usize));
        messages.drain(..earlier);
        let mut siblings = store.siblings_on_branch(id, &messages)?;
        let costs: HashMap<i64, tally_store::MessageCost> = store
            .message_costs(id)?
            .into_iter()
            .map(|cost| (cost.message_id, cost))
            .collect();
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let mut attachments = crate::attachments::message_views(store.attachments_of(&ids)?);
        Ok(ConversationView {
            settings: crate::chat_settings::settings_of(&conversation),
            conversation: conversation.into(),
            messages: messages
                .into_iter()
                .map(|m| {
                    let cost = costs.get(&m.id).copied();
                    let sibling_ids = siblings.remove(&m.id).unwrap_or_default();
                    let mut view = MessageView::from(m);
                    view.cost_nanos = cost.map(|c| c.cost_nanos);
                    view.price_unknown = cost.is_some_and(|c| c.price_unknown);
                    view.usage = cost.map(|c| ReplyUsage {
                        prompt_tokens: c.prompt_tokens,
                        cached_tokens: c.cached_tokens,
                        completion_tokens: c.completion_tokens,
                        reasoning_tokens: c.reasoning_tokens,
                        web_searches: c.web_search_calls,
                        estimated: c.estimated,
                    });
                    view.sibling_ids = sibling_ids;
                    view.attachments = attachments.remove(&view.id).unwrap_or_default();
                    view
                })
                .collect(),
            earlier_count: u32::try_from(earlier).unwrap_or(u32::MAX),
            cost_nanos: store.conversation_cost(id)?,
        })
    }

    /// Shows another version of a message (one of its siblings) and the branch below it.
    pub fn conversation_switch(
        &self,
        conversation_id: i64,
        message_id: i64,
    ) -> Result<ConversationView, CoreError> {
        self.refuse_while_streaming(conversation_id)?;
        self.store().switch_to(conversation_id, message_id)?;
        self.conversation_get(conversation_id)
    }

    /// Deletes a message and the replies that grew from it. Money spent on them stays in
    /// the ledger.
    pub fn message_delete(&self, message_id: i64) -> Result<ConversationView, CoreError> {
        let conversation_id = self.store().message(message_id)?.conversation_id;
        self.refuse_while_streaming(conversation_id)?;
        self.store().delete_message(message_id)?;
        self.conversation_get(conversation_id)
    }

    fn refuse_while_streaming(&self, conversation_id: i64) -> Result<(), CoreError> {
        if self.replies.is_writing(conversation_id) {
            return Err(CoreError::InvalidInput(
                "A reply is still being written. Stop it first.".into(),
            ));
        }
        Ok(())
    }

    /// Conversations and messages matching `query` (every word; the last as a prefix),
    /// leaving out the Trash.
    pub fn search(&self, query: &str) -> Result<SearchView, CoreError> {
        if query.chars().count() > 500 {
            return Err(CoreError::InvalidInput(
                "Search for a few words, not a whole text.".into(),
            ));
        }
        let results = self.store().search(query, 50)?;
        Ok(SearchView {
            by_relevance: results.by_relevance,
            hits: results
                .hits
                .into_iter()
                .map(|hit| SearchHitView {
                    conversation_id: hit.conversation_id,
                    conversation_title: hit.conversation_title,
                    message_id: hit.message_id,
                    snippet: hit.snippet,
                    created_at: hit.created_at,
                })
                .collect(),
        })
    }

    /// Gives a conversation the title the user typed (trimmed, on one line).
    pub fn conversation_rename(
        &self,
        id: i64,
        title: &str,
    ) -> Result<ConversationSummary, CoreError> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(CoreError::InvalidInput(
                "Give the conversation a name, or press Escape to keep the old one.".into(),
            ));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(CoreError::InvalidInput(format!(
                "That name is too long: keep it under {TITLE_MAX_CHARS} characters."
            )));
        }
        Ok(self.store().rename_conversation(id, &title)?.into())
    }

    /// The titles conversation `id` had that lost to a later rename on another computer,
    /// newest first (sync keeps them: a rename never erases another).
    pub fn conversation_title_history(&self, id: i64) -> Result<Vec<String>, CoreError> {
        let store = self.store();
        store.conversation(id)?;
        Ok(store.title_history(id)?)
    }

    /// Pins a conversation to the top of the sidebar, or unpins it.
    pub fn conversation_pin(
        &self,
        id: i64,
        pinned: bool,
    ) -> Result<ConversationSummary, CoreError> {
        let pinned_at = pinned.then(|| self.now());
        Ok(self.store().set_pinned(id, pinned_at)?.into())
    }

    /// Moves a conversation to the Trash, stopping a reply being written in it.
    pub fn conversation_trash(&self, id: i64) -> Result<ConversationSummary, CoreError> {
        self.stop(id);
        Ok(self.store().trash_conversation(id, self.now())?.into())
    }

    /// Brings a conversation back from the Trash (Undo, or Restore).
    pub fn conversation_restore(&self, id: i64) -> Result<ConversationSummary, CoreError> {
        Ok(self.store().restore_conversation(id)?.into())
    }

    /// What is in the Trash, most recently deleted first. Conversations there for more
    /// than 30 days are removed first.
    pub fn trash_list(&self) -> Result<Vec<ConversationSummary>, CoreError> {
        self.purge_old_trash()?;
        Ok(self
            .store()
            .trashed_conversations()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Removes conversations that have been in the Trash for more than 30 days.
    pub(crate) fn purge_old_trash(&self) -> Result<(), CoreError> {
        let removed = self
            .store()
            .purge_trash(Some(self.now() - TRASH_KEEPS_FOR_MS))?;
        if removed > 0 {
            tracing::info!(removed, "conversations older than 30 days left the Trash");
        }
        // Attachments no message carries any more (or never sent, after a day).
        let unused = self
            .store()
            .delete_unused_attachments(self.now() - crate::attachments::UNSENT_KEPT_MS)?;
        if unused > 0 {
            tracing::info!(unused, "attachments no message carries were removed");
        }
        Ok(())
    }

    /// Removes one conversation in the Trash for good. Its spending stays in the ledger.
    pub fn trash_delete(&self, id: i64) -> Result<Vec<ConversationSummary>, CoreError> {
        match self.store().delete_trashed_conversation(id) {
            Err(tally_store::StoreError::NoConversation(_)) => {
                return Err(CoreError::NotFound(
                    "This conversation is not in the Trash.".into(),
                ));
            }
            other => other?,
        }
        self.trash_list()
    }

    /// Empties the Trash. Returns how many conversations were removed.
    pub fn trash_empty(&self) -> Result<u64, CoreError> {
        Ok(self.store().purge_trash(None)? as u64)
    }
}

/// A conversation that may take new messages: one out of the Trash.
pub(crate) fn live_conversation(
    store: &Store,
    id: i64,
) -> Result<tally_store::Conversation, CoreError> {
    let conversation = store.conversation(id)?;
    if conversation.deleted_at.is_some() {
        return Err(CoreError::InvalidInput(
            "This conversation is in the Trash. Restore it to go on with it.".into(),
        ));
    }
    Ok(conversation)
}
