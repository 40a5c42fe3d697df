//! The chat example in a real browser: two headless Chromium pages, driven by `playwright-core`,
//! with and without permessage-deflate, and with the MessagePack parser. The screenshots are kept in `tests/artifacts/`.

mod support;

use serde_json::{Value, json};
use support::{Server, node, root};

/// Runs the chat example with `args`, two pages chatting in it (a short message, then one of
/// 2,000 characters), and the screenshot kept as `tests/artifacts/<screenshot>`: what the
/// pages saw, and the `Sec-WebSocket-Extensions` answer of each WebSocket.
fn chat_in_browser(args: &[&str], screenshot: &str) -> Value {
    let server = Server::start("chat", args);
    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts folder");
    let screenshot = artifacts.join(screenshot);
    let _ = std::fs::remove_file(&screenshot);
    let mut result = node(
        "browser_chat.mjs",
        &[&server.url(), screenshot.to_str().expect("UTF-8 path")],
    );
    assert!(screenshot.exists(), "the screenshot is kept");
    let shown = json!({
        "aliceSaw": ["hello from alice"],
        "bobSaw": ["hello from alice"],
        "status": "delivered: ok",
        "longArrived": [true, true],
    });
    let extensions = result
        .as_object_mut()
        .and_then(|result| result.remove("extensions"))
        .expect("the answers seen");
    assert_eq!(result, shown);
    let extensions = extensions.as_array().expect("a list").clone();
    assert!(
        extensions.len() >= 2,
        "a WebSocket per page: {extensions:?}"
    );
    Value::Array(extensions)
}

#[test]
fn two_pages_chat_and_the_sender_sees_the_ack() {
    let extensions = chat_in_browser(&[], "chat.png");
    // Off by default: no WebSocket got compression.
    assert!(
        extensions
            .as_array()
            .into_iter()
            .flatten()
            .all(Value::is_null),
        "{extensions}"
    );
}

#[test]
fn the_chat_runs_in_the_browser_with_the_msgpack_parser() {
    // The page loads the client's MessagePack bundle from a server started with
    // `--parser msgpack`; the JSON bundle could not join it.
    chat_in_browser(&["--parser", "msgpack"], "chat-msgpack.png");
}

#[test]
fn the_chat_runs_with_websocket_compression() {
    // Chromium offers permessage-deflate on every WebSocket; each page's upgrade got it, and the
    // message of 2,000 characters (compressed both ways) reached both pages.
    let extensions = chat_in_browser(&["--deflate"], "chat-deflate.png");
    let agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    assert!(
        extensions
            .as_array()
            .into_iter()
            .flatten()
            .all(|answer| answer == agreed),
        "{extensions}"
    );
}
