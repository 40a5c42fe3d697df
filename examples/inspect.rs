//! Decodes Engine.IO / Socket.IO wire text and shows what it means.
//!
//! ```text
//! cargo run --example inspect -- '42/chat,17["chat_message",{"text":"hello"}]'
//! ```
//!
//! Each argument is one WebSocket text frame, or a polling body whose packets are joined by
//! `\x1e` (written `\x1e` or as the real character). Binary frames are not taken here.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool prints

use sio::protocol::{EnginePacket, PacketDecoder, SocketPacket, decode_payload};

fn main() {
    let inputs: Vec<String> = std::env::args().skip(1).collect();
    if inputs.is_empty() {
        eprintln!("usage: inspect '<engine.io text>'...   e.g. '42[\"hello\",1]' or '2\\x1e3'");
        std::process::exit(2);
    }
    let mut decoder = PacketDecoder::default();
    for input in inputs {
        let body = input.replace("\\x1e", "\u{1e}");
        println!("{input}");
        let packets = match decode_payload(body.into_bytes().into()) {
            Ok(packets) => packets,
            Err(err) => {
                println!("  error: {err}");
                continue;
            }
        };
        for packet in packets {
            match packet {
                Ok(EnginePacket::Message(text)) => match decoder.decode_text(text) {
                    Ok(Some(decoded)) => describe(&decoded.packet),
                    Ok(None) => println!("  socket.io: binary packet, waiting for attachments"),
                    Err(err) => println!("  socket.io error: {err}"),
                },
                Ok(packet) => println!("  engine.io: {packet:?}"),
                Err(err) => println!("  engine.io error: {err}"),
            }
        }
    }
}

fn describe(packet: &SocketPacket) {
    let namespace = packet.namespace();
    match packet {
        SocketPacket::Event { ack_id, event, .. } => {
            println!("  socket.io: EVENT `{}` on {namespace}", event.name());
            for (index, arg) in event.args().iter().enumerate() {
                println!("    arg {index}: {arg}");
            }
            if let Some(id) = ack_id {
                println!("    the sender waits for ACK {id}");
            }
        }
        SocketPacket::Ack { ack_id, args, .. } => {
            println!(
                "  socket.io: ACK {ack_id} on {namespace}: {}",
                args.json().unwrap_or_default()
            );
        }
        other => println!("  socket.io: {other:?}"),
    }
    if packet.attachments() > 0 {
        println!("    with {} binary attachments", packet.attachments());
    }
}
