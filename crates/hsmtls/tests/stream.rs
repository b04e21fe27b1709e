//! The blocking `Stream`: what a caller sees when the peer has gone.

mod common;

use std::io::{self, Read, Write};

use hsmtls::{Connection, Stream};

/// A transport whose peer has closed: every write is refused, reads
/// return what the peer sent before closing, then end.
struct Closed {
    sent_before_closing: Vec<u8>,
    at: usize,
}

impl Read for Closed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.sent_before_closing[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Closed {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn client(sent_before_closing: &[u8]) -> Stream<Closed> {
    let (client, _) = common::configs("ecdsa-p256");
    let conn = Connection::client(client, "localhost").expect("client");
    Stream::new(
        conn,
        Closed {
            sent_before_closing: sent_before_closing.to_vec(),
            at: 0,
        },
    )
}

#[test]
fn a_refused_write_reports_the_alert_the_peer_sent_before_closing() {
    // A fatal handshake_failure alert (RFC 8446 §6), then the close.
    let mut tls = client(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]);
    let err = tls.write(b"hello").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(err.to_string().contains("handshake_failure"), "{err}");
}

#[test]
fn a_refused_write_with_nothing_to_read_stays_a_broken_pipe() {
    let mut tls = client(&[]);
    let err = tls.write(b"hello").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
}
