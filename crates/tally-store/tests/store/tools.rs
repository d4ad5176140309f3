//! Tools and JSON replies: the permissions the user gave, a reply's calls and its JSON
//! check kept with it.

use tally_store::ConversationOptions;

#[test]
fn a_permission_holds_where_it_was_given_and_goes_when_revoked() {
    let (_dir, mut store) = crate::open();
    let here = store
        .create_conversation_with("a", "m", None, &ConversationOptions::default(), 1)
        .unwrap();
    let there = store
        .create_conversation_with("b", "m", None, &ConversationOptions::default(), 1)
        .unwrap();
    store.allow_tool("Time", "now", Some(here.id), 2).unwrap();
    store.allow_tool("Time", "now", Some(here.id), 3).unwrap();
    assert!(store.tool_allowed("time", "now", here.id).unwrap());
    assert!(!store.tool_allowed("time", "now", there.id).unwrap());
    assert!(!store.tool_allowed("time", "NOW", here.id).unwrap());

    store.allow_tool("Time", "now", None, 4).unwrap();
    store.allow_tool("Time", "now", None, 5).unwrap();
    assert!(store.tool_allowed("Time", "now", there.id).unwrap());
    let listed = store.tool_permissions().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].conversation_id, None);
    assert_eq!(listed[1].conversation_title.as_deref(), Some("a"));

    store.revoke_tool_permission(listed[0].id).unwrap();
    assert!(!store.tool_allowed("Time", "now", there.id).unwrap());
    assert!(store.tool_allowed("Time", "now", here.id).unwrap());
    store.revoke_tool_permission(listed[0].id).unwrap();
}

#[test]
fn a_replys_tool_calls_are_kept_with_it_and_a_conversations_tools_with_it() {
    let (_dir, mut store) = crate::open();
    let options = ConversationOptions {
        tools: Some(r#"[{"server":"time","tool":"now"}]"#.into()),
        ..ConversationOptions::default()
    };
    let conversation = store
        .create_conversation_with("a", "m", None, &options, 1)
        .unwrap();
    assert_eq!(
        store.conversation(conversation.id).unwrap().options,
        options
    );
    let (_user, reply) = store.begin_exchange(conversation.id, "hi", "m", 2).unwrap();
    let calls = r#"[{"tool":"now","status":"done"}]"#;
    store.set_tool_calls(reply.id, Some(calls)).unwrap();
    assert_eq!(
        store.message(reply.id).unwrap().tool_calls.as_deref(),
        Some(calls)
    );
    assert!(store.set_tool_calls(reply.id, Some("not json")).is_err());
    // A JSON reply's check is kept with it, as the engine wrote it.
    let check =
        r#"{"isJson":true,"matchesSchema":false,"problems":["At /city: 7 is not a string"]}"#;
    store
        .set_reply_details(
            reply.id,
            &tally_store::ReplyDetails {
                endpoint: "chat",
                json_check: Some(check),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        store.message(reply.id).unwrap().json_check.as_deref(),
        Some(check)
    );
    assert!(store.set_tool_calls(reply.id + 100, None).is_err());
}
