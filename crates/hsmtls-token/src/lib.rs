//! hsmtls-token: a PKCS#11 3.0 software token with the TLS 1.2 mechanism
//! set, built as `libhsmtls_token.so` (and an rlib).
//!
//! - [`abi`]: the exported `C_*` functions, function lists and interfaces;
//!   the only module with `unsafe` code.
//! - [`library`]: global state and the safe inner functions.
//! - [`slot`], [`token`], [`session`], [`object`], [`attributes`]: the
//!   PKCS#11 model and its attribute rules.
//! - [`storage`]: the [`storage::Storage`] trait, SQLite, the at-rest
//!   encryption format.
//! - [`mechanisms`]: one file per algorithm family and the one registry.
//! - [`config`]: where tokens live.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[allow(unsafe_code)]
pub mod abi;
pub mod attributes;
pub mod config;
pub mod error;
pub mod handles;
pub mod library;
pub mod mechanisms;
pub mod object;
pub mod session;
pub mod slot;
pub mod storage;
pub mod token;

pub use error::{Error, Result};
