//! Pictures and files attached to a message: counted before sending as the server bills
//! them, sent in each API's shape, kept with the conversation and sent again on later
//! turns, and refused in words when they cannot be sent.

use base64::Engine as _;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use tally_core::api::{
    AttachmentInput, AttachmentKind, AttachmentRef, DraftRequest, ErrorCode, SendRequest,
};

use crate::{Events, KEY, ask, engine, mock, recent};

/// A photo-like picture of `width`×`height` as a camera's JPEG.
pub fn photo(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut file = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut file, ImageFormat::Jpeg)
        .unwrap();
    file.into_inner()
}

pub fn input(name: &str, file: &[u8]) -> AttachmentInput {
    AttachmentInput {
        name: name.into(),
        data_base64: base64::engine::general_purpose::STANDARD.encode(file),
    }
}

fn with(model: &str, text: &str, attached: &[&AttachmentRef]) -> SendRequest {
    SendRequest {
        model: Some(model.into()),
        attachments: Some(attached.iter().map(|a| (*a).clone()).collect()),
        ..ask(None, text)
    }
}

fn draft(model: &str, text: &str, attached: &[&AttachmentRef]) -> DraftRequest {
    DraftRequest {
        conversation_id: None,
        model: Some(model.into()),
        text: text.into(),
        tools: Some(Vec::new()),
        attachments: Some(attached.iter().map(|a| (*a).clone()).collect()),
    }
}

/// For a table of picture sizes and models (tile and patch rules, both APIs), the input
/// tokens estimated before sending are exactly what the server bills: the mock computes
/// picture tokens by the published rule in its own code.
#[tokio::test]
async fn pictures_are_billed_as_the_estimate_said_for_each_model_and_size() {
    let server = mock("I see it.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let sizes = [
        (64, 48),
        (1024, 1024),
        (3000, 2250),
        (1800, 2400),
        (500, 4000),
    ];
    let models = [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1-mini",
        "gpt-5",
        "o4-mini",
        "gpt-5.4-mini",
        "gpt-5.5-pro",
    ];
    let mut table = String::from(
        "| model | picture | kept as | sent as | estimate | billed |\n|---|---|---|---|---|---|\n",
    );
    for (w, h) in sizes {
        let added = engine
            .attachment_add(input(&format!("{w}x{h}.jpg"), &photo(w, h)), "gpt-4o")
            .unwrap();
        let kept = &added.attachment;
        assert_eq!(kept.kind, AttachmentKind::Image);
        let attached = AttachmentRef {
            id: kept.id,
            name: kept.name.clone(),
        };
        for model in models {
            let text = "What is in this picture?";
            let estimate = engine
                .estimate_draft_now(&draft(model, text, &[&attached]))
                .unwrap();
            assert_eq!(estimate.attachment_problem, None, "{model}");
            let before = server.stats().usage_reported.prompt;
            let events = Events::default();
            engine
                .send(with(model, text, &[&attached]), events.sink())
                .await
                .unwrap();
            let billed = server.stats().usage_reported.prompt - before;
            let requests = server.requests();
            let (sent_w, sent_h) = requests.last().unwrap().messages.last().unwrap().pictures[0]
                .size
                .clone()
                .unwrap();
            table.push_str(&format!(
                "| {model} | {w}×{h} | {}×{} | {sent_w}×{sent_h} | {} ({} for the picture) | {billed} |\n",
                kept.width.unwrap(),
                kept.height.unwrap(),
                estimate.input_tokens,
                estimate.attachment_tokens[0],
            ));
            assert_eq!(estimate.input_tokens, billed, "{model}, {w}×{h}:\n{table}");
            // Sent no larger than the model reads it (a tile model: 768 px on the short
            // side at most), never larger than kept.
            assert!(
                sent_w <= kept.width.unwrap() && sent_h <= kept.height.unwrap(),
                "{table}"
            );
            if model == "gpt-4o" {
                assert!(sent_w.min(sent_h) <= 768, "{table}");
            }
        }
    }
    eprintln!("{table}");
    // Every request carried the picture at high detail, in its API's shape.
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.responses) && requests.iter().any(|r| !r.responses));
    for request in &requests {
        let pictures = &request.messages.last().unwrap().pictures;
        assert_eq!(pictures.len(), 1, "{}", request.model);
        assert_eq!(pictures[0].detail, "high");
        assert!(pictures[0].size.is_ok(), "{:?}", pictures[0].size);
    }
}

/// A phone photo, stored sideways with its GPS position in EXIF, is kept and sent upright,
/// its pixels only.
#[tokio::test]
async fn a_phone_photo_is_sent_upright_and_without_its_metadata() {
    let server = mock("A letter.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let jpeg = photo(80, 40);
    // APP1 with "Exif", orientation 6 (turn clockwise), and a GPS text marker.
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(b"GPS 38.7223N 9.1393W");
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&tiff);
    let mut sideways = jpeg[..2].to_vec();
    sideways.extend_from_slice(&[0xFF, 0xE1]);
    sideways.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    sideways.extend_from_slice(&exif);
    sideways.extend_from_slice(&jpeg[2..]);
    let added = engine
        .attachment_add(input("IMG_2041.jpg", &sideways), "gpt-5.4-mini")
        .unwrap();
    assert_eq!(
        (added.attachment.width, added.attachment.height),
        (Some(40), Some(80))
    );
    let kept = base64::engine::general_purpose::STANDARD
        .decode(
            engine
                .attachment_content(added.attachment.id)
                .unwrap()
                .data_base64,
        )
        .unwrap();
    for marker in [&b"Exif"[..], b"GPS 38.7223N"] {
        assert!(
            !kept.windows(marker.len()).any(|w| w == marker),
            "{marker:?} kept"
        );
    }
    let attached = AttachmentRef {
        id: added.attachment.id,
        name: "IMG_2041.jpg".into(),
    };
    engine
        .send(
            with("gpt-5.4-mini", "", &[&attached]),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let sent = &server.requests()[0].messages[0];
    assert_eq!(sent.pictures[0].size, Ok((40, 80)), "sent upright");
    // A message of a picture alone is titled by its name.
    assert_eq!(recent(&engine)[0].title, "IMG_2041.jpg");
}

/// A conversation keeps what was attached: shown with the message, sent again (and
/// counted) on every later turn.
#[tokio::test]
async fn attachments_stay_with_the_conversation_and_go_with_every_later_turn() {
    let server = mock("Noted.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let picture = engine
        .attachment_add(input("chart.png.jpg", &photo(600, 400)), "gpt-4o")
        .unwrap()
        .attachment;
    let csv = engine
        .attachment_add(
            input("budget.csv", b"item,amount\nrent,900\nfood,350\n"),
            "gpt-4o",
        )
        .unwrap()
        .attachment;
    assert_eq!(csv.kind, AttachmentKind::File);
    let refs = [
        AttachmentRef {
            id: picture.id,
            name: picture.name.clone(),
        },
        AttachmentRef {
            id: csv.id,
            name: csv.name.clone(),
        },
    ];
    engine
        .send(
            with("gpt-4o", "Compare these.", &[&refs[0], &refs[1]]),
            Events::default().sink(),
        )
        .await
        .unwrap();
    let id = recent(&engine)[0].id;
    // The follow-up's estimate counts the earlier picture and file, as the server will.
    let follow_up = DraftRequest {
        conversation_id: Some(id),
        ..draft("gpt-4o", "And the total?", &[])
    };
    let estimate = engine.estimate_draft_now(&follow_up).unwrap();
    let before = server.stats().usage_reported.prompt;
    engine
        .send(ask(Some(id), "And the total?"), Events::default().sink())
        .await
        .unwrap();
    assert_eq!(
        estimate.input_tokens,
        server.stats().usage_reported.prompt - before
    );
    let second = &server.requests()[1];
    let first_user = &second.messages[0];
    assert_eq!(first_user.pictures.len(), 1, "the picture is sent again");
    assert!(
        first_user.content.starts_with(
            "Compare these.\n\n--- Attached file: budget.csv ---\nitem,amount\nrent,900"
        ),
        "{}",
        first_user.content
    );
    // Shown with the message, which keeps its own words only.
    let view = engine.conversation_get(id).unwrap();
    let user = &view.messages[0];
    assert_eq!(user.content, "Compare these.");
    let shown: Vec<(&str, AttachmentKind)> = user
        .attachments
        .iter()
        .map(|a| (a.name.as_str(), a.kind))
        .collect();
    assert_eq!(
        shown,
        [
            ("chart.png.jpg", AttachmentKind::Image),
            ("budget.csv", AttachmentKind::File)
        ]
    );
    assert!(view.messages[1].attachments.is_empty());
    // An edit of the message keeps what it carried.
    let edit = SendRequest {
        edit_of: Some(user.id),
        ..ask(Some(id), "Compare these, briefly.")
    };
    engine.send(edit, Events::default().sink()).await.unwrap();
    let edited = &engine.conversation_get(id).unwrap().messages[0];
    assert_eq!(edited.content, "Compare these, briefly.");
    assert_eq!(edited.attachments.len(), 2, "the edit kept the attachments");
    assert_eq!(server.requests()[2].messages[0].pictures.len(), 1);
}

/// A model that takes no pictures refuses one in words, naming one that does, before
/// anything is kept or sent; the estimate says so while the draft is written.
#[tokio::test]
async fn a_model_without_vision_refuses_pictures_in_words() {
    let server = mock("Hi.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let refused = engine
        .attachment_add(input("cat.jpg", &photo(32, 32)), "o3-mini")
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ModelWithoutVision);
    assert!(
        refused.to_string().starts_with(
            "o3-mini cannot see pictures. Choose a model that can, such as gpt-4o-mini"
        ),
        "{refused}"
    );
    let kept = engine
        .attachment_add(input("cat.jpg", &photo(32, 32)), "gpt-4o")
        .unwrap()
        .attachment;
    let attached = AttachmentRef {
        id: kept.id,
        name: kept.name,
    };
    let estimate = engine
        .estimate_draft_now(&draft("gpt-3.5-turbo", "What is it?", &[&attached]))
        .unwrap();
    assert!(
        estimate
            .attachment_problem
            .as_deref()
            .is_some_and(|p| p.starts_with("gpt-3.5-turbo cannot see pictures")),
        "{:?}",
        estimate.attachment_problem
    );
    let refused = engine
        .send(
            with("gpt-3.5-turbo", "What is it?", &[&attached]),
            Events::default().sink(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ModelWithoutVision);
    assert!(recent(&engine).is_empty(), "nothing was written");
    assert_eq!(server.stats().chat_requests, 0, "nothing was sent");
}

/// Files Tally cannot send are refused in words, each with what to do instead; an
/// attachment gone between choosing and sending refuses the send before anything is
/// written.
#[tokio::test]
async fn files_that_cannot_be_attached_are_refused_in_words() {
    let server = mock("Hi.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let jpeg = photo(64, 64);
    // Each kind by its own bound: a 45 MB PDF is read (this one is damaged), a picture
    // that size is not, and nothing larger than the largest bound is even decoded.
    let mut large_pdf = b"%PDF-1.7\n".to_vec();
    large_pdf.resize(45_000_000, b' ');
    let mut large_picture = jpeg.clone();
    large_picture.resize(45_000_000, 0);
    let cases: [(&str, Vec<u8>, &str); 9] = [
        ("large statement.pdf", large_pdf, "This PDF is damaged"),
        (
            "large photo.jpg",
            large_picture,
            "This picture is 45 MB; pictures up to 40 MB can be attached.",
        ),
        (
            "huge.pdf",
            vec![b'%'; 50_100_000],
            "This file is 50.1 MB, larger than anything Tally can attach (pictures up to 40 MB, \
             PDFs up to 50 MB, text files up to 4 MB).",
        ),
        (
            "Letter to the bank.docx",
            b"PK\x03\x04\0\0\0\0".to_vec(),
            "Word files cannot be attached yet. Save it as a PDF",
        ),
        (
            "statement.pdf",
            b"%PDF-1.7\n...".to_vec(),
            "This PDF is damaged",
        ),
        (
            "photos.zip",
            b"PK\x03\x04\0\0\0\0".to_vec(),
            "Tally can attach pictures",
        ),
        (
            "cut.jpg",
            jpeg[..jpeg.len() / 2].to_vec(),
            "damaged or incomplete",
        ),
        ("empty.txt", b"   \n".to_vec(), "This file is empty"),
        (
            "IMG_0001.HEIC",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
            "cannot read HEIC pictures yet",
        ),
    ];
    for (name, file, said) in cases {
        let refused = engine
            .attachment_add(input(name, &file), "gpt-4o")
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::AttachmentRefused, "{name}");
        assert!(refused.to_string().contains(said), "{name}: {refused}");
    }
    let gone = AttachmentRef {
        id: 4242,
        name: "scan.png".into(),
    };
    let refused = engine
        .send(
            with("gpt-4o", "Read this.", &[&gone]),
            Events::default().sink(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AttachmentRefused);
    assert!(
        refused
            .to_string()
            .starts_with("scan.png is no longer kept"),
        "{refused}"
    );
    assert!(recent(&engine).is_empty());
}

/// A PDF's text is read locally (in a process apart) and sent as text under its name, with
/// its page count; a scan says it has no text; the count matches what the server bills.
#[tokio::test]
async fn a_pdfs_text_is_sent_with_its_page_count_and_a_scan_says_it_has_none() {
    use tally_attach::test_support::pdf;

    let server = mock("Your balance is 300.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let statement = pdf(&[
        vec!["Statement for November".into(), "Rent 900.00".into()],
        vec!["Closing balance 300.00".into()],
    ]);
    let added = engine
        .attachment_add(input("statement.pdf", &statement), "gpt-5.4-mini")
        .unwrap();
    let kept = &added.attachment;
    assert_eq!((kept.kind, kept.pages), (AttachmentKind::File, Some(2)));
    assert!(added.tokens > 10, "{}", added.tokens);
    let attached = AttachmentRef {
        id: kept.id,
        name: kept.name.clone(),
    };
    let estimate = engine
        .estimate_draft_now(&draft("gpt-5.4-mini", "What is my balance?", &[&attached]))
        .unwrap();
    assert_eq!(estimate.attachment_tokens, [added.tokens]);
    engine
        .send(
            with("gpt-5.4-mini", "What is my balance?", &[&attached]),
            Events::default().sink(),
        )
        .await
        .unwrap();
    assert_eq!(estimate.input_tokens, server.stats().usage_reported.prompt);
    let requests = server.requests();
    let sent = &requests[0].messages.last().unwrap().content;
    assert!(
        sent.starts_with(
            "What is my balance?\n\n--- Attached file: statement.pdf ---\nStatement for November"
        ),
        "{sent}"
    );
    assert!(sent.contains("Closing balance 300.00"), "{sent}");

    let scan = pdf(&[Vec::new(), Vec::new(), Vec::new()]);
    let refused = engine
        .attachment_add(input("scan.pdf", &scan), "gpt-5.4-mini")
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::PdfWithoutText);
    assert!(
        refused
            .to_string()
            .starts_with("This PDF has no text in it (3 pages of pictures"),
        "{refused}"
    );
}

/// A scan's pages, offered as pictures, are drawn locally, kept as pictures named after
/// the file and page, counted as the server bills them, and sent; a model that takes no
/// pictures refuses them before anything is drawn.
#[tokio::test]
async fn a_scans_pages_go_as_pictures_billed_as_estimated() {
    use tally_attach::test_support::scan;

    let server = mock("It is a letter from the bank.", 100, 0).await;
    let (_dir, engine) = engine(&server, Some(KEY));
    let page = (photo(120, 170), 120, 170);
    let letter = scan(&[page.clone(), page]);
    let refused = engine
        .attachment_add_pdf_pages(input("letter.pdf", &letter), "o3-mini")
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ModelWithoutVision, "{refused}");

    let added = engine
        .attachment_add_pdf_pages(input("letter.pdf", &letter), "gpt-4o")
        .unwrap();
    let names: Vec<&str> = added.iter().map(|a| a.attachment.name.as_str()).collect();
    assert_eq!(
        names,
        ["letter, page 1 of 2.jpg", "letter, page 2 of 2.jpg"]
    );
    for page in &added {
        let kept = &page.attachment;
        assert_eq!(kept.kind, AttachmentKind::Image);
        assert_eq!((kept.width, kept.height), (Some(1447), Some(2048)));
        // gpt-4o: 768×1087 read, 2×3 tiles of 170, and 85.
        assert_eq!(page.tokens, 85 + 6 * 170);
    }
    let attached: Vec<AttachmentRef> = added
        .iter()
        .map(|a| AttachmentRef {
            id: a.attachment.id,
            name: a.attachment.name.clone(),
        })
        .collect();
    let attached: Vec<&AttachmentRef> = attached.iter().collect();
    let estimate = engine
        .estimate_draft_now(&draft("gpt-4o", "What is this letter?", &attached))
        .unwrap();
    engine
        .send(
            with("gpt-4o", "What is this letter?", &attached),
            Events::default().sink(),
        )
        .await
        .unwrap();
    assert_eq!(estimate.input_tokens, server.stats().usage_reported.prompt);
    let sent = recent(&engine);
    assert_eq!(sent.len(), 1);

    let refused = engine
        .attachment_add_pdf_pages(input("notes.txt", b"just text"), "gpt-4o")
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AttachmentRefused, "{refused}");
}
