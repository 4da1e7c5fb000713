//! Reading `prompts/`: every file becomes (name, kind, exact bytes, id), or an error that names
//! the file and says what to do. Nothing here rewrites bytes; CRLF, a BOM or NFD text only warn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use promptctl_core::{FileKind, ObjectId, PromptName};
use unicode_normalization::is_nfc;

#[derive(Debug, Clone)]
pub struct WorkFile {
    /// Path under the prompts folder, with `/` separators.
    pub path: String,
    pub name: PromptName,
    pub kind: FileKind,
    pub id: ObjectId,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct FileError {
    pub path: Option<String>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn at(path: Option<&str>, message: String) -> FileError {
    FileError { path: path.map(str::to_string), message }
}

#[derive(Debug, Default)]
pub struct Scan {
    pub files: BTreeMap<PromptName, WorkFile>,
    /// Problems, each with the path (under the prompts folder) of the file at fault, if any.
    pub errors: Vec<FileError>,
    pub warnings: Vec<String>,
}

/// Reads one prompt file's bytes with every check that does not need a template engine.
/// `display` is how the file is named in messages (e.g. `prompts/summarize.prompt.yaml`).
pub fn check_bytes(
    display: &str,
    kind: FileKind,
    bytes: &[u8],
    max: u64,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    if bytes.len() as u64 > max {
        return Err(format!(
            "{display}: file is {} bytes, over the {max}-byte limit (raise `max_file_bytes` in promptctl.yaml if this is intended)",
            bytes.len()
        ));
    }
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        return Err(format!("{display}: binary file (NUL byte at offset {pos}); prompt files must be text"));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            if text.starts_with('\u{feff}') {
                warnings.push(format!("{display}: starts with a UTF-8 byte-order mark (kept as is)"));
            }
            if text.contains("\r\n") {
                warnings.push(format!("{display}: has CRLF line endings (kept as is)"));
            }
            if !is_nfc(text) {
                warnings.push(format!("{display}: text is not in Unicode NFC form (kept as is)"));
            }
            Ok(())
        }
        Err(e) if kind != FileKind::Other => {
            Err(format!("{display}: not valid UTF-8 (first bad byte at offset {}); save it as UTF-8", e.valid_up_to()))
        }
        Err(_) => {
            warnings.push(format!("{display}: not UTF-8; stored as bytes (shown base64-encoded in JSON)"));
            Ok(())
        }
    }
}

/// Scans the prompts folder. Hidden files and folders (names starting with `.`) are skipped,
/// as editors and OSes leave them there (`.DS_Store`, `.gitkeep`).
pub fn scan(prompts_dir: &Path, label: &str, max_bytes: u64) -> Scan {
    let mut scan = Scan::default();
    let root = match prompts_dir.canonicalize() {
        Ok(r) => r,
        Err(e) => {
            scan.errors.push(at(None, format!("{label}: cannot read the prompts folder: {e}")));
            return scan;
        }
    };
    let mut stack: Vec<PathBuf> = vec![root.clone()];
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                scan.errors.push(at(None, format!("{}: {e}", dir.display())));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let fname = entry.file_name();
            let Some(fname) = fname.to_str() else {
                scan.errors.push(at(None, format!("{}: file name is not UTF-8; rename it", path.display())));
                continue;
            };
            if fname.starts_with('.') {
                continue;
            }
            let rel = match path.strip_prefix(&root) {
                Ok(r) => r.to_string_lossy().replace('\\', "/"),
                Err(_) => continue,
            };
            let shown = format!("{label}/{rel}");
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    scan.errors.push(at(Some(&rel), format!("{shown}: {e}")));
                    continue;
                }
            };
            if meta.file_type().is_symlink() {
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&root) => {
                        if target.is_dir() {
                            scan.warnings
                                .push(format!("{shown}: symlink to a folder inside the prompts folder; skipped"));
                        } else {
                            found.push((rel, target));
                        }
                    }
                    Ok(target) => scan.errors.push(at(
                        Some(&rel),
                        format!(
                            "{shown}: symlink leaves the prompts folder (points at {}); copy the file in instead",
                            target.display()
                        ),
                    )),
                    Err(e) => scan.errors.push(at(Some(&rel), format!("{shown}: broken symlink ({e})"))),
                }
            } else if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                found.push((rel, path));
            }
        }
    }
    found.sort();
    let mut by_name: BTreeMap<PromptName, String> = BTreeMap::new();
    for (rel, path) in found {
        let shown = format!("{label}/{rel}");
        let (name, kind) = match PromptName::from_path(&rel) {
            Ok(x) => x,
            Err(e) => {
                scan.errors.push(at(Some(&rel), format!("{shown}: {e}; rename the file")));
                continue;
            }
        };
        if let Some(other) = by_name.get(&name) {
            scan.errors.push(at(
                Some(&rel),
                format!("{shown}: prompt name `{name}` is also used by {label}/{other}; rename one of them"),
            ));
            continue;
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > max_bytes {
            scan.errors.push(at(
                Some(&rel),
                format!("{shown}: file is {size} bytes, over the {max_bytes}-byte limit (raise `max_file_bytes` in promptctl.yaml if this is intended)"),
            ));
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                scan.errors.push(at(Some(&rel), format!("{shown}: {e}")));
                continue;
            }
        };
        if let Err(e) = check_bytes(&shown, kind, &bytes, max_bytes, &mut scan.warnings) {
            scan.errors.push(at(Some(&rel), e));
            continue;
        }
        by_name.insert(name.clone(), rel.clone());
        let id = ObjectId::of_blob(&bytes);
        scan.files.insert(name.clone(), WorkFile { path: rel, name, kind, id, bytes });
    }
    scan
}
