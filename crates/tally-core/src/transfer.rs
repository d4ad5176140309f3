//! Conversations in and out: Markdown to read, Tally JSON to move them (every branch, the
//! settings and the costs, read back as they were), and ChatGPT's own data export
//! (`conversations.json`: a `mapping` tree per conversation with its `current_node`). An
//! import never duplicates a conversation it has seen before: each carries a `uid` that
//! travels with it (`chatgpt:<id>` for ChatGPT's).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tally_openai::Citation;
use tally_store::{
    AttachmentKind, Conversation, ConversationOptions, ConversationTree, Message, MessageStatus,
    Purpose, Role, TreeAttachment, TreeUids, UsageRow,
};

use crate::api::{
    ExportFormat, ExportRequest, ExportResult, ImportProgress, ImportSource, ImportSummary,
};
use crate::array_splitter::Shape;
use crate::uploads::ImportJob;
use crate::{CoreError, Engine};

/// What the first field of a Tally export says.
const TALLY_FORMAT: &str = "tally-conversations";
const TALLY_VERSION: u32 = 1;
/// A Tally export is read whole: larger ones are refused before they fill the memory.
const MAX_TALLY_FILE_BYTES: usize = 512 << 20;
/// What an upload id no longer known means to the person.
const IMPORT_GONE: &str = "This import was cancelled. Choose the file again.";
/// ChatGPT's export as its `.zip`, pictures and all, up to this size.
const MAX_ARCHIVE_BYTES: u64 = 16 << 30;
/// A piece of a `.zip` upload, in base64 (the web view sends about 3 MB at a time).
const MAX_ARCHIVE_PIECE_BASE64: usize = 16 << 20;
/// One upload mixing a `.zip`'s pieces with a text file's.
const MIXED_UPLOAD: &str = "This import went wrong. Choose the file again.";
/// Where a picture or file of a ChatGPT message was.
const LEFT_OUT_NOTE: &str = "*(A picture or file from ChatGPT is not included here.)*";

fn invalid(text: impl Into<String>) -> CoreError {
    CoreError::InvalidInput(text.into())
}

impl Engine {
    /// Writes conversations into `folder` as one file; returns its path and how many
    /// conversations it holds.
    pub fn export_conversations(
        &self,
        request: &ExportRequest,
        folder: &Path,
    ) -> Result<ExportResult, CoreError> {
        let ids = match request.conversation_id {
            Some(id) => vec![id],
            None => self.store().all_conversation_ids()?,
        };
        let trees = ids
            .iter()
            .map(|id| self.store().conversation_tree(*id))
            .collect::<Result<Vec<_>, _>>()?;
        let today = tally_spend::local_date(self.now(), &self.time_zone);
        let stem = match (&request.conversation_id, trees.first()) {
            (Some(_), Some(tree)) => format!("{} {today}", tree.conversation.title),
            _ => format!("Tally conversations {today}"),
        };
        let extension = match request.format {
            ExportFormat::Markdown => "md",
            ExportFormat::Json => "json",
        };
        let path = crate::files::free_name(folder, &file_stem(&stem), extension);
        let failed = |e: &(dyn std::error::Error + 'static)| crate::files::write_failed(&path, e);
        std::fs::create_dir_all(folder).map_err(|e| failed(&e))?;
        let file = crate::files::create_new_private(&path).map_err(|e| failed(&e))?;
        let mut out = std::io::BufWriter::new(file);
        match request.format {
            ExportFormat::Markdown => {
                for (i, tree) in trees.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b"\n\n---\n\n").map_err(|e| failed(&e))?;
                    }
                    let text = self.markdown(tree)?;
                    out.write_all(text.as_bytes()).map_err(|e| failed(&e))?;
                }
            }
            ExportFormat::Json => {
                let file = TallyFile {
                    format: TALLY_FORMAT.into(),
                    version: TALLY_VERSION,
                    exported_at: self.now(),
                    conversations: trees.iter().map(TallyConversation::from).collect(),
                };
                serde_json::to_writer_pretty(&mut out, &file).map_err(|e| failed(&e))?;
            }
        }
        out.flush().map_err(|e| failed(&e))?;
        Ok(ExportResult {
            path: path.display().to_string(),
            rows: trees.len() as u64,
        })
    }

    /// One conversation to read: its title, model, date and cost, then the branch on
    /// screen (the other versions are in the JSON export).
    fn markdown(&self, tree: &ConversationTree) -> Result<String, CoreError> {
        let c = &tree.conversation;
        let cost = known_cost(&tree.usage);
        let started = tally_spend::local_date(c.created_at, &self.time_zone);
        let mut text = format!(
            "# {}\n\n{} · started {started} · cost {}\n",
            c.title,
            c.model,
            tally_spend::format_usd(cost)
        );
        if let Some(prompt) = c.system_prompt.as_deref().filter(|p| !p.trim().is_empty()) {
            text.push_str(&format!("\n**Instructions:** {prompt}\n"));
        }
        let branch = match c.current_leaf_id {
            Some(leaf) => self.store().branch_ending_at(leaf)?,
            None => Vec::new(),
        };
        let ids: Vec<i64> = branch.iter().map(|m| m.id).collect();
        let mut attached = self.store().attachments_of(&ids)?;
        for message in branch {
            let who = match (message.role, message.model.as_deref()) {
                (Role::User, _) => "You".to_string(),
                (Role::Assistant, Some(model)) => format!("Assistant ({model})"),
                (Role::Assistant, None) => "Assistant".to_string(),
                (Role::System, _) => "Instructions".to_string(),
            };
            text.push_str(&format!("\n## {who}\n\n{}\n", message.content.trim_end()));
            // What it carried is named (the Tally file holds the pictures and files).
            if let Some(list) = attached.remove(&message.id) {
                let named: Vec<String> = list
                    .iter()
                    .map(
                        |a| match (a.attachment.kind, a.attachment.width, a.attachment.height) {
                            (AttachmentKind::Image, Some(w), Some(h)) => {
                                format!("{} (picture, {w}×{h})", a.name)
                            }
                            (AttachmentKind::Image, ..) => format!("{} (picture)", a.name),
                            (AttachmentKind::File, ..) => format!("{} (text file)", a.name),
                        },
                    )
                    .collect();
                text.push_str(&format!("\n*Attached: {}*\n", named.join(", ")));
            }
            let sources = exported_citations(message.citations.as_deref());
            if !sources.is_empty() {
                text.push_str("\nSources:\n");
                for source in sources {
                    // The title cannot close the link; the address (no spaces) is bracketed.
                    let title = source.title.replace('[', "\\[").replace(']', "\\]");
                    text.push_str(&format!("- [{title}](<{}>)\n", source.url));
                }
            }
        }
        Ok(text)
    }

    /// Starts receiving a file to import; returns its upload id.
    pub fn import_begin(&self) -> u64 {
        self.uploads.begin()
    }

    /// The next piece of upload `id`: the conversations it completes are imported at
    /// once (off the async threads).
    pub async fn import_append(self: &Arc<Self>, id: u64, piece: String) -> Result<(), CoreError> {
        let gone = || CoreError::NotFound(IMPORT_GONE.into());
        let mut job = self.uploads.take(id).ok_or_else(gone)?;
        let engine = Arc::clone(self);
        let job = tokio::task::spawn_blocking(move || {
            if job.archive.is_some() {
                return Err(invalid(MIXED_UPLOAD));
            }
            engine
                .import_piece(&mut job, &piece, &mut |_| None)
                .map(|()| job)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the import: {e}")))??;
        // A failed piece ends the import: what it had imported stays.
        self.uploads.put_back(id, job);
        Ok(())
    }

    /// The next piece of upload `id` when the file is ChatGPT's export as its `.zip`
    /// (`piece_base64`: the bytes in base64). The zip is kept in the data folder until
    /// [`Engine::import_run`] reads it.
    pub async fn import_append_archive(
        self: &Arc<Self>,
        id: u64,
        piece_base64: String,
    ) -> Result<(), CoreError> {
        if piece_base64.len() > MAX_ARCHIVE_PIECE_BASE64 {
            return Err(invalid("A piece of the file was too large. Try again."));
        }
        let piece = base64::engine::general_purpose::STANDARD
            .decode(piece_base64.as_bytes())
            .map_err(|_| invalid("A piece of the file arrived damaged. Try again."))?;
        let gone = || CoreError::NotFound(IMPORT_GONE.into());
        let mut job = self.uploads.take(id).ok_or_else(gone)?;
        let folder = crate::uploads::imports_folder(&self.data_dir);
        let job = tokio::task::spawn_blocking(move || {
            append_to_archive(&mut job, &piece, &folder).map(|()| job)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the import: {e}")))??;
        self.uploads.put_back(id, job);
        Ok(())
    }

    fn import_piece(
        &self,
        job: &mut ImportJob,
        piece: &str,
        find: &mut PictureFinder<'_>,
    ) -> Result<(), CoreError> {
        if let Some(whole) = &mut job.whole {
            if whole.len() + piece.len() > MAX_TALLY_FILE_BYTES {
                return Err(invalid(format!(
                    "This file is larger than Tally can import ({} MB at most).",
                    MAX_TALLY_FILE_BYTES >> 20
                )));
            }
            whole.push_str(piece);
            return Ok(());
        }
        let mut conversations = Vec::new();
        let shape = job
            .splitter
            .feed(piece, |element| conversations.push(element.to_string()));
        match shape {
            Shape::Object => {
                // A Tally export: read whole at the end.
                job.whole = Some(piece.to_string());
                job.summary.source = ImportSource::Tally;
            }
            Shape::NotJson => return Err(not_an_export()),
            Shape::Array => {}
        }
        for text in conversations {
            let read = serde_json::from_str::<GptConversation>(&text)
                .ok()
                .and_then(|conversation| conversation.into_tree(find));
            self.import_one(job, read)?;
        }
        Ok(())
    }

    /// Writes one conversation read from the file (`None`: it could not be read), unless
    /// this database has it already.
    fn import_one(
        &self,
        job: &mut ImportJob,
        read: Option<(ConversationTree, u32)>,
    ) -> Result<(), CoreError> {
        let summary = &mut job.summary;
        let Some((tree, skipped_parts)) = read else {
            summary.unreadable += 1;
            return Ok(());
        };
        let mut store = self.store();
        if !job.seen.insert(tree.uid.clone()) || store.conversation_with_uid(&tree.uid)?.is_some() {
            summary.already_there += 1;
            return Ok(());
        }
        store.import_conversation(&tree)?;
        summary.imported += 1;
        summary.messages += tree.messages.len() as u32;
        summary.pictures += tree
            .attachments
            .iter()
            .filter(|a| a.kind == AttachmentKind::Image)
            .count() as u32;
        summary.skipped_parts += skipped_parts;
        Ok(())
    }

    /// Ends upload `id`: reads a Tally export (telling `progress` after each
    /// conversation), and returns what the import did.
    pub async fn import_run(
        self: &Arc<Self>,
        id: u64,
        progress: impl Fn(ImportProgress) + Send + 'static,
    ) -> Result<ImportSummary, CoreError> {
        let writing = self.writing()?;
        let job = self
            .uploads
            .take(id)
            .ok_or_else(|| CoreError::NotFound(IMPORT_GONE.into()))?;
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _writing = writing;
            engine.finish_import(job, progress)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("the import: {e}")))?
    }

    fn finish_import(
        &self,
        mut job: ImportJob,
        progress: impl Fn(ImportProgress),
    ) -> Result<ImportSummary, CoreError> {
        if let Some(archive) = job.archive.take() {
            self.import_archive(&mut job, &archive, &progress)?;
            // The zip's file is removed here, with `archive`.
        }
        match job.whole.take() {
            Some(text) => {
                let file: TallyFileIn = serde_json::from_str(&text).map_err(|_| not_an_export())?;
                if file.format != TALLY_FORMAT {
                    return Err(not_an_export());
                }
                if file.version > TALLY_VERSION {
                    return Err(invalid(
                        "This file comes from a newer Tally. Update Tally, then import it again.",
                    ));
                }
                let total = file.conversations.len() as u32;
                progress(ImportProgress { done: 0, total });
                for (i, raw) in file.conversations.into_iter().enumerate() {
                    let read = serde_json::from_str::<TallyConversation>(raw.get())
                        .ok()
                        .and_then(|c| c.into_tree(self.now()))
                        .map(|tree| (tree, 0));
                    self.import_one(&mut job, read)?;
                    progress(ImportProgress {
                        done: i as u32 + 1,
                        total,
                    });
                }
            }
            // Nothing but blanks: an empty file.
            None if job.splitter.shape().is_none() => return Err(not_an_export()),
            None if !job.splitter.finished() => {
                return Err(invalid(
                    "The file ended too early: it may not have been saved whole. The \
                     conversations read before the end were imported.",
                ));
            }
            None => {}
        }
        if job.summary.imported > 0 {
            self.spend_changed()?;
        }
        Ok(job.summary)
    }

    /// Imports the conversations of ChatGPT's export received as its `.zip`, with the
    /// pictures they point to, telling `progress` the share of conversations.json read (in
    /// thousandths).
    fn import_archive(
        &self,
        job: &mut ImportJob,
        archive: &crate::uploads::ArchiveUpload,
        progress: &impl Fn(ImportProgress),
    ) -> Result<(), CoreError> {
        let reopen = || {
            archive.file.reopen().map_err(|e| {
                CoreError::File(format!("Tally could not read the .zip it received: {e}."))
            })
        };
        let mut zip = crate::chatgpt_zip::ExportZip::open(reopen()?, reopen()?)?;
        progress(ImportProgress {
            done: 0,
            total: 1000,
        });
        zip.read_conversations(|piece, pictures, share| {
            self.import_piece(job, piece, &mut |pointer| pictures.picture(pointer))?;
            if job.whole.is_some() {
                // conversations.json holds an object: not ChatGPT's array.
                return Err(not_an_export());
            }
            progress(ImportProgress {
                done: (share.clamp(0.0, 1.0) * 1000.0) as u32,
                total: 1000,
            });
            Ok(())
        })
    }

    /// Imports a whole file at once (a Tally export or ChatGPT's `conversations.json`).
    pub fn import_text(
        &self,
        text: &str,
        progress: impl Fn(ImportProgress),
    ) -> Result<ImportSummary, CoreError> {
        let _writing = self.writing()?;
        let mut job = ImportJob::new();
        self.import_piece(&mut job, text, &mut |_| None)?;
        self.finish_import(job, progress)
    }
}

/// Adds `piece` to the upload's zip, starting its file in `folder` with the first piece.
fn append_to_archive(job: &mut ImportJob, piece: &[u8], folder: &Path) -> Result<(), CoreError> {
    if job.whole.is_some() || job.splitter.shape().is_some() {
        return Err(invalid(MIXED_UPLOAD));
    }
    let archive = match &mut job.archive {
        Some(archive) => archive,
        None => {
            // A zip starts with a local file header (or, empty, with its end record).
            if !(piece.starts_with(b"PK\x03\x04") || piece.starts_with(b"PK\x05\x06")) {
                return Err(invalid(
                    "This file is not a .zip. Choose the .zip ChatGPT sent you, or a Tally \
                     file, or ChatGPT's conversations.json.",
                ));
            }
            std::fs::create_dir_all(folder).map_err(|e| crate::files::write_failed(folder, &e))?;
            let file = tempfile::Builder::new()
                .prefix("chatgpt-export-")
                .suffix(".zip")
                .tempfile_in(folder)
                .map_err(|e| crate::files::write_failed(folder, &e))?;
            job.archive
                .insert(crate::uploads::ArchiveUpload { file, bytes: 0 })
        }
    };
    if archive.bytes + piece.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(invalid(format!(
            "This .zip is larger than Tally can import ({} GB at most).",
            MAX_ARCHIVE_BYTES >> 30
        )));
    }
    archive
        .file
        .write_all(piece)
        .map_err(|e| crate::files::write_failed(archive.file.path(), &e))?;
    archive.bytes += piece.len() as u64;
    Ok(())
}

/// An imported picture, made safe, as message `message_id` carries it under `name`.
fn tree_picture(message_id: i64, name: String, picture: tally_attach::Picture) -> TreeAttachment {
    TreeAttachment {
        message_id,
        name,
        kind: AttachmentKind::Image,
        mime: picture.format.mime().into(),
        width: Some(picture.width),
        height: Some(picture.height),
        pages: None,
        content: picture.bytes,
    }
}

fn not_an_export() -> CoreError {
    invalid(
        "This file is neither a Tally export nor ChatGPT's export. From ChatGPT, choose the \
         .zip it sent you, or the conversations.json inside it.",
    )
}

/// A file name from a title: letters, digits and dashes, not too long.
fn file_stem(text: &str) -> String {
    let mut stem = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            stem.push(c);
        } else if !stem.ends_with('-') && !stem.is_empty() {
            stem.push('-');
        }
        if stem.chars().count() >= 60 {
            break;
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        "conversation".into()
    } else {
        stem.into()
    }
}

// ----- Tally JSON -----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TallyFile {
    format: String,
    version: u32,
    exported_at: i64,
    conversations: Vec<TallyConversation>,
}

/// The same file read back: each conversation is read on its own, so one that cannot be
/// read does not stop the others.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TallyFileIn<'a> {
    format: String,
    version: u32,
    #[serde(borrow)]
    conversations: Vec<&'a RawValue>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TallyConversation {
    uid: String,
    title: String,
    model: String,
    system_prompt: Option<String>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    max_output_tokens: Option<i64>,
    presence_penalty: Option<f64>,
    frequency_penalty: Option<f64>,
    /// A reasoning model's effort (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<String>,
    /// Whether the model may search the web (absent in older files: no).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    web_search: bool,
    /// The MCP tools the conversation lets the model call (absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tools: Vec<crate::api::ToolRef>,
    /// How replies are written when not as text, and the schema pasted for them.
    #[serde(default, skip_serializing_if = "is_text")]
    reply_format: crate::api::ReplyFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    json_schema: Option<String>,
    created_at: i64,
    updated_at: i64,
    pinned_at: Option<i64>,
    /// The message whose branch is on screen.
    current_leaf_id: Option<i64>,
    /// Every message of every branch, parents first.
    messages: Vec<TallyMessage>,
    /// Every request billed for it.
    usage: Vec<TallyUsage>,
    /// The sum of `usage`'s known costs, nano-USD (for people reading the file).
    cost_nanos: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TallyMessage {
    id: i64,
    parent_id: Option<i64>,
    role: String,
    content: String,
    status: String,
    finish_reason: Option<String>,
    model: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: i64,
    updated_at: i64,
    /// A reply's API, `chat` or `responses` (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    /// The model's summary of its reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thinking: Option<String>,
    /// The reply's reasoning items (opaque JSON, sent back on the next turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reasoning_items: Option<String>,
    /// The web pages the reply cites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    citations: Vec<Citation>,
    /// The tools the reply called, with their results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<crate::api::ToolCallView>,
    /// A JSON reply's check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    json_check: Option<crate::api::JsonCheckView>,
    /// What a user message carries, in order (absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<TallyAttachment>,
    /// Its identity on every computer that syncs (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
}

/// An attachment in a Tally file: what was sent, whole.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TallyAttachment {
    name: String,
    kind: crate::api::AttachmentKind,
    mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pages: Option<u32>,
    /// The content as kept, in base64.
    data_base64: String,
}

impl TallyAttachment {
    fn from_tree(attachment: &TreeAttachment) -> Self {
        Self {
            name: attachment.name.clone(),
            kind: match attachment.kind {
                AttachmentKind::Image => crate::api::AttachmentKind::Image,
                AttachmentKind::File => crate::api::AttachmentKind::File,
            },
            mime: attachment.mime.clone(),
            width: attachment.width,
            height: attachment.height,
            pages: attachment.pages,
            data_base64: base64::engine::general_purpose::STANDARD.encode(&attachment.content),
        }
    }

    /// The attachment as the store keeps it, made safe like any file from elsewhere (a
    /// picture Tally kept comes back byte for byte); `None` when it cannot be.
    fn into_tree(self, message_id: i64) -> Option<TreeAttachment> {
        let content = crate::attachments::decoded(&self.data_base64).ok()?;
        let name: String = self
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let name = if name.trim().is_empty() {
            "attachment".into()
        } else {
            name
        };
        Some(match self.kind {
            crate::api::AttachmentKind::Image => tree_picture(
                message_id,
                name,
                tally_attach::imported_picture(&content).ok()?,
            ),
            crate::api::AttachmentKind::File => {
                let text = tally_attach::prepare_text(&content).ok()?;
                TreeAttachment {
                    message_id,
                    name,
                    kind: AttachmentKind::File,
                    mime: "text/plain; charset=utf-8".into(),
                    width: None,
                    height: None,
                    pages: self.pages,
                    content: text.into_bytes(),
                }
            }
        })
    }
}

fn is_text(format: &crate::api::ReplyFormat) -> bool {
    *format == crate::api::ReplyFormat::Text
}

/// The most tools an imported conversation may offer, and tool calls a reply may hold.
const MAX_IMPORTED_TOOLS: usize = 128;
const MAX_IMPORTED_CALLS: usize = 8 * tally_openai::MAX_TOOL_CALLS;

/// A reply's tool calls as the database keeps them (JSON), from a file: at most as many
/// as a reply can make, their texts bounded like any reply detail.
fn imported_calls(calls: Vec<crate::api::ToolCallView>) -> Option<String> {
    let kept: Vec<_> = calls.into_iter().take(MAX_IMPORTED_CALLS).collect();
    (!kept.is_empty())
        .then(|| serde_json::to_string(&kept).ok())
        .flatten()
        .and_then(|json| bounded(Some(json)))
}

/// The most a reply's thinking or reasoning items may hold in an imported file.
const MAX_IMPORTED_DETAIL_BYTES: usize = 8 << 20;

/// An imported reply detail, dropped when it is larger than any real one.
fn bounded(detail: Option<String>) -> Option<String> {
    detail.filter(|d| d.len() <= MAX_IMPORTED_DETAIL_BYTES)
}

/// A reply's sources as the database keeps them (JSON), from a file: only those Tally
/// would have kept from the API (http(s) addresses, bounded, each once), at most as many.
fn imported_citations(citations: Vec<Citation>) -> Option<String> {
    let mut kept: Vec<Citation> = Vec::new();
    for citation in citations {
        if kept.len() == tally_openai::MAX_CITATIONS {
            break;
        }
        if let Some(c) = Citation::checked(citation.url, Some(citation.title))
            && !kept.iter().any(|k| k.url == c.url)
        {
            kept.push(c);
        }
    }
    (!kept.is_empty())
        .then(|| serde_json::to_string(&kept).ok())
        .flatten()
}

/// What the database keeps (JSON) as a file writes it; sources that no longer parse are
/// left out.
fn exported_citations(json: Option<&str>) -> Vec<Citation> {
    json.and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// The sum of the known costs of `usage`; saturating, never wrapping or panicking.
fn known_cost(usage: &[UsageRow]) -> i64 {
    usage
        .iter()
        .filter_map(|u| u.cost_nanos)
        .fold(0i64, i64::saturating_add)
}

/// The most one imported ledger row may cost: $100,000 in nano-USD.
const MAX_IMPORTED_COST: i64 = 100_000 * 1_000_000_000;
/// The most tokens of one kind one imported request may hold.
const MAX_IMPORTED_TOKENS: u64 = 100_000_000;
/// The most web searches one imported request may have run.
const MAX_IMPORTED_SEARCHES: u64 = 1_000;
/// Clocks differ a little between computers; more than a day ahead is not believed.
const FUTURE_SLACK_MS: i64 = DAY_MS;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The request outcomes Tally writes.
const KNOWN_STATUSES: [&str; 5] = ["streaming", "complete", "stopped", "interrupted", "error"];

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TallyUsage {
    created_at: i64,
    message_id: Option<i64>,
    purpose: String,
    model: String,
    prompt_tokens: u64,
    cached_tokens: u64,
    /// Absent in files from before cache writes were reported: none.
    #[serde(default)]
    cache_write_tokens: u64,
    completion_tokens: u64,
    reasoning_tokens: u64,
    /// Absent in files from before web search: none.
    #[serde(default)]
    web_search_calls: u64,
    /// nano-USD; `null` when the model's price was unknown.
    cost_nanos: Option<i64>,
    estimated: bool,
    request_id: Option<String>,
    status: String,
    first_token_ms: Option<i64>,
    duration_ms: Option<i64>,
    /// Its identity on every computer that syncs (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
}

impl From<&ConversationTree> for TallyConversation {
    fn from(tree: &ConversationTree) -> Self {
        let c = &tree.conversation;
        Self {
            uid: tree.uid.clone(),
            title: c.title.clone(),
            model: c.model.clone(),
            system_prompt: c.system_prompt.clone(),
            temperature: c.options.temperature,
            top_p: c.options.top_p,
            max_output_tokens: c.options.max_output_tokens,
            presence_penalty: c.options.presence_penalty,
            frequency_penalty: c.options.frequency_penalty,
            reasoning_effort: c.options.reasoning_effort.clone(),
            web_search: c.options.web_search,
            tools: crate::chat_settings::from_store(&c.options).tools,
            reply_format: crate::chat_settings::from_store(&c.options).reply_format,
            json_schema: crate::chat_settings::from_store(&c.options).json_schema,
            created_at: c.created_at,
            updated_at: c.updated_at,
            pinned_at: c.pinned_at,
            current_leaf_id: c.current_leaf_id,
            messages: tree
                .messages
                .iter()
                .map(|m| TallyMessage {
                    id: m.id,
                    parent_id: m.parent_id,
                    role: m.role.as_str().into(),
                    content: m.content.clone(),
                    status: m.status.as_str().into(),
                    finish_reason: m.finish_reason.clone(),
                    model: m.model.clone(),
                    error_code: m.error_code.clone(),
                    error_message: m.error_message.clone(),
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    endpoint: m.endpoint.clone(),
                    thinking: m.thinking.clone(),
                    reasoning_items: m.reasoning_items.clone(),
                    citations: exported_citations(m.citations.as_deref()),
                    tool_calls: crate::api::ToolCallView::stored(m.tool_calls.as_deref(), m.status),
                    json_check: m
                        .json_check
                        .as_deref()
                        .and_then(|json| serde_json::from_str(json).ok()),
                    attachments: tree
                        .attachments
                        .iter()
                        .filter(|a| a.message_id == m.id)
                        .map(TallyAttachment::from_tree)
                        .collect(),
                    uid: tree.uids.messages.get(&m.id).cloned(),
                })
                .collect(),
            usage: tree
                .usage
                .iter()
                .zip(
                    tree.uids
                        .usage
                        .iter()
                        .cloned()
                        .chain(std::iter::repeat(None)),
                )
                .map(|(u, uid)| TallyUsage {
                    created_at: u.created_at,
                    message_id: u.message_id,
                    purpose: u.purpose.as_str().into(),
                    model: u.model.clone(),
                    prompt_tokens: u.prompt_tokens,
                    cached_tokens: u.cached_tokens,
                    cache_write_tokens: u.cache_write_tokens,
                    completion_tokens: u.completion_tokens,
                    reasoning_tokens: u.reasoning_tokens,
                    web_search_calls: u.web_search_calls,
                    cost_nanos: u.cost_nanos,
                    estimated: u.estimated,
                    request_id: u.request_id.clone(),
                    status: u.status.clone(),
                    first_token_ms: u.first_token_ms,
                    duration_ms: u.duration_ms,
                    uid,
                })
                .collect(),
            cost_nanos: known_cost(&tree.usage),
        }
    }
}

impl TallyConversation {
    /// The conversation as the store writes it; `None` when a value is not Tally's or a
    /// message's parent is missing.
    fn into_tree(self, now: i64) -> Option<ConversationTree> {
        let mut ids = HashSet::new();
        let mut messages = Vec::with_capacity(self.messages.len());
        let mut attachments = Vec::new();
        let mut uids = TreeUids::default();
        for m in self.messages {
            if m.parent_id.is_some_and(|parent| !ids.contains(&parent)) {
                return None;
            }
            ids.insert(m.id);
            if let Some(uid) = m.uid {
                uids.messages.insert(m.id, uid);
            }
            // An attachment that cannot be read makes the conversation unreadable, as any
            // other damaged part does: nothing of it is half imported.
            if m.attachments.len() > crate::attachments::MAX_PER_MESSAGE {
                return None;
            }
            for attachment in m.attachments {
                attachments.push(attachment.into_tree(m.id)?);
            }
            messages.push(Message {
                id: m.id,
                conversation_id: 0,
                parent_id: m.parent_id,
                role: Role::parse(&m.role)?,
                content: m.content,
                status: MessageStatus::parse(&m.status)?,
                finish_reason: m.finish_reason,
                model: m.model,
                error_code: m.error_code,
                error_message: m.error_message,
                created_at: m.created_at,
                updated_at: m.updated_at,
                endpoint: m
                    .endpoint
                    .filter(|e| matches!(e.as_str(), "chat" | "responses")),
                thinking: bounded(m.thinking),
                reasoning_items: bounded(m.reasoning_items),
                citations: imported_citations(m.citations),
                tool_calls: imported_calls(m.tool_calls),
                json_check: m
                    .json_check
                    .and_then(|check| bounded(serde_json::to_string(&check).ok())),
            });
        }
        let usage = self
            .usage
            .into_iter()
            .map(|u| {
                uids.usage.push(u.uid.clone());
                // A file is untrusted: a negative or absurd cost would defeat the hard stop or
                // overflow the month's sum, a future date would sit in every month to come.
                let plausible = u
                    .cost_nanos
                    .is_none_or(|c| (0..=MAX_IMPORTED_COST).contains(&c))
                    && [
                        u.prompt_tokens,
                        u.cached_tokens,
                        u.cache_write_tokens,
                        u.completion_tokens,
                        u.reasoning_tokens,
                    ]
                    .iter()
                    .all(|t| *t <= MAX_IMPORTED_TOKENS)
                    && u.web_search_calls <= MAX_IMPORTED_SEARCHES
                    && (0..=now.saturating_add(FUTURE_SLACK_MS)).contains(&u.created_at)
                    && [u.first_token_ms, u.duration_ms]
                        .iter()
                        .all(|ms| ms.is_none_or(|ms| (0..=DAY_MS).contains(&ms)))
                    && KNOWN_STATUSES.contains(&u.status.as_str())
                    && u.model.chars().count() <= 200
                    && u.request_id
                        .as_ref()
                        .is_none_or(|r| r.chars().count() <= 200);
                if !plausible {
                    return None;
                }
                Some(UsageRow {
                    created_at: u.created_at,
                    conversation_id: None,
                    message_id: u.message_id,
                    purpose: Purpose::parse(&u.purpose)?,
                    model: u.model,
                    prompt_tokens: u.prompt_tokens,
                    cached_tokens: u.cached_tokens,
                    cache_write_tokens: u.cache_write_tokens,
                    completion_tokens: u.completion_tokens,
                    reasoning_tokens: u.reasoning_tokens,
                    web_search_calls: u.web_search_calls,
                    cost_nanos: u.cost_nanos,
                    estimated: u.estimated,
                    request_id: u.request_id,
                    status: u.status,
                    first_token_ms: u.first_token_ms,
                    duration_ms: u.duration_ms,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        if self.uid.trim().is_empty() {
            return None;
        }
        // Tools and the reply format as this version keeps them (bounded like any input).
        let imported = crate::chat_settings::to_store(&crate::api::ChatOptions {
            tools: self.tools.into_iter().take(MAX_IMPORTED_TOOLS).collect(),
            reply_format: self.reply_format,
            json_schema: self
                .json_schema
                .filter(|s| s.chars().count() <= crate::json_reply::SCHEMA_MAX_CHARS),
            ..Default::default()
        });
        Some(ConversationTree {
            conversation: Conversation {
                id: 0,
                title: self.title,
                model: self.model,
                system_prompt: self.system_prompt,
                current_leaf_id: self.current_leaf_id.filter(|id| ids.contains(id)),
                created_at: self.created_at,
                updated_at: self.updated_at,
                pinned_at: self.pinned_at,
                deleted_at: None,
                options: ConversationOptions {
                    temperature: self.temperature,
                    top_p: self.top_p,
                    max_output_tokens: self.max_output_tokens,
                    presence_penalty: self.presence_penalty,
                    frequency_penalty: self.frequency_penalty,
                    // Only an effort this version knows; anything else is the default.
                    reasoning_effort: self
                        .reasoning_effort
                        .filter(|e| crate::api::ReasoningEffort::parse(e).is_some()),
                    web_search: self.web_search,
                    tools: imported.tools,
                    reply_format: imported.reply_format,
                },
            },
            uid: self.uid,
            messages,
            usage,
            attachments,
            uids,
        })
    }
}

// ----- ChatGPT's conversations.json -----

#[derive(Deserialize)]
struct GptConversation {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    create_time: Option<f64>,
    #[serde(default)]
    update_time: Option<f64>,
    mapping: HashMap<String, GptNode>,
    #[serde(default)]
    current_node: Option<String>,
    #[serde(default)]
    default_model_slug: Option<String>,
}

#[derive(Deserialize)]
struct GptNode {
    #[serde(default)]
    message: Option<GptMessage>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Deserialize)]
struct GptMessage {
    author: GptAuthor,
    #[serde(default)]
    create_time: Option<f64>,
    content: GptContent,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    metadata: Option<GptMetadata>,
}

#[derive(Deserialize)]
struct GptAuthor {
    role: String,
}

#[derive(Deserialize)]
struct GptContent {
    content_type: String,
    #[serde(default)]
    parts: Vec<GptPart>,
}

/// A part of a message: text, a picture (found in the export's zip when that was
/// chosen), or something else (a file, audio) that is left out.
#[derive(Deserialize)]
#[serde(untagged)]
enum GptPart {
    Text(String),
    Picture(GptPicture),
    Other(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct GptPicture {
    content_type: String,
    asset_pointer: String,
}

/// Finds the picture an `asset_pointer` names: its name and the picture made safe.
type PictureFinder<'a> = dyn FnMut(&str) -> Option<(String, tally_attach::Picture)> + 'a;

#[derive(Deserialize, Default)]
struct GptMetadata {
    #[serde(default)]
    model_slug: Option<String>,
    #[serde(default)]
    is_visually_hidden_from_conversation: bool,
}

/// ChatGPT's times are seconds since 1970, with a fraction.
fn millis(seconds: Option<f64>) -> Option<i64> {
    seconds
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0) as i64)
}

impl GptConversation {
    /// The conversation with its branches: the user's and the assistant's messages shown
    /// in ChatGPT, under their nearest shown ancestor, with the pictures of the user's
    /// that `find` finds. Returns it and how many parts were left out (with a note where
    /// they were); `None` when it has no message to show.
    fn into_tree(self, find: &mut PictureFinder<'_>) -> Option<(ConversationTree, u32)> {
        let key = self
            .id
            .clone()
            .or(self.conversation_id.clone())
            .unwrap_or_else(|| {
                format!(
                    "{}:{}",
                    self.create_time.unwrap_or_default(),
                    self.title.as_deref().unwrap_or_default()
                )
            });
        let created_at = millis(self.create_time).unwrap_or(0);
        let mut skipped_parts = 0;
        // Parents before children: depth first from the roots, in ChatGPT's own order.
        let mut roots: Vec<&String> = self
            .mapping
            .iter()
            .filter(|(_, node)| {
                node.parent
                    .as_ref()
                    .is_none_or(|p| !self.mapping.contains_key(p))
            })
            .map(|(id, _)| id)
            .collect();
        roots.sort();
        let mut new_ids: HashMap<&str, i64> = HashMap::new();
        let mut messages: Vec<Message> = Vec::new();
        let mut attachments: Vec<TreeAttachment> = Vec::new();
        let mut visited = HashSet::new();
        // (node, the id of its nearest shown ancestor)
        let mut stack: Vec<(&String, Option<i64>)> =
            roots.into_iter().rev().map(|id| (id, None)).collect();
        let mut model = self.default_model_slug.clone();
        while let Some((id, shown_parent)) = stack.pop() {
            if !visited.insert(id) {
                continue;
            }
            let Some(node) = self.mapping.get(id) else {
                continue;
            };
            let mut parent_for_children = shown_parent;
            let new_id = messages.len() as i64 + 1;
            if let Some((role, text, left_out, slug)) = node
                .message
                .as_ref()
                .and_then(|message| shown(message, new_id, &mut attachments, find))
            {
                skipped_parts += left_out;
                let at = node
                    .message
                    .as_ref()
                    .and_then(|m| millis(m.create_time))
                    .unwrap_or(created_at);
                if role == Role::Assistant && slug.is_some() {
                    model = slug.clone();
                }
                messages.push(Message {
                    id: new_id,
                    conversation_id: 0,
                    parent_id: shown_parent,
                    role,
                    content: text,
                    status: MessageStatus::Complete,
                    finish_reason: (role == Role::Assistant).then(|| "stop".to_string()),
                    model: if role == Role::Assistant { slug } else { None },
                    error_code: None,
                    error_message: None,
                    created_at: at,
                    updated_at: at,
                    endpoint: None,
                    thinking: None,
                    reasoning_items: None,
                    citations: None,
                    tool_calls: None,
                    json_check: None,
                });
                new_ids.insert(id.as_str(), new_id);
                parent_for_children = Some(new_id);
            }
            for child in node.children.iter().rev() {
                stack.push((child, parent_for_children));
            }
        }
        if messages.is_empty() {
            return None;
        }
        // The branch on screen ends at the current node, or at its nearest shown ancestor.
        let mut leaf = None;
        let mut at = self.current_node.as_ref();
        let mut steps = 0;
        while let Some(id) = at {
            if let Some(new_id) = new_ids.get(id.as_str()) {
                leaf = Some(*new_id);
                break;
            }
            at = self.mapping.get(id).and_then(|n| n.parent.as_ref());
            steps += 1;
            if steps > self.mapping.len() {
                break;
            }
        }
        let last = messages
            .iter()
            .map(|m| m.created_at)
            .max()
            .unwrap_or(created_at);
        let tree = ConversationTree {
            conversation: Conversation {
                id: 0,
                title: self
                    .title
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| "Imported from ChatGPT".into()),
                model: model.unwrap_or_else(|| "gpt-4o".into()),
                system_prompt: None,
                current_leaf_id: leaf.or(messages.last().map(|m| m.id)),
                created_at,
                updated_at: millis(self.update_time).unwrap_or(last).max(created_at),
                pinned_at: None,
                deleted_at: None,
                options: ConversationOptions::default(),
            },
            uid: format!("chatgpt:{key}"),
            messages,
            usage: Vec::new(),
            attachments,
            // Made up on import from the conversation's uid and each message's place,
            // the same on every computer importing this file.
            uids: TreeUids::default(),
        };
        Some((tree, skipped_parts))
    }
}

/// A ChatGPT message as Tally shows it: its role, text (with a note where pictures or
/// files were left out), how many parts were left out, and the model; a user's pictures
/// that `find` finds go to `attachments` as message `id`'s. `None` for what ChatGPT does
/// not show: system and tool messages, messages to tools, hidden context, reasoning.
fn shown(
    message: &GptMessage,
    id: i64,
    attachments: &mut Vec<TreeAttachment>,
    find: &mut PictureFinder<'_>,
) -> Option<(Role, String, u32, Option<String>)> {
    let role = match message.author.role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => return None,
    };
    let metadata = message.metadata.as_ref();
    if message.recipient.as_deref().is_some_and(|r| r != "all")
        || metadata.is_some_and(|m| m.is_visually_hidden_from_conversation)
        || !matches!(
            message.content.content_type.as_str(),
            "text" | "multimodal_text"
        )
    {
        return None;
    }
    let mut texts = Vec::new();
    let mut pictures = Vec::new();
    let mut left_out = 0;
    for part in &message.content.parts {
        match part {
            GptPart::Text(text) if !text.trim().is_empty() => texts.push(text.as_str()),
            GptPart::Text(_) => {}
            // A picture goes with the user's message that sent it, as Tally's own would.
            GptPart::Picture(picture)
                if role == Role::User
                    && picture.content_type == "image_asset_pointer"
                    && pictures.len() < crate::attachments::MAX_PER_MESSAGE =>
            {
                match find(&picture.asset_pointer) {
                    Some(found) => pictures.push(found),
                    None => left_out += 1,
                }
            }
            GptPart::Picture(_) | GptPart::Other(_) => left_out += 1,
        }
    }
    let mut text = texts.join("\n\n");
    if left_out > 0 {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(LEFT_OUT_NOTE);
    }
    if text.is_empty() && pictures.is_empty() {
        return None;
    }
    attachments.extend(
        pictures
            .into_iter()
            .map(|(name, picture)| tree_picture(id, name, picture)),
    );
    Some((
        role,
        text,
        left_out,
        metadata.and_then(|m| m.model_slug.clone()),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_come_from_titles() {
        let cases = [
            ("Trip to Lisbon 2026-11-24", "Trip-to-Lisbon-2026-11-24"),
            ("  Déjà vu? / Notes: ", "Déjà-vu-Notes"),
            ("???", "conversation"),
        ];
        for (title, stem) in cases {
            assert_eq!(super::file_stem(title), stem, "{title:?}");
        }
        assert!(super::file_stem(&"long ".repeat(40)).chars().count() <= 60);
    }
}
