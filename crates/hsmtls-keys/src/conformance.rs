//! The key-store API test suite. Every [`KeyStore`](crate::KeyStore)
//! implementation runs it from its own tests.
