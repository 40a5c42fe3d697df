//! Codec throughput: `cargo bench -p sio-core`.
//!
//! Each case is measured both ways and reports time per packet and bytes per second.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;
use sio_core::{
    AckId, EnginePacket, Frame, Namespace, PacketDecoder, PacketEncoder, decode_payload,
    encode_payload,
};

#[derive(Serialize)]
struct ChatMessage<'a> {
    text: &'a str,
}

/// Decodes one WebSocket frame down to a complete Socket.IO packet, as the server does.
fn decode_frames(frames: &[Frame]) -> usize {
    let mut decoder = PacketDecoder::default();
    let mut complete = 0;
    for frame in frames {
        let outcome = match EnginePacket::decode(frame.clone()).expect("engine packet") {
            EnginePacket::Message(text) => decoder.decode_text(text),
            EnginePacket::Binary(bytes) => decoder.decode_binary(bytes),
            other => panic!("unexpected {other:?}"),
        };
        complete += usize::from(outcome.expect("socket packet").is_some());
    }
    complete
}

fn small_event(c: &mut Criterion) {
    let chat = Namespace::new("/chat").expect("namespace");
    let frame = Frame::Text(r#"42/chat,17["chat_message",{"text":"hello"}]"#.into());
    let mut group = c.benchmark_group("small event");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| decode_frames(black_box(std::slice::from_ref(&frame))));
    });
    group.bench_function("encode", |b| {
        b.iter(|| {
            let mut event = PacketEncoder::event(&chat, Some(AckId(17)), "chat_message");
            event
                .arg(&ChatMessage {
                    text: black_box("hello"),
                })
                .expect("encode");
            event.finish()
        });
    });
    group.finish();
}

fn large_event(c: &mut Criterion) {
    let text = "x".repeat(64 * 1024);
    let encoded = {
        let mut event = PacketEncoder::event(&Namespace::root(), None, "big");
        event.arg(&ChatMessage { text: &text }).expect("encode");
        event.finish()
    };
    let mut group = c.benchmark_group("64 KiB event");
    group.throughput(Throughput::Bytes(encoded.text.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| decode_frames(black_box(std::slice::from_ref(&encoded.text))));
    });
    group.bench_function("encode", |b| {
        b.iter(|| {
            let mut event = PacketEncoder::event(&Namespace::root(), None, "big");
            event
                .arg(&ChatMessage {
                    text: black_box(&text),
                })
                .expect("encode");
            event.finish()
        });
    });
    group.finish();
}

fn binary_event(c: &mut Criterion) {
    let first = Bytes::from(vec![1u8; 1024]);
    let second = Bytes::from(vec![2u8; 4096]);
    let encoded = {
        let mut event = PacketEncoder::event(&Namespace::root(), Some(AckId(3)), "upload");
        event
            .arg(&first)
            .expect("encode")
            .arg(&second)
            .expect("encode");
        event.finish()
    };
    let frames: Vec<Frame> = encoded.frames().collect();
    let bytes: usize = frames.iter().map(Frame::len).sum();
    let mut group = c.benchmark_group("binary event, 2 attachments");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("decode", |b| b.iter(|| decode_frames(black_box(&frames))));
    group.bench_function("encode", |b| {
        b.iter(|| {
            let mut event = PacketEncoder::event(&Namespace::root(), Some(AckId(3)), "upload");
            event.arg(black_box(&first)).expect("encode");
            event.arg(black_box(&second)).expect("encode");
            event.finish()
        });
    });
    group.finish();
}

fn polling_payload(c: &mut Criterion) {
    let frames: Vec<Frame> = (0..100)
        .map(|i| Frame::Text(format!(r#"42["chat_message",{{"text":"hello {i}"}}]"#).into()))
        .collect();
    let mut body = BytesMut::new();
    encode_payload(&frames, &mut body);
    let body = body.freeze();
    let mut group = c.benchmark_group("polling payload, 100 packets");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| {
            let packets = decode_payload(black_box(body.clone())).expect("payload");
            packets.fold(0, |n, p| n + usize::from(p.is_ok()))
        });
    });
    group.bench_function("encode", |b| {
        b.iter(|| {
            let mut out = BytesMut::with_capacity(body.len());
            encode_payload(black_box(&frames), &mut out);
            out
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    small_event,
    large_event,
    binary_event,
    polling_payload
);
criterion_main!(benches);
