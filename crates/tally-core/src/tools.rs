//! Tools in a reply: the MCP tools a conversation offers the model, the user's word on
//! each call (asked, or given for good and listed in Settings), and the calls run on
//! their servers. The loop that sends results back round after round is `send.rs`'s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tally_openai::{ChatTool, FunctionTool, ToolCall};
use tally_spend::{Encoding, ToolDefinition};
use tally_tools::{Status, ToolInfo};
use tokio_util::sync::CancellationToken;

use crate::api::{
    ChatEvent, ToolCallStatus, ToolCallView, ToolDecision, ToolPermissionView, ToolRef,
};
use crate::tool_calls::{DENIED, NOT_RUN, cut_to_fit, function_names};
use crate::{ChatSink, CoreError, Engine};

/// How long one call may take before the model is told it timed out.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a send waits for a server its chat uses that is still starting.
const START_WAIT: Duration = Duration::from_secs(20);

/// The most requests one reply may make for tools before Tally stops it.
pub(crate) const MAX_ROUNDS: u32 = 8;

/// The most tokens one result may take of the window (cut beyond, with a note): a
/// quarter of the window, and never more than this.
const RESULT_MAX_TOKENS: u32 = 16_000;

/// The tools offered to the model in one reply, each with the name it calls it by.
#[derive(Default)]
pub(crate) struct OfferedTools {
    tools: Vec<OfferedTool>,
}

struct OfferedTool {
    server_id: i64,
    server: String,
    info: ToolInfo,
    function: String,
}

impl OfferedTools {
    /// The tools as the request carries them.
    pub(crate) fn definitions(&self) -> Vec<ChatTool> {
        self.tools
            .iter()
            .map(|t| ChatTool {
                function: FunctionTool {
                    name: t.function.clone(),
                    description: t.info.description.clone(),
                    parameters: t.info.input_schema.clone(),
                },
            })
            .collect()
    }

    /// The tokens the definitions add to every request.
    pub(crate) fn tokens(&self, encoding: Encoding) -> u64 {
        if self.tools.is_empty() {
            return 0;
        }
        let definitions: Vec<ToolDefinition<'_>> = self
            .tools
            .iter()
            .map(|t| ToolDefinition {
                name: &t.function,
                description: &t.info.description,
                parameters: &t.info.input_schema,
            })
            .collect();
        tally_spend::count_tools(encoding, &definitions)
    }

    /// The call as it is kept and shown, before it runs: pending; or an error the model is
    /// told at once, for a tool it was not offered.
    pub(crate) fn call_view(
        &self,
        call: &ToolCall,
        round: u32,
        text_offset: usize,
    ) -> ToolCallView {
        let offered = self.tools.iter().find(|t| t.function == call.name);
        ToolCallView {
            id: call.id.clone(),
            round,
            text_offset: u32::try_from(text_offset).unwrap_or(u32::MAX),
            server: offered.map(|t| t.server.clone()).unwrap_or_default(),
            tool: offered.map_or_else(|| call.name.clone(), |t| t.info.name.clone()),
            function: call.name.clone(),
            arguments: call.arguments.clone(),
            status: if offered.is_some() {
                ToolCallStatus::Pending
            } else {
                ToolCallStatus::Error
            },
            result: offered.is_none().then(|| {
                format!(
                    "There is no tool named “{}”. Use only the tools offered.",
                    call.name
                )
            }),
            duration_ms: None,
            read_only: offered.is_some_and(|t| t.info.read_only),
            destructive: offered.is_some_and(|t| t.info.destructive),
        }
    }

    fn server_of(&self, function: &str) -> Option<i64> {
        self.tools
            .iter()
            .find(|t| t.function == function)
            .map(|t| t.server_id)
    }
}

/// The user's word on one call of a round.
enum Word {
    Run,
    Deny,
    Stopped,
}

impl Engine {
    /// The tools of `wanted` that a running server offers now, named for the model.
    /// Tools of a server that is off, starting or failed are not offered.
    pub(crate) fn offered_tools(&self, wanted: &[ToolRef]) -> Result<OfferedTools, CoreError> {
        if wanted.is_empty() {
            return Ok(OfferedTools::default());
        }
        let mut found: Vec<(i64, String, ToolInfo)> = Vec::new();
        for row in self
            .store()
            .mcp_servers()?
            .into_iter()
            .filter(|r| r.enabled)
        {
            let Some(state) = self.mcp.state(row.id) else {
                continue;
            };
            if state.status != Status::Ready {
                continue;
            }
            for info in state.tools {
                let chosen = wanted
                    .iter()
                    .any(|w| w.server.eq_ignore_ascii_case(&row.name) && w.tool == info.name);
                if chosen {
                    found.push((row.id, row.name.clone(), info));
                }
            }
        }
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(_, server, info)| (server.as_str(), info.name.as_str()))
            .collect();
        let names = function_names(&pairs);
        Ok(OfferedTools {
            tools: found
                .into_iter()
                .zip(names)
                .map(|((server_id, server, info), function)| OfferedTool {
                    server_id,
                    server,
                    info,
                    function,
                })
                .collect(),
        })
    }

    /// [`Engine::offered_tools`], once the servers of `wanted` that are still starting (Tally
    /// just opened, a server just added) are ready or failed, or [`START_WAIT`] has passed.
    pub(crate) async fn offered_tools_when_ready(
        &self,
        wanted: &[ToolRef],
    ) -> Result<OfferedTools, CoreError> {
        if let Some(servers) = self.mcp.running().filter(|_| !wanted.is_empty()) {
            let ids: Vec<i64> = self
                .store()
                .mcp_servers()?
                .into_iter()
                .filter(|r| {
                    r.enabled
                        && wanted
                            .iter()
                            .any(|w| w.server.eq_ignore_ascii_case(&r.name))
                })
                .map(|r| r.id)
                .collect();
            for id in ids {
                servers.settled(id, START_WAIT).await;
            }
        }
        self.offered_tools(wanted)
    }

    /// The user's answer to a call waiting in `conversation_id`'s reply. "Always" answers
    /// are kept before the call runs.
    pub fn tool_call_decide(
        &self,
        conversation_id: i64,
        call_id: &str,
        decision: ToolDecision,
    ) -> Result<(), CoreError> {
        if self.approvals.answer(conversation_id, call_id, decision) {
            Ok(())
        } else {
            Err(CoreError::NotFound(
                "This tool call no longer waits for an answer: its reply has ended.".into(),
            ))
        }
    }

    pub fn tool_permission_list(&self) -> Result<Vec<ToolPermissionView>, CoreError> {
        Ok(self
            .store()
            .tool_permissions()?
            .into_iter()
            .map(|p| ToolPermissionView {
                id: p.id,
                server: p.server,
                tool: p.tool,
                conversation_id: p.conversation_id,
                conversation_title: p.conversation_title,
            })
            .collect())
    }

    /// Takes a permission back: the tool asks again from its next call. Returns those left.
    pub fn tool_permission_revoke(&self, id: i64) -> Result<Vec<ToolPermissionView>, CoreError> {
        self.store().revoke_tool_permission(id)?;
        self.tool_permission_list()
    }

    /// Asks the user about each pending call of `calls` that no permission covers (one at
    /// a time, in order, so that "always" counts for the next), then runs those allowed,
    /// all at once. Every call ends done, error or denied; each change is saved with the
    /// reply and sent to `sink`. `at_most`: the next round's worst case, for the question.
    #[allow(clippy::too_many_arguments, reason = "one round's whole context")]
    pub(crate) async fn run_round(
        self: &Arc<Self>,
        conversation_id: i64,
        reply_id: i64,
        offered: &OfferedTools,
        calls: &mut [ToolCallView],
        first: usize,
        at_most: Option<i64>,
        model: &str,
        cancel: &CancellationToken,
        sink: &impl ChatSink,
    ) {
        for i in first..calls.len() {
            if calls[i].status != ToolCallStatus::Pending {
                continue;
            }
            match self
                .word_on(conversation_id, &calls[i], at_most, cancel, sink)
                .await
            {
                Word::Run => {}
                Word::Deny => {
                    calls[i].status = ToolCallStatus::Denied;
                    calls[i].result = Some(DENIED.into());
                    self.call_changed(reply_id, calls, i, sink);
                }
                Word::Stopped => break,
            }
        }
        let mut running = tokio::task::JoinSet::new();
        for i in first..calls.len() {
            if calls[i].status != ToolCallStatus::Pending || cancel.is_cancelled() {
                continue;
            }
            let Some(server_id) = offered.server_of(&calls[i].function) else {
                continue;
            };
            calls[i].status = ToolCallStatus::Running;
            self.call_changed(reply_id, calls, i, sink);
            let engine = Arc::clone(self);
            let (tool, arguments) = (calls[i].tool.clone(), calls[i].arguments.clone());
            running.spawn(async move {
                let started = Instant::now();
                let outcome = engine.call_tool(server_id, &tool, &arguments).await;
                (i, outcome, started.elapsed())
            });
        }
        loop {
            let finished = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                finished = running.join_next() => finished,
            };
            let Some(finished) = finished else { break };
            let Ok((i, (ok, text), took)) = finished else {
                continue;
            };
            let call = &mut calls[i];
            call.status = if ok {
                ToolCallStatus::Done
            } else {
                ToolCallStatus::Error
            };
            call.result = Some(self.fit_result(model, text));
            call.duration_ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
            self.call_changed(reply_id, calls, i, sink);
        }
        // Stopped: what never ran, or never finished, is said so (to the user, and to the
        // model if the conversation goes on).
        running.abort_all();
        self.not_run(&mut calls[first..], NOT_RUN, sink);
        self.save_tool_calls(reply_id, calls);
    }

    /// Ends the calls of `calls` still pending or running as not run, for `why`; tells the
    /// UI (the caller saves them).
    pub(crate) fn not_run(&self, calls: &mut [ToolCallView], why: &str, sink: &impl ChatSink) {
        for call in calls
            .iter_mut()
            .filter(|c| matches!(c.status, ToolCallStatus::Pending | ToolCallStatus::Running))
        {
            call.status = ToolCallStatus::Error;
            call.result = Some(why.into());
            sink.send(ChatEvent::ToolCall { call: call.clone() });
        }
    }

    /// Whether any pending call of `calls` will be asked about (none is allowed for good).
    pub(crate) fn any_to_ask(&self, conversation_id: i64, calls: &[ToolCallView]) -> bool {
        calls
            .iter()
            .filter(|c| c.status == ToolCallStatus::Pending)
            .any(|c| !self.allowed(conversation_id, c))
    }

    /// Whether `call`'s tool may run unasked in `conversation_id` (a store that cannot be
    /// read asks).
    fn allowed(&self, conversation_id: i64, call: &ToolCallView) -> bool {
        self.store()
            .tool_allowed(&call.server, &call.tool, conversation_id)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the tool permissions");
                false
            })
    }

    /// Whether call `call` may run: allowed for good, or the user says so now.
    async fn word_on(
        &self,
        conversation_id: i64,
        call: &ToolCallView,
        at_most: Option<i64>,
        cancel: &CancellationToken,
        sink: &impl ChatSink,
    ) -> Word {
        if self.allowed(conversation_id, call) {
            return Word::Run;
        }
        let mut asked = self.approvals.ask(conversation_id, &call.id);
        sink.send(ChatEvent::ToolApproval {
            call_id: call.id.clone(),
            at_most,
        });
        let decision = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Word::Stopped,
            decision = asked.answer() => decision,
        };
        let keep_for = match decision {
            None => return Word::Stopped,
            Some(ToolDecision::Deny) => return Word::Deny,
            Some(ToolDecision::Once) => return Word::Run,
            Some(ToolDecision::AlwaysHere) => Some(conversation_id),
            Some(ToolDecision::Always) => None,
        };
        if let Err(e) = self
            .store()
            .allow_tool(&call.server, &call.tool, keep_for, self.now())
        {
            tracing::warn!(error = %e, "could not keep a tool permission");
        }
        Word::Run
    }

    /// Runs one call; `(true, result)` or `(false, what went wrong)`, either told to the
    /// model.
    async fn call_tool(&self, server_id: i64, tool: &str, arguments: &str) -> (bool, String) {
        let arguments = if arguments.trim().is_empty() {
            serde_json::Map::new()
        } else {
            match serde_json::from_str(arguments) {
                Ok(map) => map,
                Err(e) => {
                    return (
                        false,
                        format!("The arguments are not a JSON object ({e}); the tool did not run."),
                    );
                }
            }
        };
        let Some(servers) = self.mcp.running() else {
            return (false, "The tool's server is not running.".into());
        };
        match servers.call(server_id, tool, arguments, CALL_TIMEOUT).await {
            Ok(output) => (!output.is_error, output.text),
            Err(e) => (false, e.to_string()),
        }
    }

    /// Saves `calls` with reply `reply_id` and tells the UI of call `i`.
    fn call_changed(&self, reply_id: i64, calls: &[ToolCallView], i: usize, sink: &impl ChatSink) {
        self.save_tool_calls(reply_id, calls);
        sink.send(ChatEvent::ToolCall {
            call: calls[i].clone(),
        });
    }

    pub(crate) fn save_tool_calls(&self, reply_id: i64, calls: &[ToolCallView]) {
        let saved = serde_json::to_string(calls)
            .map_err(|e| CoreError::Internal(e.to_string()))
            .and_then(|json| Ok(self.store().set_tool_calls(reply_id, Some(&json))?));
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not save the reply's tool calls");
        }
    }

    /// What one result may add to a request, in tokens, at most.
    pub(crate) fn result_max_tokens(&self, model: &str) -> u64 {
        let window = self
            .meter
            .price_of(model)
            .map_or(RESULT_MAX_TOKENS * 4, |p| p.context_window);
        u64::from((window / 4).min(RESULT_MAX_TOKENS))
    }

    /// `result` as the model gets it: whole, or cut (with a note) to the tokens one result
    /// may take of `model`'s window.
    fn fit_result(&self, model: &str, result: String) -> String {
        let most = self.result_max_tokens(model);
        let count = |text: &str| self.meter.text_tokens(model, text);
        let tokens = count(&result);
        if tokens <= most {
            return result;
        }
        // A token holds at least one character: cut in proportion, then closer until the
        // count fits (a note is a few dozen tokens, kept room for).
        let chars = result.chars().count() as u64;
        let mut keep = chars * (most - NOTE_TOKENS) / tokens;
        loop {
            let cut = cut_to_fit(result.clone(), keep as usize);
            if count(&cut) <= most || keep == 0 {
                return cut;
            }
            keep = keep * 9 / 10;
        }
    }
}

/// Room kept for the note on a cut result.
const NOTE_TOKENS: u64 = 64;
