//! Property tests: every decoder takes random bytes and mutated valid packets without panicking,
//! failing only with its typed error; and encoding then decoding generated packets is the
//! identity; namespace patterns overlap exactly when they share a name. Each property runs
//! 10,000 cases (the last 2,000).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use sio_core::{
    AckId, EnginePacket, EngineSession, Frame, Namespace, NamespacePattern, PacketDecoder,
    PacketEncoder, SessionConfig, Sid, SocketPacket, Transport, decode_payload, encode_payload,
};

const CASES: u32 = 10_000;

/// Valid packets of every kind, the seeds of the mutation properties.
const SOCKET_SEEDS: &[&str] = &[
    "0",
    "0/admin,{\"token\":\"123\"}",
    "1/admin,",
    "2[\"foo\"]",
    "2/chat,17[\"chat_message\",{\"text\":\"hello\"}]",
    "3/admin,13[\"bar\"]",
    "4{\"message\":\"Not authorized\",\"data\":{\"code\":401}}",
    "51-[\"baz\",{\"_placeholder\":true,\"num\":0}]",
    "62-/admin,15[{\"_placeholder\":true,\"num\":0},[{\"_placeholder\":true,\"num\":1}]]",
];

const ENGINE_SEEDS: &[&str] = &[
    "0{\"sid\":\"a\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}",
    "1",
    "2probe",
    "3",
    "4hello\u{1e}bAQIDBA==\u{1e}4€",
    "42[\"hey\",\"Jude\"]\u{1e}5\u{1e}6",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, u8),
    Remove(usize),
    Replace(usize, u8),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the grammar are drawn more often than chance would.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"0123456789-/,[]{}\":\x1eb\\".to_vec()),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Replace(at, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(seed: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for mutation in mutations {
        let len = bytes.len();
        match *mutation {
            Mutation::Insert(at, b) => bytes.insert(at % (len + 1), b),
            Mutation::Remove(at) if len > 0 => {
                bytes.remove(at % len);
            }
            Mutation::Replace(at, b) if len > 0 => bytes[at % len] = b,
            Mutation::Truncate(at) => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

/// Feeds text to a Socket.IO decoder the way the runtime does: only valid UTF-8 reaches it.
fn decode_socket(decoder: &mut PacketDecoder, bytes: Vec<u8>) {
    if let Ok(text) = String::from_utf8(bytes)
        && let Err(err) = decoder.decode_text(text.into())
    {
        assert!(!err.to_string().is_empty());
        // After an error the runtime closes the connection; a fresh decoder stands in.
        *decoder = PacketDecoder::new(4);
    }
}

fn decode_engine_frame(bytes: Vec<u8>) {
    if let Ok(text) = String::from_utf8(bytes)
        && let Err(err) = EnginePacket::decode(Frame::Text(text.into()))
    {
        assert!(!err.to_string().is_empty());
    }
}

fn decode_engine_payload(bytes: Vec<u8>) {
    match decode_payload(Bytes::from(bytes)) {
        Ok(packets) => {
            for packet in packets {
                if let Err(err) = packet {
                    assert!(!err.to_string().is_empty());
                }
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        // Binary fractions, which serde_json parses back exactly without `float_roundtrip`.
        (any::<i32>(), 0u8..64).prop_map(|(whole, eighths)| {
            serde_json::Value::from(f64::from(whole) + f64::from(eighths) / 8.0)
        }),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

fn namespace() -> impl Strategy<Value = Namespace> {
    prop_oneof![
        Just(Namespace::root()),
        "/[a-zA-Z0-9_/.é-]{1,12}".prop_map(|name| Namespace::new(name).expect("valid")),
    ]
}

/// Text an Engine.IO packet can carry in a polling payload: anything but the separator.
fn payload_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|text| text.replace('\u{1e}', ""))
}

fn engine_packet() -> impl Strategy<Value = EnginePacket> {
    prop_oneof![
        payload_text().prop_map(|t| EnginePacket::Open(t.into())),
        Just(EnginePacket::Close),
        payload_text().prop_map(|t| EnginePacket::Ping(t.into())),
        payload_text().prop_map(|t| EnginePacket::Pong(t.into())),
        payload_text().prop_map(|t| EnginePacket::Message(t.into())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| EnginePacket::Binary(b.into())),
        Just(EnginePacket::Upgrade),
        Just(EnginePacket::Noop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn socket_decoder_takes_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        decode_socket(&mut PacketDecoder::new(4), bytes);
    }

    #[test]
    fn socket_decoder_takes_mutated_packets(
        seed in prop::sample::select(SOCKET_SEEDS),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        decode_socket(&mut PacketDecoder::new(4), mutate(seed, &mutations));
    }

    #[test]
    fn socket_decoder_takes_random_frame_sequences(
        frames in prop::collection::vec(
            prop_oneof![
                (prop::sample::select(SOCKET_SEEDS), prop::collection::vec(mutation(), 0..3))
                    .prop_map(|(seed, m)| Frame::Text(String::from_utf8_lossy(&mutate(seed, &m)).into_owned().into())),
                prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| Frame::Binary(b.into())),
            ],
            1..8,
        )
    ) {
        let mut decoder = PacketDecoder::new(4);
        for frame in frames {
            let outcome = match frame {
                Frame::Text(text) => decoder.decode_text(text),
                Frame::Binary(bytes) => decoder.decode_binary(bytes),
            };
            if let Some(decoded) = outcome.unwrap_or_else(|_| { decoder = PacketDecoder::new(4); None }) {
                prop_assert_eq!(decoded.attachments.len(), decoded.packet.attachments());
            }
        }
    }

    #[test]
    fn engine_decoder_takes_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        decode_engine_frame(bytes);
    }

    #[test]
    fn engine_decoder_takes_mutated_packets(
        seed in prop::sample::select(ENGINE_SEEDS),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        decode_engine_frame(mutate(seed, &mutations));
    }

    #[test]
    fn payload_decoder_takes_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        decode_engine_payload(bytes);
    }

    #[test]
    fn payload_decoder_takes_mutated_payloads(
        seed in prop::sample::select(ENGINE_SEEDS),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        decode_engine_payload(mutate(seed, &mutations));
    }

    #[test]
    fn session_takes_random_client_input(
        inputs in prop::collection::vec(
            (any::<bool>(), prop::sample::select(ENGINE_SEEDS), prop::collection::vec(mutation(), 0..3), 0u64..400),
            1..12,
        )
    ) {
        let start = Instant::now();
        let mut now = start;
        let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, SessionConfig::default(), start);
        let mut closes = 0;
        for (as_websocket, seed, mutations, advance) in inputs {
            now += Duration::from_millis(advance * 100);
            let bytes = mutate(seed, &mutations);
            if as_websocket {
                let _ = session.handle_ws_open(now);
                if let Ok(text) = String::from_utf8(bytes) {
                    session.handle_ws_frame(Frame::Text(text.into()), now);
                }
            } else if session.begin_post().is_ok() {
                session.finish_post(Bytes::from(bytes), now);
            }
            session.handle_timeout(now);
            let _ = session.handle_get(now);
            let _ = session.poll_get_response();
            session.drain_ws(&mut VecDeque::new());
            while let Some(event) = session.poll_event() {
                closes += usize::from(matches!(event, sio_core::SessionEvent::Closed(_)));
            }
        }
        prop_assert!(closes <= 1, "closed {} times", closes);
    }

    #[test]
    fn engine_packets_round_trip(packet in engine_packet()) {
        prop_assert_eq!(EnginePacket::decode(packet.encode()), Ok(packet));
    }

    #[test]
    fn polling_payloads_round_trip(packets in prop::collection::vec(engine_packet(), 1..8)) {
        let frames: Vec<Frame> = packets.iter().map(EnginePacket::encode).collect();
        let mut body = BytesMut::new();
        encode_payload(&frames, &mut body);
        let decoded: Result<Vec<_>, _> = decode_payload(body.freeze()).and_then(|p| p.collect());
        prop_assert_eq!(decoded, Ok(packets));
    }

    #[test]
    fn events_round_trip(
        namespace in namespace(),
        ack_id in prop::option::of(any::<u64>()),
        name in "[^\u{0}]{0,12}".prop_filter("not reserved", |n| sio_core::validate_event_name(n).is_ok()),
        args in prop::collection::vec(json_value(), 0..4),
        buffers in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 0..3),
    ) {
        let mut encoder = PacketEncoder::event(&namespace, ack_id.map(AckId), &name);
        for arg in &args {
            encoder.arg(arg).unwrap();
        }
        for buffer in &buffers {
            encoder.arg(&Bytes::from(buffer.clone())).unwrap();
        }
        let encoded = encoder.finish();
        prop_assert_eq!(encoded.attachments.len(), buffers.len());

        let Frame::Text(text) = &encoded.text else { panic!("text frame expected") };
        let mut decoder = PacketDecoder::default();
        let mut decoded = decoder.decode_text(text.slice_ref(&text[1..])).unwrap();
        for buffer in &encoded.attachments {
            prop_assert!(decoded.is_none());
            decoded = decoder.decode_binary(buffer.clone()).unwrap();
        }
        let decoded = decoded.unwrap();
        prop_assert_eq!(decoded.packet.encode(), encoded.text.clone());
        let SocketPacket::Event { namespace: got_ns, ack_id: got_id, event, attachments } = decoded.packet else {
            panic!("event expected")
        };
        prop_assert_eq!(got_ns, namespace);
        prop_assert_eq!(got_id, ack_id.map(AckId));
        prop_assert_eq!(event.name(), name.as_str());
        prop_assert_eq!(attachments, (!buffers.is_empty()).then_some(buffers.len()));
        prop_assert_eq!(event.args().len(), args.len() + buffers.len());
        for (got, want) in event.args().iter().zip(&args) {
            prop_assert_eq!(&got.deserialize::<serde_json::Value>().unwrap(), want);
        }
        for (index, got) in event.args().iter().skip(args.len()).enumerate() {
            let placeholder: serde_json::Value = got.deserialize().unwrap();
            prop_assert_eq!(placeholder, serde_json::json!({"_placeholder": true, "num": index}));
        }
        let got_buffers: Vec<Vec<u8>> = decoded.attachments.iter().map(|b| b.to_vec()).collect();
        prop_assert_eq!(got_buffers, buffers);
    }

    #[test]
    fn acks_round_trip(
        namespace in namespace(),
        ack_id in any::<u64>(),
        args in prop::collection::vec(json_value(), 0..4),
    ) {
        let mut encoder = PacketEncoder::ack(&namespace, AckId(ack_id));
        for arg in &args {
            encoder.arg(arg).unwrap();
        }
        let encoded = encoder.finish();
        let Frame::Text(text) = &encoded.text else { panic!("text frame expected") };
        let decoded = PacketDecoder::default().decode_text(text.slice_ref(&text[1..])).unwrap().unwrap();
        prop_assert_eq!(decoded.packet.encode(), encoded.text.clone());
        let SocketPacket::Ack { namespace: got_ns, ack_id: got_id, args: got_args, .. } = decoded.packet else {
            panic!("ack expected")
        };
        prop_assert_eq!(got_ns, namespace);
        prop_assert_eq!(got_id, AckId(ack_id));
        let got: Vec<serde_json::Value> = got_args.iter().map(|a| a.deserialize().unwrap()).collect();
        prop_assert_eq!(got, args);
    }
}

/// A namespace pattern of few segments over a tiny alphabet, so that overlaps are common.
fn namespace_pattern() -> impl Strategy<Value = NamespacePattern> {
    let segment = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just(String::new()),
        Just("{p}".to_owned()),
    ];
    (prop::collection::vec(segment, 1..4), any::<bool>()).prop_map(|(segments, catch_all)| {
        // Parameters renamed in order, so that none repeats; a catch-all may end it.
        let mut count = 0;
        let mut parts: Vec<String> = segments
            .into_iter()
            .map(|segment| {
                if segment == "{p}" {
                    count += 1;
                    format!("{{p{count}}}")
                } else {
                    segment
                }
            })
            .collect();
        if catch_all {
            parts.push("{*rest}".to_owned());
        }
        NamespacePattern::parse(&format!("/{}", parts.join("/"))).unwrap()
    })
}

/// Every name of one to five segments over `a`, `b`, `c` and the empty segment.
fn small_names() -> Vec<String> {
    let mut names: Vec<Vec<&str>> = vec![vec![]];
    let mut all = Vec::new();
    for _ in 0..5 {
        names = names
            .iter()
            .flat_map(|name| {
                ["a", "b", "c", ""].iter().map(move |segment| {
                    let mut longer = name.clone();
                    longer.push(*segment);
                    longer
                })
            })
            .collect();
        all.extend(names.iter().map(|name| format!("/{}", name.join("/"))));
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Two patterns overlap exactly when some name matches both: every name that generated
    /// patterns could share has at most five segments over `a`, `b`, `c` and the empty one, so
    /// looking through all of them decides it.
    #[test]
    fn patterns_overlap_exactly_when_they_share_a_name(
        a in namespace_pattern(),
        b in namespace_pattern(),
    ) {
        let shared = small_names()
            .into_iter()
            .find(|name| a.matches(name).is_some() && b.matches(name).is_some());
        prop_assert_eq!(a.overlaps(&b), shared.is_some(), "{} and {}: {:?}", a, b, shared);
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
    }
}
