//! Slots (PKCS#11 3.0 §2.2): one per configured token directory, one per
//! token found under `new_tokens`, plus one free slot whose uninitialised
//! token `C_InitToken` creates there. The slot list is fixed from
//! `C_Initialize` to `C_Finalize`.

use std::path::PathBuf;
use std::sync::RwLock;

use cryptoki_sys::*;

use crate::config::Config;
use crate::error::Result;
use crate::storage::DB_FILE;
use crate::token::Token;

/// A slot and the token in it (always present: a software token).
#[derive(Debug)]
pub struct Slot {
    /// `CK_SLOT_ID`.
    pub id: CK_SLOT_ID,
    /// The token.
    pub token: RwLock<Token>,
}

/// The slots of configuration `cfg`.
pub fn slots(cfg: &Config) -> Result<Vec<Slot>> {
    let mut dirs: Vec<PathBuf> = cfg.tokens.clone();
    if let Some(root) = &cfg.new_tokens {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(DB_FILE).is_file() && !dirs.contains(p))
            .collect();
        found.sort();
        dirs.extend(found);
        let fresh: [u8; 8] = crate::storage::random()?;
        let name: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        dirs.push(root.join(name));
    }
    dirs.into_iter()
        .enumerate()
        .map(|(i, dir)| {
            Ok(Slot {
                id: i as CK_SLOT_ID,
                token: RwLock::new(Token::open(dir, cfg.pin_iterations)?),
            })
        })
        .collect()
}
