//! The chat example in a real browser: two headless Chromium pages, driven by `playwright-core`,
//! with and without permessage-deflate. The screenshots are kept in `tests/artifacts/`.

mod support;

use serde_json::json;
use support::{Server, node, root};

#[test]
fn two_pages_chat_and_the_sender_sees_the_ack() {
    let server = Server::start("chat", &[]);
    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts folder");
    let screenshot = artifacts.join("chat.png");
    let _ = std::fs::remove_file(&screenshot);
    let result = node(
        "browser_chat.mjs",
        &[&server.url(), screenshot.to_str().expect("UTF-8 path")],
    );
    assert_eq!(
        result,
        json!({
            "aliceSaw": ["hello from alice"],
            "bobSaw": ["hello from alice"],
            "status": "delivered: ok",
        })
    );
    assert!(screenshot.exists(), "the screenshot is kept");
}

#[test]
fn the_chat_runs_with_websocket_compression() {
    let server = Server::start("chat", &["--deflate"]);
    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts folder");
    let screenshot = artifacts.join("chat-deflate.png");
    let _ = std::fs::remove_file(&screenshot);
    let result = node(
        "browser_chat.mjs",
        &[
            &server.url(),
            screenshot.to_str().expect("UTF-8 path"),
            "long",
        ],
    );
    // Chromium offers permessage-deflate on every WebSocket; each page's upgrade got it, and a
    // message of 2,000 characters (compressed both ways) reached both pages.
    let agreed = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let extensions = result["extensions"].as_array().expect("the answers seen");
    assert!(extensions.len() >= 2, "{result}");
    assert!(extensions.iter().all(|answer| answer == agreed), "{result}");
    assert_eq!(
        result,
        json!({
            "aliceSaw": ["hello from alice"],
            "bobSaw": ["hello from alice"],
            "status": "delivered: ok",
            "longArrived": [true, true],
            "extensions": extensions,
        })
    );
    assert!(screenshot.exists(), "the screenshot is kept");
}
