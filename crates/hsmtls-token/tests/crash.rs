//! Crash safety (issue 3): a worker process creates, modifies and destroys
//! token objects through the C API and logs (with fsync) every call that
//! returned `CKR_OK`; the test SIGKILLs it at a random moment, then a
//! checker process reopens the token and checks that the database opens,
//! that every object logged as created and not destroyed exists with its
//! attributes, and that no half-written object exists.
//!
//! The worker and checker are this test binary run again with
//! `HSMTLS_CRASH_MODE` set (see [`crash_child`]).
#![allow(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::ptr;
use std::time::{Duration, Instant};

use cryptoki_sys::*;
use hsmtls_token::abi::*;

const SO_PIN: &[u8] = b"crash-so-pin";
const USER_PIN: &[u8] = b"crash-user-pin";
const MODE: &str = "HSMTLS_CRASH_MODE";
const LOG: &str = "HSMTLS_CRASH_LOG";
const ITER: &str = "HSMTLS_CRASH_ITER";

/// The value a key of `label` holds: derived from the label, so a
/// half-written object shows.
fn value_of(label: &str) -> Vec<u8> {
    let mut v = vec![0u8; 32];
    for (i, b) in label.bytes().cycle().take(32).enumerate() {
        v[i] = b ^ (i as u8).wrapping_mul(31);
    }
    v
}

/// Appends `line` and its newline in one `write` to the `O_APPEND` log:
/// a SIGKILL lands before or after it, never between the line and its
/// newline (which left an unterminated line that the next append — by the
/// checker or the next worker — ran on into, e.g. `C k14-264` + `d …`
/// read back as an object `k14-264d` that never existed).
fn append(log: &Path, line: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    f.write_all(format!("{line}\n").as_bytes()).unwrap();
    f.sync_all().unwrap();
}

struct Attr {
    t: CK_ATTRIBUTE_TYPE,
    v: Vec<u8>,
}

fn tpl(attrs: &mut [Attr]) -> Vec<CK_ATTRIBUTE> {
    attrs
        .iter_mut()
        .map(|a| CK_ATTRIBUTE {
            type_: a.t,
            pValue: a.v.as_mut_ptr() as *mut _,
            ulValueLen: a.v.len() as _,
        })
        .collect()
}

fn ul(t: CK_ATTRIBUTE_TYPE, v: CK_ULONG) -> Attr {
    Attr {
        t,
        v: v.to_ne_bytes().to_vec(),
    }
}
fn bo(t: CK_ATTRIBUTE_TYPE, v: bool) -> Attr {
    Attr {
        t,
        v: vec![u8::from(v)],
    }
}
fn by(t: CK_ATTRIBUTE_TYPE, v: &[u8]) -> Attr {
    Attr { t, v: v.to_vec() }
}

fn session() -> CK_SESSION_HANDLE {
    unsafe {
        assert_eq!(C_Initialize(ptr::null_mut()), CKR_OK);
        let mut h = 0;
        assert_eq!(
            C_OpenSession(
                0,
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                ptr::null_mut(),
                None,
                &mut h
            ),
            CKR_OK
        );
        assert_eq!(
            C_Login(
                h,
                CKU_USER,
                USER_PIN.as_ptr() as *mut _,
                USER_PIN.len() as _
            ),
            CKR_OK
        );
        h
    }
}

fn get(h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, t: CK_ATTRIBUTE_TYPE) -> Option<Vec<u8>> {
    let mut a = CK_ATTRIBUTE {
        type_: t,
        pValue: ptr::null_mut(),
        ulValueLen: 0,
    };
    if unsafe { C_GetAttributeValue(h, o, &mut a, 1) } != CKR_OK {
        return None;
    }
    let mut buf = vec![0u8; a.ulValueLen as usize];
    a.pValue = buf.as_mut_ptr() as *mut _;
    if unsafe { C_GetAttributeValue(h, o, &mut a, 1) } != CKR_OK {
        return None;
    }
    Some(buf)
}

/// One token key as found: label, handle, value, id.
type Found = (String, CK_OBJECT_HANDLE, Option<Vec<u8>>, Vec<u8>);

/// All token secret keys.
fn all_keys(h: CK_SESSION_HANDLE) -> Vec<Found> {
    let mut attrs = [ul(CKA_CLASS, CKO_SECRET_KEY), bo(CKA_TOKEN, true)];
    let mut t = tpl(&mut attrs);
    let mut out = Vec::new();
    unsafe {
        assert_eq!(C_FindObjectsInit(h, t.as_mut_ptr(), t.len() as _), CKR_OK);
        loop {
            let mut found = [0 as CK_OBJECT_HANDLE; 64];
            let mut n = 0;
            assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 64, &mut n), CKR_OK);
            if n == 0 {
                break;
            }
            for &o in &found[..n as usize] {
                let label = String::from_utf8(get(h, o, CKA_LABEL).expect("label")).unwrap();
                let value = get(h, o, CKA_VALUE);
                let id = get(h, o, CKA_ID).expect("id");
                out.push((label, o, value, id));
            }
        }
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
    }
    out
}

/// The log's view: live labels (created, not destroyed) with their
/// confirmed ID, and pending attempts.
#[derive(Default)]
struct State {
    live: BTreeMap<String, Vec<u8>>,
    destroyed: BTreeSet<String>,
    /// Attempted but not confirmed: creates, destroys, ID changes.
    try_create: BTreeSet<String>,
    try_destroy: BTreeSet<String>,
    /// Every ID change attempted since the last confirmed one: a killed
    /// change may or may not have been applied, and one left undecided by
    /// an earlier check stays a possibility.
    try_id: BTreeMap<String, Vec<Vec<u8>>>,
}

fn read_log(log: &Path) -> State {
    let mut s = State::default();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        let (op, label) = (parts.next().unwrap(), parts.next().unwrap().to_string());
        let arg = parts.next().unwrap_or("").as_bytes().to_vec();
        match op {
            "c" => {
                s.try_create.insert(label);
            }
            "C" => {
                s.try_create.remove(&label);
                s.live.insert(label, Vec::new());
            }
            "i" => {
                s.try_id.entry(label).or_default().push(arg);
            }
            "I" => {
                s.try_id.remove(&label);
                s.live.insert(label, arg);
            }
            "d" => {
                s.try_destroy.insert(label);
            }
            "D" => {
                s.try_destroy.remove(&label);
                s.live.remove(&label);
                s.destroyed.insert(label);
            }
            _ => panic!("bad log line {line:?}"),
        }
    }
    s
}

fn worker(log: &Path, iter: &str) {
    let h = session();
    let mut live: Vec<String> = read_log(log).live.into_keys().collect();
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15 ^ iter.parse::<u64>().unwrap();
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for n in 0.. {
        let r = next() % 10;
        if r < 5 || live.len() < 4 {
            let label = format!("k{iter}-{n}");
            append(log, &format!("c {label}"));
            let mut attrs = [
                ul(CKA_CLASS, CKO_SECRET_KEY),
                ul(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                bo(CKA_TOKEN, true),
                bo(CKA_SENSITIVE, false),
                bo(CKA_EXTRACTABLE, true),
                by(CKA_LABEL, label.as_bytes()),
                by(CKA_VALUE, &value_of(&label)),
            ];
            let mut t = tpl(&mut attrs);
            let mut o = 0;
            let rv = unsafe { C_CreateObject(h, t.as_mut_ptr(), t.len() as _, &mut o) };
            assert_eq!(rv, CKR_OK);
            append(log, &format!("C {label}"));
            live.push(label);
        } else if r < 8 {
            let label = live[(next() % live.len() as u64) as usize].clone();
            let o = find(h, &label);
            let id = format!("id{iter}-{n}");
            append(log, &format!("i {label} {id}"));
            let mut attrs = [by(CKA_ID, id.as_bytes())];
            let mut t = tpl(&mut attrs);
            assert_eq!(
                unsafe { C_SetAttributeValue(h, o, t.as_mut_ptr(), t.len() as _) },
                CKR_OK
            );
            append(log, &format!("I {label} {id}"));
        } else {
            let label = live.swap_remove((next() % live.len() as u64) as usize);
            let o = find(h, &label);
            append(log, &format!("d {label}"));
            assert_eq!(unsafe { C_DestroyObject(h, o) }, CKR_OK);
            append(log, &format!("D {label}"));
        }
    }
}

fn find(h: CK_SESSION_HANDLE, label: &str) -> CK_OBJECT_HANDLE {
    let mut attrs = [by(CKA_LABEL, label.as_bytes())];
    let mut t = tpl(&mut attrs);
    let mut found = [0 as CK_OBJECT_HANDLE; 2];
    let mut n = 0;
    unsafe {
        assert_eq!(C_FindObjectsInit(h, t.as_mut_ptr(), 1), CKR_OK);
        assert_eq!(C_FindObjects(h, found.as_mut_ptr(), 2, &mut n), CKR_OK);
        assert_eq!(C_FindObjectsFinal(h), CKR_OK);
    }
    assert_eq!(n, 1, "{label}");
    found[0]
}

/// Checks the token against the log; adopts attempts that did complete
/// (logging them), so the log stays the truth for the next round.
fn check(log: &Path, dir: &Path) {
    let db = rusqlite::Connection::open(dir.join("t0").join("token.sqlite3")).unwrap();
    let ok: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    drop(db);
    let h = session();
    let s = read_log(log);
    let keys = all_keys(h);
    let mut seen = BTreeSet::new();
    for (label, _, value, id) in &keys {
        assert!(seen.insert(label.clone()), "{label} twice");
        // Complete: the value is the one written with the label.
        assert_eq!(value.as_deref(), Some(&value_of(label)[..]), "{label}");
        if s.live.contains_key(label) {
            let confirmed = &s.live[label];
            let attempted = s.try_id.get(label).is_some_and(|a| a.contains(id));
            assert!(id == confirmed || attempted, "{label}: id {id:?}");
            if attempted && id != confirmed {
                append(log, &format!("I {label} {}", String::from_utf8_lossy(id)));
            }
        } else if s.try_create.contains(label) {
            append(log, &format!("C {label}"));
        } else {
            panic!("{label} exists but was never created or was destroyed");
        }
    }
    for label in s.live.keys() {
        if !seen.contains(label) {
            assert!(s.try_destroy.contains(label), "{label} lost");
            append(log, &format!("D {label}"));
        }
    }
    println!("checked {} objects", keys.len());
}

/// The child process: a no-op unless `HSMTLS_CRASH_MODE` is set.
#[test]
fn crash_child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let log = PathBuf::from(std::env::var(LOG).unwrap());
    match mode.as_str() {
        "init" => unsafe {
            assert_eq!(C_Initialize(ptr::null_mut()), CKR_OK);
            let mut label = [b' '; 32];
            label[..5].copy_from_slice(b"crash");
            assert_eq!(
                C_InitToken(
                    0,
                    SO_PIN.as_ptr() as *mut _,
                    SO_PIN.len() as _,
                    label.as_mut_ptr()
                ),
                CKR_OK
            );
            let mut h = 0;
            let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
            assert_eq!(
                C_OpenSession(0, flags, ptr::null_mut(), None, &mut h),
                CKR_OK
            );
            assert_eq!(
                C_Login(h, CKU_SO, SO_PIN.as_ptr() as *mut _, SO_PIN.len() as _),
                CKR_OK
            );
            assert_eq!(
                C_InitPIN(h, USER_PIN.as_ptr() as *mut _, USER_PIN.len() as _),
                CKR_OK
            );
        },
        "work" => worker(&log, &std::env::var(ITER).unwrap()),
        "check" => check(&log, log.parent().unwrap()),
        _ => panic!("unknown mode {mode}"),
    }
}

fn child(dir: &Path, mode: &str, iter: u32) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .env(LOG, dir.join("log"))
        .env(ITER, iter.to_string())
        .env("HSMTLS_TOKEN_CONF", dir.join("token.conf"))
        .stdin(Stdio::null());
    c
}

fn run(dir: &Path, mode: &str, iter: u32) {
    let out = child(dir, mode, iter).output().unwrap();
    assert!(
        out.status.success(),
        "{mode} #{iter} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill_9_never_corrupts_or_loses_objects() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hsmtls-token-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("token.conf"),
        format!(
            "pin_iterations = 1000\ntoken = {}\n",
            dir.join("t0").display()
        ),
    )
    .unwrap();
    let start = Instant::now();
    run(&dir, "init", 0);
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    for iter in 1..=20 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut w = child(&dir, "work", iter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100 + rng % 400));
        // SIGKILL on Unix.
        w.kill().unwrap();
        let status = w.wait().unwrap();
        assert!(
            status.code().is_none(),
            "worker #{iter} ended by itself: {status}"
        );
        run(&dir, "check", iter);
        assert!(start.elapsed() < Duration::from_secs(60), "too slow");
    }
    let text = std::fs::read_to_string(dir.join("log")).unwrap();
    let confirmed = text.lines().filter(|l| l.starts_with("C ")).count();
    assert!(confirmed > 20, "only {confirmed} objects created");
    let _ = std::fs::remove_dir_all(&dir);
}
