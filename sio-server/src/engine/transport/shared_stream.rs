//! The TCP stream under a WebSocket, shared: the socket's task reads and writes it through
//! tungstenite, and a task that emits to a socket with nothing in flight writes the frame
//! itself, with no wake-up and no task switch (what a broadcast does to each recipient).
//!
//! Bytes of two writers never mix: whatever a write cannot hand to the kernel at once waits in
//! `pending`, and goes first; only whole frames ever enter it.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use sio_core::Frame;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::engine::sync::Mutex;
use crate::engine::transport::deflate::{Deflater, Inflating};

/// A TCP stream that several tasks may write whole frames to.
#[derive(Debug)]
pub(crate) struct SharedStream {
    tcp: TcpStream,
    /// Bytes the kernel has taken, in all.
    written: AtomicU64,
    /// Bytes written but not yet taken by the kernel: at most the frames of one write, since
    /// nobody writes more while some wait.
    pending: Mutex<BytesMut>,
    /// Compresses the frames written directly, if the client agreed to permessage-deflate.
    deflater: Option<Arc<Deflater>>,
}

/// What writing a frame directly came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Direct {
    /// The kernel took all of it.
    Written,
    /// The kernel took part of it; the rest waits in the stream for the socket's task, which
    /// must be woken to flush it.
    Partly,
    /// Nothing was written (bytes wait already, or the kernel takes none): queue it.
    NotNow,
}

impl SharedStream {
    pub(crate) fn new(tcp: TcpStream, deflater: Option<Arc<Deflater>>) -> Arc<Self> {
        Arc::new(SharedStream {
            tcp,
            written: AtomicU64::new(0),
            pending: Mutex::new(BytesMut::new()),
            deflater,
        })
    }

    /// What compresses the frames written to this stream, if its client agreed to it.
    pub(crate) fn deflater(&self) -> Option<&Arc<Deflater>> {
        self.deflater.as_ref()
    }

    /// Writes `frame` as one unmasked WebSocket message (text or binary), unless bytes wait;
    /// as `compressed` (its payload compressed by this stream's deflater) if given.
    pub(crate) fn write_frame(&self, frame: &Frame, compressed: Option<&Bytes>) -> Direct {
        let compressed = compressed.filter(|_| self.deflater.is_some());
        let mut pending = self.pending.lock();
        if !pending.is_empty() {
            return Direct::NotNow;
        }
        let (mut opcode, mut payload) = match frame {
            Frame::Text(text) => (0x1, &text.as_bytes()[..]),
            Frame::Binary(bytes) => (0x2, &bytes[..]),
        };
        if let Some(compressed) = compressed {
            // RSV1: a compressed message (RFC 7692, 6).
            opcode |= 0x40;
            payload = compressed;
        }
        let mut header = [0u8; 10];
        let header = frame_header(&mut header, opcode, payload.len());
        let total = header.len() + payload.len();
        // A small frame is written from one buffer, as a frame framed beforehand would be:
        // the copy costs less than the kernel's walk over two.
        let written = if total <= INLINE_FRAME {
            let mut inline = [0u8; INLINE_FRAME];
            inline[..header.len()].copy_from_slice(header);
            inline[header.len()..total].copy_from_slice(payload);
            self.tcp.try_write(&inline[..total])
        } else {
            let slices = [IoSlice::new(header), IoSlice::new(payload)];
            self.tcp.try_write_vectored(&slices)
        };
        match written {
            Ok(written) if written == total => {
                self.count(written);
                Direct::Written
            }
            Ok(written) if written > 0 => {
                self.count(written);
                pending.reserve(total - written);
                for rest in unwritten(header, payload, written) {
                    pending.extend_from_slice(rest);
                }
                Direct::Partly
            }
            // Nothing taken, or the stream failed: the socket's task finds out by itself.
            _ => Direct::NotNow,
        }
    }

    /// Whether bytes wait for the kernel.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.lock().is_empty()
    }

    /// How many bytes the kernel has taken so far: whether the client reads at all.
    pub(crate) fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn count(&self, bytes: usize) {
        self.written.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Hands the waiting bytes to the kernel; ready once none wait.
    fn poll_flush_pending(
        &self,
        cx: &mut Context<'_>,
        pending: &mut BytesMut,
    ) -> Poll<io::Result<()>> {
        while !pending.is_empty() {
            ready!(self.tcp.poll_write_ready(cx))?;
            match self.tcp.try_write(pending) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(written) => {
                    self.count(written);
                    pending.advance(written);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        release_if_large(pending);
        Poll::Ready(Ok(()))
    }
}

/// Whether the poller under tokio is edge-triggered here (epoll, kqueue): then a read that
/// leaves room in its buffer drained the socket.
const EDGE_TRIGGERED: bool = cfg!(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "illumos",
    target_os = "ios",
    target_os = "linux",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "openbsd",
));

/// Reads what the kernel holds for `tcp` into `into`.
///
/// A read that fills less than `into` drained the socket: on an edge-triggered poller its
/// readiness is cleared then, as tokio's own `poll_read` does, so the next read waits for the
/// poller instead of asking the kernel for nothing (`try_read` clears it only on `WouldBlock`:
/// one more system call per message).
fn read_draining(tcp: &TcpStream, into: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;

    use socket2::SockRef;
    use tokio::io::Interest;

    if !EDGE_TRIGGERED {
        return tcp.try_read(into);
    }
    let capacity = into.len();
    let mut read = 0;
    let outcome = tcp.try_io(Interest::READABLE, || {
        // Straight from the descriptor: tokio's own methods would touch the readiness inside
        // `try_io`, which clears it when this returns `WouldBlock`.
        read = (&*SockRef::from(tcp)).read(into)?;
        if 0 < read && read < capacity {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(read)
        }
    });
    // Bytes read are handed on whatever the readiness bookkeeping said after the read.
    match outcome {
        Err(_) if read > 0 => Ok(read),
        outcome => outcome,
    }
}

/// Frames up to this size are written from one buffer on the stack.
const INLINE_FRAME: usize = 1024;

/// Lets an emptied `pending` go if its allocation is large: a client that was slow once does
/// not keep it for good. (`capacity` counts only the room after the bytes already written;
/// `try_reclaim` looks at the whole allocation.)
fn release_if_large(pending: &mut BytesMut) {
    if pending.is_empty() && pending.try_reclaim(RETAINED_PENDING + 1) {
        *pending = BytesMut::new();
    }
}

/// The parts of a frame (`header`, then `payload`) that `written` bytes leave unwritten.
fn unwritten<'a>(header: &'a [u8], payload: &'a [u8], written: usize) -> [&'a [u8]; 2] {
    if written < header.len() {
        [&header[written..], payload]
    } else {
        [&[], &payload[written - header.len()..]]
    }
}

/// The most room `pending` keeps once flushed.
const RETAINED_PENDING: usize = 64 * 1024;

/// The header of an unmasked, final WebSocket frame (RFC 6455, 5.2), within `buffer`;
/// `opcode` may carry RSV1.
fn frame_header(buffer: &mut [u8; 10], opcode: u8, len: usize) -> &[u8] {
    buffer[0] = 0x80 | opcode;
    if len < 126 {
        buffer[1] = len as u8;
        &buffer[..2]
    } else if let Ok(len) = u16::try_from(len) {
        buffer[1] = 126;
        buffer[2..4].copy_from_slice(&len.to_be_bytes());
        &buffer[..4]
    } else {
        buffer[1] = 127;
        buffer[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        &buffer[..10]
    }
}

/// `bytes`, without the buffer it may be a view of once empty: the rest of hyper's read buffer
/// is 8 KiB or more, which an empty view would keep for the life of the connection.
fn owned(bytes: Bytes) -> Bytes {
    if bytes.is_empty() {
        Bytes::new()
    } else {
        bytes
    }
}

/// What tungstenite reads and writes: the connection, through the inflating read when the
/// client compresses its messages.
pub(crate) struct WsIo {
    raw: RawIo,
    inflating: Option<Box<Inflating>>,
}

/// The connection: the shared stream (after the bytes hyper read past the handshake), or,
/// when the connection is not a plain TCP stream (TLS, say), the upgraded connection as hyper
/// gives it, which only the socket's task writes.
enum RawIo {
    Shared {
        stream: Arc<SharedStream>,
        prefix: Bytes,
    },
    Upgraded(TokioIo<Upgraded>),
}

impl WsIo {
    /// The connection hyper hands over after `101 Switching Protocols`; if the client agreed
    /// to permessage-deflate, frames written to it directly are compressed by `deflater`, and
    /// what it sends is read through `inflating`.
    pub(crate) fn new(
        upgraded: Upgraded,
        deflater: Option<Arc<Deflater>>,
        inflating: Option<Box<Inflating>>,
    ) -> Self {
        let raw = match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => RawIo::Shared {
                stream: SharedStream::new(parts.io.into_inner(), deflater),
                prefix: owned(parts.read_buf),
            },
            Err(upgraded) => RawIo::Upgraded(TokioIo::new(upgraded)),
        };
        WsIo { raw, inflating }
    }

    /// The stream others may write frames to, if it can be shared.
    pub(crate) fn shared(&self) -> Option<&Arc<SharedStream>> {
        match &self.raw {
            RawIo::Shared { stream, .. } => Some(stream),
            RawIo::Upgraded(_) => None,
        }
    }
}

impl AsyncRead for WsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let io = self.get_mut();
        match &mut io.inflating {
            Some(inflating) => inflating.poll_read(&mut io.raw, cx, buf),
            None => Pin::new(&mut io.raw).poll_read(cx, buf),
        }
    }
}

impl AsyncRead for RawIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            RawIo::Shared { stream, prefix } => {
                if !prefix.is_empty() {
                    let n = prefix.len().min(buf.remaining());
                    buf.put_slice(&prefix.split_to(n));
                    return Poll::Ready(Ok(()));
                }
                loop {
                    ready!(stream.tcp.poll_read_ready(cx))?;
                    match read_draining(&stream.tcp, buf.initialize_unfilled()) {
                        Ok(read) => {
                            buf.advance(read);
                            return Poll::Ready(Ok(()));
                        }
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                        Err(error) => return Poll::Ready(Err(error)),
                    }
                }
            }
            RawIo::Upgraded(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WsIo {
    /// Takes all of `buf` (whole frames, from tungstenite) or none: what the kernel does not
    /// take at once waits in the stream, so no other writer can cut into a frame.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().raw {
            RawIo::Shared { stream, .. } => {
                let mut pending = stream.pending.lock();
                ready!(stream.poll_flush_pending(cx, &mut pending))?;
                let written = match stream.tcp.try_write(buf) {
                    Ok(written) => {
                        stream.count(written);
                        written
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(error) => return Poll::Ready(Err(error)),
                };
                pending.extend_from_slice(&buf[written..]);
                Poll::Ready(Ok(buf.len()))
            }
            RawIo::Upgraded(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().raw {
            RawIo::Shared { stream, .. } => {
                let mut pending = stream.pending.lock();
                stream.poll_flush_pending(cx, &mut pending)
            }
            RawIo::Upgraded(io) => Pin::new(io).poll_flush(cx),
        }
    }

    /// Flushes; the stream closes when its last holder lets it go.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = self.get_mut();
        if let RawIo::Upgraded(upgraded) = &mut io.raw {
            return Pin::new(upgraded).poll_shutdown(cx);
        }
        Pin::new(io).poll_flush(cx)
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Buf, BytesMut};

    use super::{frame_header, release_if_large, unwritten};

    #[test]
    fn what_a_partial_write_leaves_is_the_rest_of_the_frame() {
        for (header, payload) in [
            (&[0x81, 3][..], &b"abc"[..]),
            (&[0x82, 126, 0, 2][..], &b"xy"[..]),
        ] {
            let frame = [header, payload].concat();
            for written in 0..frame.len() {
                let rest = unwritten(header, payload, written).concat();
                assert_eq!(rest, frame[written..], "after {written} bytes");
            }
        }
    }

    #[test]
    fn a_large_pending_buffer_is_let_go_once_flushed() {
        let mut pending = BytesMut::new();
        pending.extend_from_slice(&vec![0; 1 << 20]);
        pending.advance(1 << 20);
        assert_eq!(pending.capacity(), 0, "capacity hides the allocation");
        release_if_large(&mut pending);
        assert!(!pending.try_reclaim(1), "the allocation is gone");

        let mut small = BytesMut::new();
        small.extend_from_slice(&[0; 100]);
        small.advance(100);
        release_if_large(&mut small);
        assert!(small.try_reclaim(100), "a small one is kept");
    }

    #[test]
    fn headers_use_the_shortest_length_that_fits() {
        let mut buffer = [0; 10];
        assert_eq!(frame_header(&mut buffer, 0x1, 125), [0x81, 125]);
        assert_eq!(frame_header(&mut buffer, 0x2, 126), [0x82, 126, 0, 126]);
        assert_eq!(
            frame_header(&mut buffer, 0x1, 65_535),
            [0x81, 126, 0xff, 0xff]
        );
        assert_eq!(
            frame_header(&mut buffer, 0x2, 65_536),
            [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }
}
