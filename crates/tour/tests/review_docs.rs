//! The scripts a reader runs by hand, as the README shows them:
//! scripts/samples.sh (rewrites a sample block, keeps the rest of the file
//! and its mode, leaves no temporary file). Each script runs with TMPDIR
//! set to a fresh directory, so that a temporary file it leaves behind is
//! found.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fresh directory, removed at the end; TMPDIR for a script.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("mmm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `bash SCRIPT ARGS` from the workspace root, TMPDIR=tmp: exit status,
/// stdout, stderr.
fn bash(script: &str, args: &[&str], tmp: &Scratch) -> (i32, String, String) {
    let o = Command::new("bash")
        .current_dir(root())
        .arg(script)
        .args(args)
        .env("TMPDIR", &tmp.0)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

#[test]
fn samples_sh_rewrites_the_sample_and_keeps_the_rest_and_the_mode() {
    let tmp = Scratch::new("samples-tmp");
    let docs = Scratch::new("samples-docs");
    let file = docs.0.join("README.md");
    let before = "# A lesson\n\nSome words.\n\n<!-- sample: stop -->\n";
    let after = "<!-- /sample -->\n\nMore words.\n";
    std::fs::write(
        &file,
        format!("{before}```text\nstale output\n```\n{after}"),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = bash("scripts/samples.sh", &[path], &tmp);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, format!("samples: {path}\n"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(&format!("{before}```text\n")), "{text}");
    assert!(text.ends_with(&format!("```\n{after}")), "{text}");
    assert!(!text.contains("stale output"), "{text}");
    // What `tour --no-aslr stop` shows: its command line and its maps.
    assert!(
        text.contains("\n$ setarch -R target/release/stop\n"),
        "{text}"
    );
    for line in ["00400000-00401000", "r-xp", "[stack]", "[vdso]"] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(
        !text.lines().any(|l| l.ends_with(' ')),
        "trailing blanks are cut"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the README keeps its mode");
    assert_eq!(tmp.entries(), Vec::<String>::new(), "no temporary file");
}
