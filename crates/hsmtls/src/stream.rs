//! A blocking TLS stream over any `Read + Write` transport.

use std::io::{self, Read, Write};

use crate::conn::Connection;
use crate::error::Error;

/// A [`Connection`] driven over a blocking transport: reading and writing
/// plaintext runs the handshake as needed.
#[derive(Debug)]
pub struct Stream<T: Read + Write> {
    conn: Connection,
    io: T,
}

fn to_io(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<T: Read + Write> Stream<T> {
    /// Wraps a connection and its transport.
    pub fn new(conn: Connection, io: T) -> Self {
        Self { conn, io }
    }

    /// The connection, e.g. for [`Connection::negotiated`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection, mutably.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Splits into connection and transport.
    pub fn into_parts(self) -> (Connection, T) {
        (self.conn, self.io)
    }

    fn flush_tls(&mut self) -> io::Result<()> {
        let sent = (|| {
            while self.conn.wants_write() {
                self.conn.write_tls(&mut self.io)?;
            }
            self.io.flush()
        })();
        sent.map_err(|e| self.explain_refused_write(e))
    }

    /// The transport refused a write because the peer closed: what the
    /// peer sent before closing (typically a fatal alert, e.g. a TLS 1.3
    /// server refusing the client's certificate after the client's
    /// Finished) says why better than "broken pipe", so it is read and
    /// reported instead when there is one.
    fn explain_refused_write(&mut self, e: io::Error) -> io::Error {
        if !matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
        ) {
            return e;
        }
        // The peer has closed, so this read returns at once.
        match self.conn.read_tls(&mut self.io) {
            Ok(n) if n > 0 => match self.conn.process_new_packets() {
                Err(alert) => to_io(alert),
                Ok(_) => e,
            },
            _ => e,
        }
    }

    /// Reads one batch of records and processes them; `Ok(false)` at end of
    /// the transport.
    fn read_more(&mut self) -> io::Result<bool> {
        let n = self.conn.read_tls(&mut self.io)?;
        let result = self.conn.process_new_packets();
        // Send any alert the failure queued before reporting it.
        let _ = self.flush_tls();
        result.map_err(to_io)?;
        Ok(n > 0)
    }

    /// Runs the handshake to completion.
    pub fn complete_handshake(&mut self) -> io::Result<()> {
        self.flush_tls()?;
        while self.conn.is_handshaking() {
            if !self.read_more()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed during the handshake",
                ));
            }
            self.flush_tls()?;
        }
        Ok(())
    }

    /// Sends close_notify.
    pub fn close(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls()
    }
}

impl<T: Read + Write> Read for Stream<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.complete_handshake()?;
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if !self.read_more()? {
                // The transport ended without close_notify: a truncation
                // the caller must know about (RFC 5246 §7.2.1).
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed without close_notify",
                ));
            }
            self.flush_tls()?;
        }
    }
}

impl<T: Read + Write> Write for Stream<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.complete_handshake()?;
        let n = self.conn.writer().write(buf)?;
        self.flush_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
