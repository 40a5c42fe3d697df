//! The client's stream, which may offer permessage-deflate: tungstenite (the client) knows
//! nothing of the extension, so a server's compressed messages are inflated under it by sio's
//! own `FrameInflater`, after the handshake's response passes as it came. What the client
//! sends stays uncompressed, which the extension allows.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use sio_core::permessage_deflate::FrameInflater;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What the client offers when it asks for compression (what browsers offer).
pub(crate) const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// A TCP stream, inflating what the server compressed if compression was offered.
pub(crate) struct Io {
    tcp: TcpStream,
    inflating: Option<Box<Inflating>>,
}

struct Inflating {
    /// Whether the handshake's response has passed.
    head_done: bool,
    inflater: FrameInflater,
    input: BytesMut,
    output: VecDeque<Bytes>,
}

impl Io {
    pub(crate) fn new(tcp: TcpStream, deflate: bool) -> Io {
        let inflating = deflate.then(|| {
            Box::new(Inflating {
                head_done: false,
                inflater: FrameInflater::for_client(64 << 20, false),
                input: BytesMut::new(),
                output: VecDeque::new(),
            })
        });
        Io { tcp, inflating }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let io = self.get_mut();
        let Some(inflating) = &mut io.inflating else {
            return Pin::new(&mut io.tcp).poll_read(cx, buf);
        };
        loop {
            if let Some(front) = inflating.output.front_mut() {
                let n = front.len().min(buf.remaining());
                buf.put_slice(&front.split_to(n));
                if front.is_empty() {
                    inflating.output.pop_front();
                }
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut io.tcp).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The end: an unfinished head goes on as it is, for tungstenite to report.
                if !inflating.head_done && !inflating.input.is_empty() {
                    let head = inflating.input.split().freeze();
                    inflating.output.push_back(head);
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            inflating.input.extend_from_slice(read.filled());
            if !inflating.head_done {
                let Some(end) = inflating.input.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = inflating.input.split_to(end + 4).freeze();
                inflating.output.push_back(head);
                inflating.head_done = true;
            }
            while inflating
                .inflater
                .transcode(&mut inflating.input, &mut inflating.output)
                .map_err(io::Error::other)?
            {}
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
