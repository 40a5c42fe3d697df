//! The chat example in a real browser: two headless Chromium pages, driven by `playwright-core`.
//! The screenshot is kept in `tests/artifacts/chat.png`.

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
