//! Export and import: Tally JSON round trips losslessly between databases, Markdown reads
//! well, ChatGPT's conversations.json arrives with its branches, and nothing is imported
//! twice.

use std::path::Path;
use std::sync::Arc;

use tally_core::Engine;
use tally_core::api::{
    ChatOptions, ConversationSettings, ErrorCode, ExportFormat, ExportRequest, ImportSource,
    ImportSummary, LedgerQuery, MessageStatus, Role,
};

use crate::{Events, KEY, ask, engine, mock};

const CHATGPT: &str = include_str!("fixtures/chatgpt-conversations.json");

/// Two conversations: one with a system prompt, settings, a regenerated reply and a pin;
/// one plain. Every request is in the ledger.
async fn history(engine: &Arc<Engine>) -> (i64, i64) {
    // The first message carries a picture and a text file.
    let mut attached = Vec::new();
    for (name, file) in [
        ("map.jpg", crate::attachments::photo(400, 300)),
        ("dates.txt", b"Arrive 3 May\nLeave 9 May\n".to_vec()),
    ] {
        let kept = engine
            .attachment_add(crate::attachments::input(name, &file), "gpt-4o-mini")
            .unwrap()
            .attachment;
        attached.push(tally_core::api::AttachmentRef {
            id: kept.id,
            name: kept.name,
        });
    }
    let mut first = ask(None, "Plan a trip to Lisbon");
    first.attachments = Some(attached);
    first.settings = Some(ConversationSettings {
        model: "gpt-4o-mini".into(),
        system_prompt: Some("You are a travel agent.".into()),
        options: ChatOptions {
            temperature: Some(0.7),
            max_output_tokens: Some(500),
            // Its replies cite a source and bill a search call.
            web_search: true,
            ..ChatOptions::default()
        },
    });
    engine.send(first, Events::default().sink()).await.unwrap();
    let trip = crate::recent(engine)[0].id;
    engine
        .send(ask(Some(trip), "And the budget?"), Events::default().sink())
        .await
        .unwrap();
    engine
        .retry(trip, None, false, Events::default().sink())
        .await
        .unwrap();
    engine.conversation_pin(trip, true).unwrap();
    // Replies in JSON, checked against a schema.
    let mut tea = ask(None, "A haiku about tea");
    tea.settings = Some(ConversationSettings {
        model: "gpt-4o-mini".into(),
        system_prompt: None,
        options: ChatOptions {
            reply_format: tally_core::api::ReplyFormat::JsonSchema,
            json_schema: Some(r#"{"type": "object", "required": ["haiku"]}"#.into()),
            ..ChatOptions::default()
        },
    });
    engine.send(tea, Events::default().sink()).await.unwrap();
    let tea = crate::recent(engine)[0].id;
    (trip, tea)
}

fn export(engine: &Engine, folder: &Path, id: Option<i64>, format: ExportFormat) -> String {
    let result = engine
        .export_conversations(
            &ExportRequest {
                conversation_id: id,
                format,
            },
            folder,
        )
        .unwrap();
    assert!(result.path.starts_with(folder.to_str().unwrap()));
    std::fs::read_to_string(&result.path).unwrap()
}

/// What a conversation is, whatever its ids: title, settings, cost, pin, and every
/// message of every branch with its place in the tree and on screen.
fn shape(engine: &Engine, id: i64) -> String {
    let view = engine.conversation_get(id).unwrap();
    let mut text = format!(
        "{} | {:?} | {} | pinned {} | {} on screen\n",
        view.conversation.title,
        view.settings,
        view.cost_nanos,
        view.conversation.pinned,
        view.messages.len()
    );
    for m in &view.messages {
        let position = m.sibling_ids.iter().position(|s| *s == m.id);
        text.push_str(&format!(
            "{:?} {:?} {:?} {:?} v{position:?}/{} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
            m.role,
            m.content,
            m.status,
            m.finish_reason,
            m.sibling_ids.len(),
            m.model,
            m.cost_nanos,
            m.created_at,
            m.citations,
            m.usage,
            m.tool_calls,
            m.json_check
        ));
        for a in &m.attachments {
            let content = engine.attachment_content(a.id).unwrap();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&content.data_base64, &mut hasher);
            text.push_str(&format!(
                "  carries {:?} {:?} {} {:?}×{:?} {} bytes, content {:x}\n",
                a.name,
                a.kind,
                a.mime,
                a.width,
                a.height,
                a.size_bytes,
                std::hash::Hasher::finish(&hasher)
            ));
        }
        // The other versions too.
        for sibling in m.sibling_ids.iter().filter(|s| **s != m.id) {
            let other = engine.conversation_switch(id, *sibling).unwrap();
            let shown = other.messages.iter().find(|x| x.id == *sibling).unwrap();
            text.push_str(&format!(
                "  version {:?} {:?}\n",
                shown.content, shown.cost_nanos
            ));
            engine.conversation_switch(id, m.id).unwrap();
        }
    }
    text
}

fn by_title(engine: &Engine) -> Vec<(String, i64)> {
    let page = engine.conversation_list(&Default::default()).unwrap();
    let mut all: Vec<_> = page
        .pinned
        .iter()
        .chain(&page.recent)
        .map(|c| (c.title.clone(), c.id))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn tally_json_moves_everything_to_another_database_and_back_without_duplicates() {
    let server = mock("Lisbon is lovely in spring.", 7, 0).await;
    let (_a_dir, a) = engine(&server, Some(KEY));
    history(&a).await;
    let folder = tempfile::tempdir().unwrap();
    let file = export(&a, folder.path(), None, ExportFormat::Json);

    let (_b_dir, b) = engine(&server, Some(KEY));
    let summary = b.import_text(&file, |_| {}).unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            source: ImportSource::Tally,
            imported: 2,
            already_there: 0,
            messages: 7,
            skipped_parts: 0,
            pictures: 1,
            unreadable: 0,
        }
    );
    let (from_a, from_b) = (by_title(&a), by_title(&b));
    assert_eq!(from_a.len(), 2);
    let trip = from_a
        .iter()
        .find(|(t, _)| t == "Plan a trip to Lisbon")
        .unwrap()
        .1;
    assert!(
        shape(&a, trip).contains("carries \"map.jpg\" Image image/jpeg Some(400)×Some(300)"),
        "the picture is part of what is compared"
    );
    for ((title_a, id_a), (title_b, id_b)) in from_a.iter().zip(&from_b) {
        assert_eq!(title_a, title_b);
        assert_eq!(shape(&a, *id_a), shape(&b, *id_b), "{title_a}");
    }
    // The ledger came along: the same money, month by month.
    assert_eq!(
        a.spend_summary().unwrap().spent_nanos,
        b.spend_summary().unwrap().spent_nanos
    );
    assert!(b.spend_summary().unwrap().spent_nanos > 0);
    // A second import, and an import back into the first database, add nothing.
    let again = b.import_text(&file, |_| {}).unwrap();
    assert_eq!((again.imported, again.already_there), (0, 2));
    let back = export(&b, folder.path(), None, ExportFormat::Json);
    let returned = a.import_text(&back, |_| {}).unwrap();
    assert_eq!((returned.imported, returned.already_there), (0, 2));
    assert_eq!(by_title(&a).len(), 2);
}

#[tokio::test]
async fn markdown_reads_like_the_conversation_on_screen() {
    let server = mock("Lisbon is lovely in spring.", 7, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let (trip, _) = history(&engine).await;
    let folder = tempfile::tempdir().unwrap();
    let one = export(&engine, folder.path(), Some(trip), ExportFormat::Markdown);
    assert!(
        one.starts_with("# Plan a trip to Lisbon\n\ngpt-4o-mini · started "),
        "{one}"
    );
    assert!(one.contains("**Instructions:** You are a travel agent."));
    assert!(one.contains("\n## You\n\nPlan a trip to Lisbon\n"));
    // What the message carried is named.
    assert!(
        one.contains(
            "\n## You\n\nPlan a trip to Lisbon\n\n*Attached: map.jpg (picture, 400×300), dates.txt (text file)*\n"
        ),
        "{one}"
    );
    assert!(one.contains("\n## Assistant (gpt-4o-mini)\n\nLisbon is lovely in spring."));
    // A reply that searched lists its sources.
    assert!(one.contains(&format!(
        "\nSources:\n- [Mock source — example.org](<{}>)\n",
        mock_openai::MOCK_SOURCE_URL
    )));
    assert_eq!(
        one.matches("## You").count(),
        2,
        "the branch on screen only"
    );
    assert!(!one.contains("A haiku"));
    let all = export(&engine, folder.path(), None, ExportFormat::Markdown);
    assert!(all.contains("# Plan a trip to Lisbon") && all.contains("# A haiku about tea"));
    assert_eq!(all.matches("\n\n---\n\n").count(), 1);
    // Files never overwrite each other.
    let names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
    assert_eq!(names.len(), 2);
}

/// What importing the ChatGPT sample does the first time: its 4 readable conversations
/// (one is there twice, one cannot be read), the chart's picture left out or brought in.
fn sample_imported(skipped_parts: u32, pictures: u32) -> ImportSummary {
    ImportSummary {
        source: ImportSource::Chatgpt,
        imported: 4,
        already_there: 1,
        messages: 4 + 7 + 2 + 2,
        skipped_parts,
        pictures,
        unreadable: 1,
    }
}

#[tokio::test]
async fn chatgpt_conversations_arrive_with_their_branches_once() {
    let server = mock("x", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let summary = engine.import_text(CHATGPT, |_| {}).unwrap();
    assert_eq!(summary, sample_imported(1, 0));
    let titles: Vec<String> = by_title(&engine).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        titles,
        [
            "Chart and a product",
            "Imported from ChatGPT",
            "Rain poem",
            "Soft-boiled eggs"
        ]
    );
    let id = |title: &str| {
        by_title(&engine)
            .into_iter()
            .find(|(t, _)| t == title)
            .unwrap()
            .1
    };

    // Linear; the hidden system message is not shown; ChatGPT's times and model.
    let eggs = engine.conversation_get(id("Soft-boiled eggs")).unwrap();
    let roles: Vec<Role> = eggs.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    assert!(eggs.messages[1].content.contains("| 6 | runny |"));
    assert_eq!(eggs.conversation.model, "gpt-4o");
    assert_eq!(eggs.messages[1].model.as_deref(), Some("gpt-4o"));
    assert_eq!(eggs.messages[1].status, MessageStatus::Complete);
    assert_eq!(eggs.conversation.updated_at, 1_731_400_600_123);
    assert_eq!(eggs.cost_nanos, 0, "no costs from another app");

    // The branch last seen in ChatGPT is on screen; the others are versions of it.
    let poem = engine.conversation_get(id("Rain poem")).unwrap();
    let texts: Vec<&str> = poem.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts[2], "Now in German.");
    assert!(texts[3].starts_with("Graue Fäden"));
    assert_eq!(
        poem.messages[1].sibling_ids.len(),
        2,
        "the regenerated reply"
    );
    assert_eq!(poem.messages[2].sibling_ids.len(), 2, "the edited message");
    let french = engine
        .conversation_switch(poem.conversation.id, poem.messages[2].sibling_ids[0])
        .unwrap();
    assert!(french.messages[3].content.starts_with("Des fils gris"));

    // Only what ChatGPT showed: the picture noted, the code call, its output and the
    // model's thoughts left out.
    let chart = engine.conversation_get(id("Chart and a product")).unwrap();
    assert_eq!(chart.messages.len(), 2);
    assert!(
        chart.messages[0]
            .content
            .starts_with("What is in this chart? Also compute 17*23.")
    );
    assert!(
        chart.messages[0]
            .content
            .contains("picture or file from ChatGPT")
    );
    assert!(chart.messages[1].content.contains("17 × 23 = **391**"));
    assert_eq!(chart.conversation.model, "o4-mini");

    // Brackets inside strings, no id but a conversation_id, no title.
    let untitled = engine
        .conversation_get(id("Imported from ChatGPT"))
        .unwrap();
    assert!(
        untitled.messages[0]
            .content
            .contains("a } and a [ inside a string")
    );
    assert!(untitled.messages[1].content.ends_with("😀"));
    // Searchable at once.
    assert_eq!(engine.search("Morse").unwrap().hits.len(), 1);

    let again = engine.import_text(CHATGPT, |_| {}).unwrap();
    assert_eq!(
        (again.imported, again.already_there, again.unreadable),
        (0, 5, 1)
    );
}

#[tokio::test]
async fn a_file_sent_in_small_pieces_imports_as_it_arrives() {
    let server = mock("x", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let upload = engine.import_begin();
    // Pieces of 7 characters (at char boundaries), cutting through every token.
    let chars: Vec<char> = CHATGPT.chars().collect();
    for (i, piece) in chars.chunks(7).enumerate() {
        engine
            .import_append(upload, piece.iter().collect())
            .await
            .unwrap();
        // Conversations are written as soon as they are whole.
        if i == chars.len() / 7 / 2 {
            assert!(!crate::recent(&engine).is_empty());
        }
    }
    let summary = engine.import_run(upload, |_| {}).await.unwrap();
    assert_eq!(
        (summary.imported, summary.already_there, summary.unreadable),
        (4, 1, 1)
    );
    let error = engine.import_run(upload, |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("cancelled"), "{error}");
}

#[tokio::test]
async fn a_cut_off_or_foreign_file_is_explained_and_keeps_what_was_read() {
    let server = mock("x", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let upload = engine.import_begin();
    let cut = CHATGPT
        .char_indices()
        .nth(CHATGPT.chars().count() * 2 / 3)
        .unwrap()
        .0;
    engine
        .import_append(upload, CHATGPT[..cut].to_string())
        .await
        .unwrap();
    let error = engine.import_run(upload, |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("ended too early"), "{error}");
    assert!(
        !crate::recent(&engine).is_empty(),
        "the conversations before the cut"
    );

    for foreign in ["name,amount\nrent,900\n", "{\"hello\": 1}", "", "[1, 2]"] {
        let error = engine.import_text(foreign, |_| {}).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("neither a Tally export nor ChatGPT"),
            "{foreign:?}: {error}"
        );
    }
}

#[tokio::test]
async fn a_tally_import_reports_its_progress() {
    let server = mock("ok", 50, 0).await;
    let (_a_dir, a) = engine(&server, Some(KEY));
    history(&a).await;
    let folder = tempfile::tempdir().unwrap();
    let file = export(&a, folder.path(), None, ExportFormat::Json);
    let (_b_dir, b) = engine(&server, Some(KEY));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    b.import_text(&file, move |p| log.lock().unwrap().push((p.done, p.total)))
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(0, 2), (1, 2), (2, 2)]);
}

/// An imported file is untrusted: a ledger row with a negative or absurd cost, tokens past
/// any real request, an unknown status or a date in the future makes its conversation
/// unreadable (reported, not imported), so the month's sum and the hard stop stay right.
#[tokio::test]
async fn an_imported_ledger_row_out_of_any_real_range_is_refused() {
    let server = mock("Fine.", 7, 0).await;
    let (_a_dir, a) = engine(&server, Some(KEY));
    a.send(ask(None, "One question"), Events::default().sink())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = export(&a, folder.path(), None, ExportFormat::Json);
    let cases: [(&str, serde_json::Value); 7] = [
        ("costNanos", serde_json::json!(-5_000_000_000i64)),
        ("costNanos", serde_json::json!(i64::MAX)),
        ("promptTokens", serde_json::json!(u64::MAX)),
        ("status", serde_json::json!("=HYPERLINK(\"http://x\")")),
        ("createdAt", serde_json::json!(i64::MAX / 2)),
        ("createdAt", serde_json::json!(-1)),
        ("durationMs", serde_json::json!(-3)),
    ];
    for (field, value) in cases {
        let mut json: serde_json::Value = serde_json::from_str(&file).unwrap();
        json["conversations"][0]["usage"][0][field] = value.clone();
        let (_b_dir, b) = engine(&server, Some(KEY));
        let summary = b.import_text(&json.to_string(), |_| {}).unwrap();
        assert_eq!(
            (summary.imported, summary.unreadable),
            (0, 1),
            "{field} = {value}"
        );
        assert_eq!(b.spend_summary().unwrap().spent_nanos, 0, "{field}");
    }
    // The file as exported still imports.
    let (_b_dir, b) = engine(&server, Some(KEY));
    assert_eq!(b.import_text(&file, |_| {}).unwrap().imported, 1);
}

/// Exports never overwrite a file or follow a link, and are the user's alone.
#[cfg(unix)]
#[tokio::test]
async fn exports_never_overwrite_or_follow_a_link_and_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = mock("Fine.", 7, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    engine
        .send(ask(None, "Export me"), Events::default().sink())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let first = engine
        .export_conversations(
            &ExportRequest {
                conversation_id: None,
                format: ExportFormat::Json,
            },
            folder.path(),
        )
        .unwrap();
    let mode = std::fs::metadata(&first.path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A link planted where the next name would be, pointing at a file that does not
    // exist yet: the export fails rather than create that file through the link.
    let stem = Path::new(&first.path)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap();
    let target = elsewhere.path().join("planted");
    std::os::unix::fs::symlink(&target, folder.path().join(format!("{stem}-2.json"))).unwrap();
    let second = engine.export_conversations(
        &ExportRequest {
            conversation_id: None,
            format: ExportFormat::Json,
        },
        folder.path(),
    );
    let refused = second.expect_err("an export through a link");
    assert_eq!(refused.code(), ErrorCode::FileFailed, "{refused}");
    assert!(!target.exists(), "the export wrote through a link");
    assert!(
        std::fs::read_to_string(&first.path)
            .unwrap()
            .contains("Export me")
    );
}

/// An export that cannot be written says so with the file's own code and names the file,
/// rather than calling it invalid input.
#[tokio::test]
async fn an_export_that_cannot_be_written_is_a_file_failure_naming_the_file() {
    let server = mock("Fine.", 7, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    engine
        .send(ask(None, "Export me"), Events::default().sink())
        .await
        .unwrap();
    let not_a_folder = dir.path().join("not-a-folder");
    std::fs::write(&not_a_folder, "a file where the folder should be").unwrap();
    let conversations = engine
        .export_conversations(
            &ExportRequest {
                conversation_id: None,
                format: ExportFormat::Markdown,
            },
            &not_a_folder,
        )
        .expect_err("an export into a file");
    let ledger = engine
        .ledger_export(&LedgerQuery::default(), &not_a_folder)
        .expect_err("a CSV export into a file");
    for error in [conversations, ledger] {
        assert_eq!(error.code(), ErrorCode::FileFailed, "{error}");
        assert!(error.to_string().contains("not-a-folder"), "{error}");
    }
}

/// A piece sent for an import Tally no longer knows (cancelled, or never begun) is "not
/// found", in words that say what to do.
#[tokio::test]
async fn a_piece_of_an_unknown_import_is_not_found() {
    let server = mock("Fine.", 7, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let error = engine
        .import_append(9_999, "[".into())
        .await
        .expect_err("an unknown upload");
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
    assert!(
        error.to_string().contains("Choose the file again"),
        "{error}"
    );
}

/// An imported file's attachments are untrusted: a picture with a position in its EXIF
/// arrives without it (and upright), and a conversation whose attachment cannot be read is
/// left out whole, counted as unreadable.
#[tokio::test]
async fn imported_attachments_are_made_safe_or_refused_with_their_conversation() {
    use base64::Engine as _;

    let server = mock("Lisbon is lovely in spring.", 50, 0).await;
    let (_a_dir, a) = engine(&server, Some(KEY));
    history(&a).await;
    let folder = tempfile::tempdir().unwrap();
    let mut file: serde_json::Value =
        serde_json::from_str(&export(&a, folder.path(), None, ExportFormat::Json)).unwrap();
    let sideways = sideways_photo_with_a_position();
    let conversations = file["conversations"].as_array_mut().unwrap();
    for conversation in conversations.iter_mut() {
        let trip = conversation["title"] == "Plan a trip to Lisbon";
        let first = &mut conversation["messages"][0];
        if trip {
            first["attachments"][0]["dataBase64"] = base64::engine::general_purpose::STANDARD
                .encode(&sideways)
                .into();
        } else {
            first["attachments"] = serde_json::json!([{
                "name": "broken.png", "kind": "image", "mime": "image/png",
                "dataBase64": base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nbroken")
            }]);
        }
    }
    let (_b_dir, b) = engine(&server, Some(KEY));
    let summary = b.import_text(&file.to_string(), |_| {}).unwrap();
    assert_eq!(
        (summary.imported, summary.unreadable),
        (1, 1),
        "{summary:?}"
    );
    let trip = by_title(&b)[0].1;
    let first = &b.conversation_get(trip).unwrap().messages[0];
    assert_upright_without_its_position(&b, &first.attachments[0]);
}

/// `picture`, kept from [`sideways_photo_with_a_position`], is upright and its position is
/// gone.
fn assert_upright_without_its_position(engine: &Engine, picture: &tally_core::api::AttachmentView) {
    use base64::Engine as _;
    assert_eq!(
        (picture.width, picture.height),
        (Some(20), Some(40)),
        "turned upright"
    );
    let kept = base64::engine::general_purpose::STANDARD
        .decode(engine.attachment_content(picture.id).unwrap().data_base64)
        .unwrap();
    assert!(
        !kept.windows(12).any(|w| w == b"GPS 38.7223N"),
        "the position came in"
    );
}

/// A phone photo with its orientation (6: turned) and a position in its EXIF.
fn sideways_photo_with_a_position() -> Vec<u8> {
    let jpeg = crate::attachments::photo(40, 20);
    let mut sideways = jpeg[..2].to_vec();
    let mut exif =
        b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPS 38.7223N 9.1393W");
    sideways.extend_from_slice(&[0xFF, 0xE1]);
    sideways.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    sideways.extend_from_slice(&exif);
    sideways.extend_from_slice(&jpeg[2..]);
    sideways
}

/// The first message of the conversation titled `title`.
fn first_message_of(engine: &Engine, title: &str) -> tally_core::api::MessageView {
    let id = by_title(engine)
        .into_iter()
        .find(|(t, _)| t == title)
        .unwrap()
        .1;
    engine.conversation_get(id).unwrap().messages.swap_remove(0)
}

/// A zip of `entries` (name, bytes), compressed as ChatGPT's export is.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Sends `file` as the web view does a .zip: base64 pieces, then the run.
async fn import_zip(
    engine: &Arc<Engine>,
    file: &[u8],
) -> Result<ImportSummary, tally_core::CoreError> {
    use base64::Engine as _;
    let upload = engine.import_begin();
    for piece in file.chunks(1000) {
        engine
            .import_append_archive(
                upload,
                base64::engine::general_purpose::STANDARD.encode(piece),
            )
            .await?;
    }
    engine.import_run(upload, |_| {}).await
}

/// ChatGPT's export chosen as its .zip: the picture a message points to comes in with it,
/// made safe (upright, its position gone) and named as it was uploaded; nothing of the zip
/// stays in the data folder; a second import adds nothing.
#[tokio::test]
async fn chatgpt_export_zip_brings_the_pictures_its_messages_point_to() {
    use base64::Engine as _;

    let server = mock("x", 50, 0).await;
    let (dir, engine) = engine(&server, Some(KEY));
    let photo = sideways_photo_with_a_position();
    let unrelated = crate::attachments::photo(8, 8);
    let file = zip_of(&[
        ("user.json", b"{}"),
        ("conversations.json", CHATGPT.as_bytes()),
        ("file-AbC123-chart.jpg", &photo),
        ("dalle-generations/file-Unused-cat.webp", &unrelated),
        ("chat.html", b"<html></html>"),
    ]);
    let summary = import_zip(&engine, &file).await.unwrap();
    assert_eq!(summary, sample_imported(0, 1));
    let question = first_message_of(&engine, "Chart and a product");
    assert_eq!(
        question.content,
        "What is in this chart? Also compute 17*23."
    );
    assert_eq!(question.attachments.len(), 1);
    assert_eq!(question.attachments[0].name, "chart.jpg");
    assert_upright_without_its_position(&engine, &question.attachments[0]);
    let imports = dir.path().join("imports");
    let left: Vec<_> = std::fs::read_dir(&imports).unwrap().collect();
    assert!(left.is_empty(), "the zip stayed: {left:?}");

    let again = import_zip(&engine, &file).await.unwrap();
    assert_eq!(
        (again.imported, again.already_there, again.pictures),
        (0, 5, 0)
    );

    // A zip a crash left half received is removed when Tally opens again.
    let upload = engine.import_begin();
    engine
        .import_append_archive(
            upload,
            base64::engine::general_purpose::STANDARD.encode(&file[..1000]),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read_dir(&imports).unwrap().count(), 1);
    drop(engine);
    let mut config = tally_core::EngineConfig::new(dir.path());
    config.keychain_service = format!("Tally-test-{}", std::process::id());
    let _reopened = Engine::open(config).unwrap();
    assert!(!imports.exists(), "the crash's upload stayed");
}

/// What is not ChatGPT's export as a zip is refused in words, and a picture the export
/// does not hold, or that is not a picture Tally can read, leaves its note.
#[tokio::test]
async fn a_zip_that_is_not_the_export_or_lacks_a_picture_is_explained() {
    let server = mock("x", 50, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let cases: [(&[u8], &str); 3] = [
        (b"not a zip at all", "not a .zip"),
        (
            &zip_of(&[("notes.txt", b"hello")]),
            "holds no conversations.json",
        ),
        (
            b"PK\x03\x04 cut off after its first bytes",
            "not a .zip Tally can read",
        ),
    ];
    for (file, said) in cases {
        let error = import_zip(&engine, file).await.expect_err(said);
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
        assert!(error.to_string().contains(said), "{error}");
    }

    // A picture bomb stands where the chart was: 50,000 × 50,000 in a few bytes.
    let bomb = tally_attach::test_support::png_claiming(50_000, 50_000);
    let file = zip_of(&[
        ("conversations.json", CHATGPT.as_bytes()),
        ("file-AbC123.png", &bomb),
    ]);
    let summary = import_zip(&engine, &file).await.unwrap();
    assert_eq!(
        (summary.imported, summary.pictures, summary.skipped_parts),
        (4, 0, 1)
    );
    let question = first_message_of(&engine, "Chart and a product");
    assert!(question.attachments.is_empty());
    assert!(question.content.contains("picture or file from ChatGPT"));
}
