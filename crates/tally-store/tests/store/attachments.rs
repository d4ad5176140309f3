//! Attachments: kept once per content, linked to their message with the message, in order,
//! and removed only when nothing links them.

use tally_store::{AttachmentKind, NewAttachment, StoreError};

fn picture(content: &[u8]) -> NewAttachment<'_> {
    NewAttachment {
        kind: AttachmentKind::Image,
        mime: "image/jpeg",
        content,
        width: Some(640),
        height: Some(480),
        pages: None,
    }
}

#[test]
fn the_same_content_is_kept_once_and_read_back_whole() {
    let (_dir, store) = crate::open();
    let first = store
        .put_attachment(&picture(b"jpeg bytes one"), 1_000)
        .unwrap();
    let again = store
        .put_attachment(&picture(b"jpeg bytes one"), 2_000)
        .unwrap();
    let other = store
        .put_attachment(&picture(b"jpeg bytes two"), 3_000)
        .unwrap();
    assert_eq!(first, again, "the same content is one row, as first kept");
    assert_ne!(first.id, other.id);
    assert_eq!(first.sha256.len(), 64);
    assert_eq!(
        (first.width, first.height, first.size_bytes),
        (Some(640), Some(480), 14)
    );
    assert_eq!(
        store.attachment_content(first.id).unwrap(),
        b"jpeg bytes one"
    );
    assert!(matches!(
        store.attachment_content(999),
        Err(StoreError::NoAttachment(999))
    ));
}

#[test]
fn a_message_is_written_with_its_attachments_in_order_or_not_at_all() {
    let (_dir, mut store) = crate::open();
    let conversation = store
        .create_conversation("Letters", "gpt-5.4-mini", 0)
        .unwrap();
    let photo = store.put_attachment(&picture(b"photo"), 0).unwrap();
    let text = store
        .put_attachment(
            &NewAttachment {
                kind: AttachmentKind::File,
                mime: "text/plain",
                content: "Dear bank,".as_bytes(),
                width: None,
                height: None,
                pages: None,
            },
            0,
        )
        .unwrap();
    let (user, _reply) = store
        .begin_exchange_with(
            conversation.id,
            None,
            "What do these say?",
            &[(text.id, "letter.txt"), (photo.id, "IMG_2041.jpg")],
            "gpt-5.4-mini",
            10,
        )
        .unwrap();
    let found = store.attachments_of(&[user.id]).unwrap();
    let names: Vec<(&str, AttachmentKind)> = found[&user.id]
        .iter()
        .map(|a| (a.name.as_str(), a.attachment.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("letter.txt", AttachmentKind::File),
            ("IMG_2041.jpg", AttachmentKind::Image)
        ]
    );
    // An attachment gone meanwhile: the message is not written at all.
    let before = store.current_branch(conversation.id).unwrap().len();
    let refused = store.begin_exchange_with(
        conversation.id,
        None,
        "And this?",
        &[(photo.id, "IMG_2041.jpg"), (4242, "gone.png")],
        "gpt-5.4-mini",
        20,
    );
    assert!(
        matches!(refused, Err(StoreError::NoAttachment(4242))),
        "{refused:?}"
    );
    assert_eq!(store.current_branch(conversation.id).unwrap().len(), before);
}

#[test]
fn only_attachments_nothing_links_are_removed_once_old() {
    let (_dir, mut store) = crate::open();
    let conversation = store
        .create_conversation("Photos", "gpt-5.4-mini", 0)
        .unwrap();
    let sent = store.put_attachment(&picture(b"sent"), 0).unwrap();
    let draft = store.put_attachment(&picture(b"draft"), 0).unwrap();
    let fresh = store.put_attachment(&picture(b"fresh"), 500).unwrap();
    store
        .begin_exchange_with(conversation.id, None, "", &[(sent.id, "a.jpg")], "m", 1)
        .unwrap();
    assert_eq!(store.delete_unused_attachments(100).unwrap(), 1);
    assert!(store.attachment(sent.id).is_ok(), "a sent one stays");
    assert!(store.attachment(draft.id).is_err(), "an old draft's goes");
    assert!(
        store.attachment(fresh.id).is_ok(),
        "a draft still being written stays"
    );
    // Once its message is deleted for good, nothing links it: it goes too.
    store.trash_conversation(conversation.id, 2).unwrap();
    store.delete_trashed_conversation(conversation.id).unwrap();
    assert_eq!(store.delete_unused_attachments(1_000).unwrap(), 2);
}
